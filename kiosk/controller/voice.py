"""What a visitor says: a heard intent, "Did you mean ...?" with its yes and no, and the answer
to a question read out of the content.

The listener's words end here: an intent it heard is acted on through `handle` (the voice
channel), asked about when the understanding was not sure, or reported as not understood.
"""

from __future__ import annotations

from kiosk.controller.core import ControllerCore
from kiosk.controller.reading import Utterance
from kiosk.controller.state import Screen
from kiosk.events import EventType
from kiosk.intents import Action, Intent, IntentName, UiRequest
from kiosk.library import Section
from kiosk.sentences import split_sentences
from kiosk.usage import DID_YOU_MEAN


class VoiceMixin(ControllerCore):
    """Heard intents, "Did you mean ...?", and answers to questions."""

    def _heard(self, intent: Intent) -> None:
        """The listener understood something: act on it, ask about it, or say it was not."""
        self.speaker.earcon("understood")
        self._emit(EventType.HEARD)  # the UI redraws; the intent itself is not passed on
        if intent.reply in ("yes", "no") and self._state.maybe is not None:
            self.handle(UiRequest(Action(intent.reply)), "voice")
        elif intent.maybe is not None:
            self._ask(intent.maybe)
        elif intent.reply is not None:
            self._not_understood()  # a yes or no to nothing that was asked
        else:
            self.handle(intent, "voice")

    def _not_heard(self, reason: str) -> None:
        """The listener heard nothing it understood ("timeout": nobody spoke)."""
        self._set(listening=False)
        if reason != "timeout":  # nobody spoke: nothing was misunderstood
            self.usage.intent(IntentName.NONE.value, "voice")
        self._not_understood()

    def _not_understood(self) -> None:
        self.speaker.earcon("not_understood")
        self._say("prompt.not_understood")

    # ----- "Did you mean ...?" ----------------------------------------------------------

    def meaning(self, intent: Intent) -> str:
        """A few words for what an intent does ("second opinions", "go to the next section")."""
        if intent.name is IntentName.TOPIC:
            topic = self.library.find_topic(intent.topic)
            return topic.title if topic is not None else ""
        if intent.name is IntentName.SECTION:
            topic = self.library.find_topic(intent.topic or self._state.topic)
            found = next((section for section in topic.sections if section.id == intent.section),
                         None) if topic is not None else None
            return found.title if found is not None else ""
        return self.text(f"meaning.{intent.name.value}")

    def _ask(self, maybe: Intent) -> None:
        """Not sure what was said: ask once, rather than act wrongly or say "didn't catch that"."""
        meaning = self.meaning(maybe)
        if not meaning:
            self._not_understood()
            return
        self.usage.intent(DID_YOU_MEAN, "voice")
        self._silence()
        self._set(maybe=maybe, focus="yes")
        self._say_as("question", "prompt.did_you_mean", meaning=meaning)

    def _reply(self, answer: str) -> None:
        """Yes does what was asked about; no asks the visitor to say it again."""
        maybe = self._state.maybe
        if maybe is None:
            return
        self._set(maybe=None, focus=None)
        if answer == "yes":
            self.handle(maybe, self._channel)  # counted too: what the visitor chose
            return
        self._silence()
        self._say_as("question", "prompt.say_again")


    # ----- answers to questions ---------------------------------------------------------

    def _answer(self, intent: Intent) -> None:
        answer = (intent.answer or "").strip()
        if not answer:
            self._say("prompt.not_understood")
            return
        topic = self.library.find_topic(intent.topic)
        section: Section | None = None
        if topic is not None and intent.section:
            try:
                section = topic.section(intent.section)
            except KeyError:
                section = None
        if topic is None or section is None:
            self._silence()
            self._set(prompt=answer, prompt_key="", answer=answer)
            self._speak(Utterance.lines("answer", answer))
            return
        self._go(Screen.READER, topic.id, section.id)
        self._set(reading_all=False)
        # Speak the passage sentence by sentence; where it quotes the section, highlight follows.
        by_text = {s.text: i for i, s in enumerate(section.sentences)}
        # One line a paragraph or a list item (kiosk.understanding.passage_text).
        parts = [part for line in answer.splitlines() for part in split_sentences(line)] or [answer]
        positions = [by_text.get(part, -1) for part in parts]
        first = next((p for p in positions if p >= 0), 0)
        intro = self.text("screen.answer_intro", section=section.title)
        self._set(answer=answer, asked=intent.heard, sentence=first, prompt=intro,
                  prompt_key="screen.answer_intro")
        self._emit_position()
        self._speak(Utterance("answer", (intro, *parts), (-1, *positions)))
