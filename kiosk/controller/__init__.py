"""The kiosk's state machine: screen, reading position, speech settings, focus and the idle timer.

Split by what each part owns:
- state.py: the state's parts and the snapshot the UI draws;
- core.py: the state and the engines, the events emitted, speaking a line, moving between screens;
- focus.py: the focus order of each screen, and what "Listen to this screen" reads;
- reading.py: keeping the speaker and the reading position in step;
- settings.py: rate, volume, text size and contrast, confirmed aloud;
- visit.py: the visit, its idle clock and warning, and forgetting the visitor at its end;
- voice.py: what was heard, "Did you mean ...?" with yes and no, and answers to questions;
- engine_events.py: what the speaker and the listener report;
and the Controller here, built on those parts, with the inputs' one dispatch table.

Every input (touch, keypad, voice) comes in through `handle`, as an Intent or one of the kiosk's
own actions (kiosk.intents.Action; kiosk.inputs holds the keypad's and the controls' tables), and
is counted there in the usage figures; engine events (speech heard, words recognised, devices
lost) come in through `on_engine_event`, and a heard intent goes on to `handle`.
The controller imports no Kivy and no audio library: the UI draws `state` and the tests record
the events it emits. It is not thread-safe: callers marshal engine events onto one thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.config import Settings
from kiosk.controller.core import Clock
from kiosk.controller.engine_events import EngineEventsMixin
from kiosk.controller.reading import Utterance
from kiosk.controller.settings import SettingsMixin
from kiosk.controller.state import SCREEN_LINES, ControllerState, FocusItem, Screen, Speech
from kiosk.controller.visit import Visit, VisitMixin
from kiosk.controller.voice import VoiceMixin
from kiosk.events import EventType
from kiosk.inputs import KEYPAD, control_request, request_name
from kiosk.intents import Action, Intent, IntentName, Request, UiRequest
from kiosk.library import Library
from kiosk.usage import UsageLog

#: Seconds within which a second touch on the same target counts as a double tap.
DOUBLE_TAP_S = 0.6


class Controller(EngineEventsMixin, VoiceMixin, VisitMixin, SettingsMixin):
    """Owns the kiosk's state; turns inputs and engine events into speech, screens and events."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        clock: Clock = time.monotonic,
        usage: UsageLog | None = None,
    ) -> None:
        usage = usage if usage is not None else UsageLog(None)
        super().__init__(settings, library, clock, usage)
        self._visit = Visit(clock, usage)
        # What each input does: the one table each of intents and actions dispatch through.
        self._intent_handlers: dict[IntentName, Callable[[Intent], None]] = {
            IntentName.TOPIC: self._topic_intent,
            IntentName.SECTION: self._section_intent,
            IntentName.ASK: self._ask_intent,
            IntentName.NEXT: self._step,
            IntentName.PREVIOUS: self._step,
            IntentName.REPEAT: lambda _intent: self._repeat(),
            IntentName.PAUSE: self._pause,
            IntentName.RESUME: lambda _intent: self._resume(),
            IntentName.STOP: self._stop,
            IntentName.HOME: self._home,
            IntentName.HELP: self._help,
            IntentName.SLOWER: lambda _intent: self._change_rate(-1),
            IntentName.FASTER: lambda _intent: self._change_rate(+1),
            IntentName.QUIETER: lambda _intent: self._change_volume(-1),
            IntentName.LOUDER: lambda _intent: self._change_volume(+1),
        }
        self._action_handlers: dict[Action, Callable[[str | None], None]] = {
            Action.TALK: self._talk,
            Action.LISTEN_SCREEN: self._listen_to_screen,
            Action.READ_ALL: self._read_all,
            Action.LISTEN: lambda _target: self._toggle_listen(),
            Action.PLAY_PAUSE: self._play_pause,
            Action.BACK: lambda _target: self._back(),
            Action.TEXT_SIZE: lambda _target: self._text_size(),
            Action.HIGH_CONTRAST: lambda _target: self._contrast(),
            Action.CONTINUE: lambda _target: self._extend_visit(),
            Action.YES: lambda _target: self._reply("yes"),
            Action.NO: lambda _target: self._reply("no"),
            Action.FOCUS: self._focus,
            Action.FOCUS_NEXT: lambda _target: self._move_focus(+1),
            Action.FOCUS_PREVIOUS: lambda _target: self._move_focus(-1),
            Action.ACTIVATE: self._activate,
            Action.READ_TEXT: self._read_text,
            Action.WHERE_AM_I: lambda _target: self._where_am_i(),
            Action.ADJUST: lambda _target: self._adjust(),
            Action.READ_SECTION: lambda _target: self._read_answer_section(),
            Action.ASK_ANOTHER: self._talk,
            Action.PRESENCE: lambda _target: None,  # handle() has already restarted the clock
        }

    # ----- inputs: every one comes through handle() --------------------------------------

    def handle(self, request: Request, channel: str = "touch") -> None:
        """The one door for every input: a spoken or touched intent, or one of the kiosk's own
        actions (kiosk.intents.Action), and the way it came in (touch, keypad or voice)."""
        self._channel = channel
        self._activity()
        presence = isinstance(request, UiRequest) and request.action is Action.PRESENCE
        if channel == "keypad" and not presence and not self._state.speech_mode:
            self._set(speech_mode=True)  # any keypad use starts speech mode, as EZ Access does
        self.usage.intent(self._usage_name(request), channel)
        self._dispatch(request)

    def touch(self, target: str) -> None:
        """A touch on a control: it acts; in touch-to-hear mode the first touch says what it is
        and a second within DOUBLE_TAP_S acts."""
        now = self._clock()
        last = self._last_touch
        if self._state.speech_mode and not (
            last is not None and last[0] == target and now - last[1] <= DOUBLE_TAP_S
        ):
            self._last_touch = (target, now)
            self.handle(UiRequest(Action.FOCUS, target), "touch")
            return
        self._last_touch = None
        self.handle(UiRequest(Action.ACTIVATE, target), "touch")

    def key(self, action: str) -> None:
        """A keypad action from settings.keypad (up, down, activate, back, help, talk, ...)."""
        self.handle(KEYPAD.get(action, UiRequest(Action.PRESENCE)), "keypad")

    def activate(self, target: str) -> None:
        """Do what the control `target` does (by touch, unless `handle` is told otherwise)."""
        self.handle(UiRequest(Action.ACTIVATE, target))

    def talk(self) -> None:
        """Push-to-talk: stop speaking and open the microphone for one utterance."""
        self.handle(UiRequest(Action.TALK))

    def listen_to_screen(self) -> None:
        """Speak everything on the current screen (the reader reads its section)."""
        self.handle(UiRequest(Action.LISTEN_SCREEN))

    def read_aloud(self, text: str) -> None:
        """Touch-to-hear on text that is not a control: speak it as shown."""
        self.handle(UiRequest(Action.READ_TEXT, text))

    def note_activity(self, channel: str = "touch") -> None:
        """Any touch or key, even one that does nothing else, means someone is there."""
        self.handle(UiRequest(Action.PRESENCE), channel)

    def _usage_name(self, request: Request) -> str:
        """What an input is counted as: a control by what it does, not by "activate"."""
        if isinstance(request, Intent) and request.action is not None:
            return request.action.value  # "where am I" by voice counts as where_am_i
        if isinstance(request, UiRequest):
            if request.action is Action.PRESENCE:
                return ""  # not a request for anything: not counted
            if request.action is Action.ACTIVATE:
                target = request.target or self._state.focus
                if target is None:
                    return Action.FOCUS_NEXT.value  # nothing focused: the first item is
                found = control_request(target)
                return request_name(found) if found is not None else ""  # nothing: not counted
            if request.action is Action.PLAY_PAUSE:
                reader = self._state.screen is Screen.READER
                return Action.LISTEN.value if reader else IntentName.PAUSE.value
        return request_name(request)

    def _dispatch(self, request: Request) -> None:
        """Act on a request through the table of what each intent and action does."""
        if isinstance(request, Intent):
            if self._state.maybe is not None:
                self._set(maybe=None, focus=None)  # acting on anything else drops the question
            self._intent_handlers.get(request.name, self._out_of_scope)(request)
        else:
            self._action_handlers[request.action](request.target)

    # ----- what each action does ----------------------------------------------------------

    def _focus(self, target: str | None) -> None:
        """Move the focus to `target` and speak its label (every focus change is spoken)."""
        if target is None:
            return
        label = self._label(target)
        self._set(focus=target, speech_mode=True)
        self._emit(EventType.FOCUS_CHANGED, target=target, label=label)
        self._silence()
        self._reading.last_spoken = (label,)
        texts: tuple[str, ...] = (label,)
        if not self._introduced:
            # The first move of a visit also says how to use the kiosk without sight.
            self._introduced = True
            texts = (self.text("screen.how_to_start"), label)
        self._speak(Utterance.lines("prompt", *texts))

    def _move_focus(self, step: int) -> None:
        """Keypad up/down: the next or previous item, wrapping round."""
        items = self.focus_items()
        if not items:
            return
        targets = [item.target for item in items]
        current = self._state.focus
        index = targets.index(current) + step if current in targets else (0 if step > 0 else -1)
        self._focus(targets[index % len(targets)])

    def _activate(self, target: str | None) -> None:
        """Do what a control does; without a target, what the focused one does."""
        if target is None:
            target = self._state.focus
            if target is None:
                self._move_focus(+1)  # nothing focused yet: the first item
                return
        if any(item.target == target for item in self.focus_items()):
            self._set(focus=target)
        request = control_request(target)
        if request is not None:
            self._dispatch(request)

    def _play_pause(self, _target: str | None) -> None:
        self._activate("listen" if self._state.screen is Screen.READER else "pause")

    def _talk(self, _target: str | None = None) -> None:
        self._silence()
        self._set(speech_mode=True)
        if not self._state.microphone_available:
            self._say("status.microphone_unavailable")
            return
        self.speaker.earcon("listening")
        self._show("prompt.listening")
        self.listener.start_listening()

    def _listen_to_screen(self, _target: str | None = None) -> None:
        self._set(speech_mode=True)
        if self._state.screen is Screen.READER:
            self._silence()
            self._read_section(self._state.sentence)
            return
        lines = self._screen_lines()
        self._introduced = True  # the welcome screen's lines include how to start
        self._silence()
        if lines:
            self._set(prompt=lines[0], prompt_key=SCREEN_LINES)
            self._speak(Utterance.lines("prompt", *lines))

    def _read_text(self, text: str | None) -> None:
        self._silence()
        if text and text.strip():
            self._speak(Utterance.lines("prompt", text))

    def _where_am_i(self) -> None:
        """Say where the visitor is; a section being read goes on after it, from the sentence
        it had reached."""
        lines = self._where_lines()
        reading = self._reading_content() and self._state.answer is None
        self._silence()
        self._set(prompt=lines[0], prompt_key="")
        self._emit(EventType.PROMPT, key="", text=lines[0])
        if reading and self._state.screen is Screen.READER:
            self._read_section(self._state.sentence, lead=tuple(lines))
        else:
            self._speak(Utterance.lines("prompt", *lines))

    def _read_answer_section(self) -> None:
        """After an answer, the whole section it came from, from its start."""
        self._silence()
        self._open_section(self._state.topic, self._state.section, read_all=False)

    def _read_all(self, _target: str | None) -> None:
        self._silence()
        self._open_section(self._state.topic, None, read_all=True)

    # ----- what each intent does ------------------------------------------------------------

    def _topic_intent(self, intent: Intent) -> None:
        self._open_topic(intent.topic)

    def _section_intent(self, intent: Intent) -> None:
        self._silence()
        self._open_section(intent.topic or self._state.topic, intent.section, read_all=False)

    def _ask_intent(self, intent: Intent) -> None:
        self._silence()
        self._answer(intent)

    def _step(self, intent: Intent) -> None:
        step = 1 if intent.name is IntentName.NEXT else -1
        if self._state.screen is Screen.READER:
            self._silence()
            self._step_section(step)
        else:
            self._move_focus(step)

    def _pause(self, _intent: Intent | None = None) -> None:
        if self._state.speech is Speech.SPEAKING:
            self.speaker.pause()
            self.listener.set_deaf(False)
            self._set(speech=Speech.PAUSED)
            self._show("prompt.paused")

    def _stop(self, _intent: Intent) -> None:
        self._silence()
        self._set(reading_all=False)
        self._show("prompt.stopped")

    def _home(self, _intent: Intent | None = None) -> None:
        self._silence()
        self._set(reading_all=False)
        self._go(Screen.WELCOME)
        self._say("screen.welcome")

    def _help(self, intent: Intent) -> None:
        if intent.action is not None:  # "where am I", "adjust": help with an action of its own
            self._action_handlers[intent.action](None)
            return
        self._silence()
        self._go(Screen.HELP, self._state.topic, self._state.section)
        self._listen_to_screen()

    def _out_of_scope(self, _intent: Intent) -> None:
        self._silence()
        self._say("prompt.out_of_scope")

    def _toggle_listen(self) -> None:
        speech = self._state.speech
        if speech is Speech.SPEAKING:
            self._pause()
        else:
            self._resume()

    def _resume(self) -> None:
        state = self._state
        if state.speech is Speech.PAUSED:
            self.speaker.resume()
            self.listener.set_deaf(True)
            self._set(speech=Speech.SPEAKING)
            self._set(prompt="", prompt_key="")
            self._emit(EventType.PROMPT, key="", text="")
        elif state.screen is Screen.READER and state.speech is Speech.IDLE:
            self._read_section(state.sentence, intro=state.sentence == 0)

    def _repeat(self) -> None:
        """Say the last sentence again: in the reader the highlighted one, else the last line;
        with nothing said yet (a fresh start, or new content just taken), the screen itself: a
        visitor who asks to hear it again must never get silence."""
        section = self._section()
        self._silence()
        in_section = section is not None and self._state.answer is None
        if self._state.screen is Screen.READER and section is not None and in_section:
            index = self._state.sentence
            self._speak(Utterance("repeat", (section.sentences[index].text,), (index,)))
        elif self._reading.last_spoken:
            self._speak(Utterance.lines("prompt", *self._reading.last_spoken[-1:]))
        else:
            self._listen_to_screen()

    def _back(self) -> None:
        state = self._state
        if state.maybe is not None:
            self._reply("no")  # Back to "Did you mean ...?" is no
            return
        if state.adjusting:
            self._adjust()  # Back closes the Adjust panel
            return
        self._silence()
        if state.screen is Screen.HELP:
            previous = self._previous_screen
            self._go(previous, state.topic, state.section)
            self._say("screen.welcome") if previous is Screen.WELCOME else self._listen_to_screen()
        elif state.screen is Screen.READER:
            self._set(reading_all=False)
            self._open_topic(state.topic)
        else:
            self._home()


__all__ = ["SCREEN_LINES", "Controller", "ControllerState", "FocusItem", "Screen", "Speech"]
