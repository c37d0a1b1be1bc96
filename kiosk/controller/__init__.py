"""The kiosk's state machine: screen, reading position, speech settings, focus and the idle timer.

Split by what each part owns: the state's parts (state.py), the focus order of each screen
(focus.py), keeping the speaker and the reading position in step (reading.py) and the visit with
its idle clock (visit.py); the Controller here ties them together.

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
from dataclasses import replace
from typing import Unpack

from kiosk.config import Settings
from kiosk.controller.focus import focus_items, label_of, screen_lines
from kiosk.controller.reading import Reading, Utterance
from kiosk.controller.state import ControllerState, FocusItem, Screen, Speech, StateChange
from kiosk.controller.visit import Visit
from kiosk.engines import Listener, NullListener, NullSpeaker, Speaker
from kiosk.events import Event, EventSink, EventType, Heard, Reason, Sentence, event
from kiosk.inputs import KEYPAD, control_request, request_name
from kiosk.intents import Action, Intent, IntentName, Request, UiRequest
from kiosk.library import Library, Section
from kiosk.sentences import split_sentences
from kiosk.usage import DID_YOU_MEAN, UsageLog

Clock = Callable[[], float]

#: Seconds within which a second touch on the same target counts as a double tap.
DOUBLE_TAP_S = 0.6


class Controller:
    """Owns the kiosk's state; turns inputs and engine events into speech, screens and events."""

    def __init__(
        self,
        settings: Settings,
        library: Library,
        clock: Clock = time.monotonic,
        usage: UsageLog | None = None,
    ) -> None:
        self.settings = settings
        self.library = library
        self._clock = clock
        self.usage = usage if usage is not None else UsageLog(None)
        # The way the input being handled came in, for the usage figures.
        self._channel = "touch"
        self._sinks: list[EventSink] = []
        self.speaker: Speaker = NullSpeaker(self.on_engine_event)
        self.listener: Listener = NullListener(self.on_engine_event)
        self._state = self._fresh_state()
        self._reading = Reading()
        self._previous_screen = Screen.WELCOME
        self._visit = Visit(clock, self.usage)
        self._last_touch: tuple[str, float] | None = None
        self._introduced = False  # the how-to-start line was said in this visit
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
        }

    # ----- wiring -----------------------------------------------------------------------

    def _fresh_state(self) -> ControllerState:
        settings = self.settings
        return ControllerState(
            rate_wpm=settings.rate_wpm,
            volume_db=settings.volume_db,
            high_contrast=settings.high_contrast,
        )

    @property
    def state(self) -> ControllerState:
        """The current snapshot (immutable)."""
        return self._state

    def attach(self, speaker: Speaker, listener: Listener) -> None:
        """Use these engines from now on; they get the current rate and volume."""
        self.speaker = speaker
        self.listener = listener
        speaker.set_rate(self._state.rate_wpm)
        speaker.set_volume(self._state.volume_db)

    def subscribe(self, sink: EventSink) -> Callable[[], None]:
        """Receive every event the controller emits; returns a function that unsubscribes."""
        self._sinks.append(sink)
        return lambda: self._sinks.remove(sink) if sink in self._sinks else None

    def _emit(self, kind: EventType, **data: object) -> None:
        self._publish(event(kind, **data))

    def _publish(self, emitted: Event) -> None:
        for sink in list(self._sinks):
            sink(emitted)

    def _set(self, **changes: Unpack[StateChange]) -> None:
        self._state = replace(self._state, **changes)

    # ----- content helpers --------------------------------------------------------------

    def _section(self) -> Section | None:
        topic = self.library.find_topic(self._state.topic)
        if topic is None or self._state.section is None:
            return None
        try:
            return topic.section(self._state.section)
        except KeyError:
            return None

    def text(self, key: str, **values: object) -> str:
        """An interface string (from content/<lang>/strings.toml)."""
        return self.library.text(key, **values)

    # ----- speaking ---------------------------------------------------------------------

    def _speak(self, utterance: Utterance) -> None:
        """A new action stops old speech: the speaker replaces whatever it was saying."""
        self._reading.start(utterance)
        if self._state.sound_available:  # without sound nothing will report the end
            self._set(speech=Speech.SPEAKING)
            self.listener.set_deaf(True)
        self.speaker.speak(list(utterance.texts), utterance.start)

    def _say(self, key: str, *extra: str, **values: object) -> None:
        """Show and speak one interface line (plus any further lines)."""
        self._say_as("prompt", key, *extra, **values)

    def _say_as(self, kind: str, key: str, *extra: str, **values: object) -> None:
        """`_say`, as an utterance of `kind` ("question" opens the microphone once said)."""
        line = self.text(key, **values)
        self._set(prompt=line, prompt_key=key)
        self._emit(EventType.PROMPT, key=key, text=line)
        texts = (line, *extra)
        self._speak(Utterance.lines(kind, *texts))

    def _show(self, key: str, **values: object) -> None:
        """Show an interface line without speaking it (speaking would defeat pause or stop)."""
        line = self.text(key, **values)
        self._set(prompt=line, prompt_key=key)
        self._emit(EventType.PROMPT, key=key, text=line)

    def _silence(self) -> None:
        if self._state.speech is not Speech.IDLE:
            self.speaker.stop()
        self._reading.stop()
        self._set(speech=Speech.IDLE)
        self.listener.set_deaf(False)

    def _read_section(self, start: int = 0, *, intro: bool = True) -> None:
        section = self._section()
        if section is None:
            return
        start = max(0, min(start, len(section.sentences) - 1))
        texts = [self.text("screen.reader_intro", section=section.title)] if intro else []
        positions = [-1] if intro else []
        texts += [sentence.text for sentence in section.sentences]
        positions += list(range(len(section.sentences)))
        first = positions.index(start) if start > 0 or not intro else 0
        self._set(sentence=start, answer=None)
        self._emit_position()
        self._speak(Utterance("section", tuple(texts), tuple(positions), first))

    def _emit_position(self) -> None:
        state = self._state
        self._emit(
            EventType.READING_POSITION,
            topic=state.topic, section=state.section, sentence=state.sentence,
        )

    # ----- screens ----------------------------------------------------------------------

    def _go(self, screen: Screen, topic: str | None = None, section: str | None = None) -> None:
        if screen is Screen.HELP and self._state.screen is not Screen.HELP:
            self._previous_screen = self._state.screen
        # No focus yet: the first "down" on the keypad goes to the first item and says it.
        self._set(screen=screen, topic=topic, section=section, sentence=0, answer=None, focus=None)
        self._emit(EventType.SCREEN_CHANGED, screen=str(screen), topic=topic, section=section)

    def _open_topic(self, topic_id: str | None) -> None:
        topic = self.library.find_topic(topic_id)
        if topic is None:
            self._say("prompt.not_understood")
            return
        self._silence()
        self._set(reading_all=False)
        self._go(Screen.TOPIC, topic.id)
        self._say("screen.topic_intro", topic=topic.title)

    def _open_section(
        self, topic_id: str | None, section_id: str | None, *, read_all: bool
    ) -> None:
        topic = self.library.find_topic(topic_id)
        if topic is None or not topic.sections:
            self._say("prompt.not_understood")
            return
        if section_id is None:
            section_id = topic.sections[0].id
        if section_id not in {section.id for section in topic.sections}:
            self._say("prompt.not_understood")
            return
        self._go(Screen.READER, topic.id, section_id)
        self._set(reading_all=read_all)
        self._read_section(0)

    def _step_section(self, step: int) -> None:
        topic = self.library.find_topic(self._state.topic)
        section = self._section()
        if topic is None or section is None:
            return
        ids = [s.id for s in topic.sections]
        index = ids.index(section.id) + step
        if index < 0:
            self._read_section(0)  # "previous" on the first section reads it again
            return
        if index >= len(ids):
            self._silence()
            self._set(reading_all=False)
            self._say("screen.end_of_topic", topic=topic.title)
            return
        reading_all = self._state.reading_all
        self._go(Screen.READER, topic.id, ids[index])
        self._set(reading_all=reading_all)
        self._read_section(0)

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
        self._set(answer=answer, sentence=first, prompt=intro, prompt_key="screen.answer_intro")
        self._emit_position()
        self._speak(Utterance("answer", (intro, *parts), (-1, *positions)))

    def _screen_lines(self) -> list[str]:
        """Everything on the current screen, in reading order, for "Listen to this screen"."""
        return screen_lines(self._state, self.library)

    def focus_items(self) -> tuple[FocusItem, ...]:
        """The current screen's focus order; the UI gives each widget the same target."""
        return focus_items(self._state, self.library)

    def _label(self, target: str) -> str:
        return label_of(self.focus_items(), target)

    # ----- inputs: every one comes through handle() --------------------------------------

    def handle(self, request: Request, channel: str = "touch") -> None:
        """The one door for every input: a spoken or touched intent, or one of the kiosk's own
        actions (kiosk.intents.Action), and the way it came in (touch, keypad or voice)."""
        self._channel = channel
        self._activity()
        if channel == "keypad" and not self._state.speech_mode:
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
        request = KEYPAD.get(action)
        if request is None:
            self.note_activity()
            return
        self.handle(request, "keypad")

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

    def _usage_name(self, request: Request) -> str:
        """What an input is counted as: a control by what it does, not by "activate"."""
        if isinstance(request, UiRequest):
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
            self._set(prompt=lines[0], prompt_key="")
            self._speak(Utterance.lines("prompt", *lines))

    def _read_text(self, text: str | None) -> None:
        self._silence()
        if text and text.strip():
            self._speak(Utterance.lines("prompt", text))

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

    def _help(self, _intent: Intent) -> None:
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

    # ----- settings ---------------------------------------------------------------------

    def _settings_changed(self) -> None:
        state = self._state
        self._emit(
            EventType.SETTINGS_CHANGED,
            rate=state.rate_wpm, rate_wpm=state.rate_wpm, volume_db=state.volume_db,
            volume_step=round(
                (state.volume_db - self.settings.volume_db) / self.settings.volume_step_db
            ),
            text_scale=state.text_scale, high_contrast=state.high_contrast,
        )

    def _reading_content(self) -> bool:
        """True while content (not just an interface line) is being spoken or is paused."""
        return self._state.speech is not Speech.IDLE and not self._reading.speaking_a_prompt

    def _confirm(self, key: str) -> None:
        """Say the new setting, unless reading is going on (which then carries it)."""
        if not self._reading_content():
            self._silence()
            self._say(key)

    def _change_rate(self, step: int) -> None:
        settings = self.settings
        rate = self._state.rate_wpm + step * settings.rate_step_wpm
        rate = max(settings.rate_min_wpm, min(settings.rate_max_wpm, rate))
        if rate == self._state.rate_wpm:
            self._silence()
            self._say("prompt.at_fastest" if step > 0 else "prompt.at_slowest")
            return
        self._set(rate_wpm=rate)
        self.speaker.set_rate(rate)
        self._settings_changed()
        self._confirm("button.faster" if step > 0 else "button.slower")

    def _change_volume(self, step: int) -> None:
        settings = self.settings
        volume = self._state.volume_db + step * settings.volume_step_db
        volume = max(settings.volume_min_db, min(0.0, volume))
        if volume == self._state.volume_db:
            self._silence()
            self._say("prompt.at_loudest" if step > 0 else "prompt.at_quietest")
            return
        self._set(volume_db=volume)
        self.speaker.set_volume(volume)
        self._settings_changed()
        self._confirm("button.louder" if step > 0 else "button.quieter")

    def _text_size(self) -> None:
        steps = self.settings.text_scale_steps
        step = (self._state.text_step + 1) % (steps + 1)
        self._set(text_step=step, text_scale=1.0 + step / steps)
        self._settings_changed()
        self._confirm_line("prompt.text_size", step=step + 1, steps=steps + 1)

    def _contrast(self) -> None:
        on = not self._state.high_contrast
        self._set(high_contrast=on)
        self._settings_changed()
        self._confirm_line("prompt.high_contrast_on" if on else "prompt.high_contrast_off")

    def _confirm_line(self, key: str, **values: object) -> None:
        if not self._reading_content():
            self._silence()
            self._say(key, **values)
        else:
            self._show(key, **values)

    # ----- the idle timer and the end of a visit -------------------------------------

    def _activity(self) -> None:
        self._visit.activity()
        if self._state.idle_seconds_left is not None:
            self._set(idle_seconds_left=None)
            self._emit(EventType.IDLE_WARNING, seconds_left=None)

    @property
    def visit_active(self) -> bool:
        """Whether someone is using the kiosk (a visit started and has not timed out)."""
        return self._visit.active

    def note_activity(self) -> None:
        """Any touch or key, even one that does nothing else, means someone is there."""
        self._activity()

    def _extend_visit(self) -> None:
        self._silence()
        self._say("prompt.continued")

    def tick(self) -> None:
        """Called about twice a second by the UI clock: warns, then ends an idle visit."""
        if not self._visit.active:
            return
        idle = self._visit.idle_s()
        settings = self.settings
        warn_at = settings.idle_timeout_s - settings.idle_warning_s
        if idle >= settings.idle_timeout_s:
            self.end_visit()
        elif idle >= warn_at:
            left = max(1, round(settings.idle_timeout_s - idle))
            first = self._state.idle_seconds_left is None
            self._set(idle_seconds_left=left)
            self._emit(EventType.IDLE_WARNING, seconds_left=left)
            if first:
                items = self.focus_items()
                self._set(focus=items[0].target)
                self._say("prompt.idle_warning", seconds=left)
                self._visit.keep_idle(idle)  # the warning itself is not activity

    def end_visit(self) -> None:
        """Forget the visitor: welcome screen, default volume, rate, text size and contrast."""
        self._silence()
        self.listener.stop_listening()
        sound, microphone = self._state.sound_available, self._state.microphone_available
        status = self._state.status
        self._state = replace(
            self._fresh_state(), sound_available=sound, microphone_available=microphone,
            status=status,
        )
        self._reading.forget()
        self._last_touch = None
        self._introduced = False
        self._previous_screen = Screen.WELCOME
        self.speaker.set_rate(self._state.rate_wpm)
        self.speaker.set_volume(self._state.volume_db)
        self._go(Screen.WELCOME)
        self._settings_changed()
        self._emit(EventType.VISIT_ENDED)
        self._visit.end()
        self._say("prompt.visit_ended")
        self.usage.save()

    # ----- engine events ----------------------------------------------------------------

    def on_engine_event(self, engine_event: Event) -> None:
        """An event from the Speaker or the Listener (call on the controller's thread)."""
        kind, payload = engine_event.type, engine_event.payload
        if isinstance(payload, Sentence) and kind is EventType.SENTENCE_STARTED:
            self._sentence_started(payload.index, payload.text)
        elif kind is EventType.SPEECH_FINISHED:
            self._speech_finished()
        elif kind is EventType.SPEECH_PAUSED and self._state.speech is Speech.SPEAKING:
            self._set(speech=Speech.PAUSED)
        elif kind is EventType.SOUND_UNAVAILABLE:
            self._set(sound_available=False, speech=Speech.IDLE,
                      status=self.text("status.sound_unavailable"))
            self._emit(EventType.PROMPT, key="status.sound_unavailable", text=self._state.status)
        elif kind is EventType.SOUND_AVAILABLE and not self._state.sound_available:
            self._set(sound_available=True, status=self._mic_status())
            self._say("status.sound_back")
        elif kind is EventType.MICROPHONE_UNAVAILABLE:
            was = self._state.microphone_available
            self._set(microphone_available=False, listening=False)
            self._set(status=self._state.status or self.text("status.microphone_unavailable"))
            if was:
                self._silence()
                self._say("status.microphone_unavailable")
        elif kind is EventType.MICROPHONE_AVAILABLE and not self._state.microphone_available:
            self._set(microphone_available=True)
            if self._state.sound_available:
                self._set(status="")
            self._say("status.microphone_back")
        elif kind is EventType.LISTENING_STARTED:
            self._set(listening=True)
        elif kind is EventType.LISTENING_STOPPED:
            self._set(listening=False)
            if self._state.prompt_key == "prompt.listening":
                self._set(prompt="", prompt_key="")  # it no longer listens: do not say it does
        elif isinstance(payload, Heard):
            self._set(listening=False)
            intent = payload.intent
            if intent is not None:
                self.speaker.earcon("understood")
                self._emit(kind)  # the UI redraws; the intent itself is not passed on
                if intent.reply in ("yes", "no") and self._state.maybe is not None:
                    self.handle(UiRequest(Action(intent.reply)), "voice")
                elif intent.maybe is not None:
                    self._ask(intent.maybe)
                elif intent.reply is not None:
                    self._not_understood()  # a yes or no to nothing that was asked
                else:
                    self.handle(intent, "voice")
                return
        elif isinstance(payload, Reason) and kind is EventType.NOT_UNDERSTOOD:
            self._set(listening=False)
            if payload.reason != "timeout":  # nobody spoke: nothing was misunderstood
                self.usage.intent(IntentName.NONE.value, "voice")
            self._not_understood()
        # Pass engine state on so the UI can redraw (a heard intent returned above: its words
        # never go further).
        self._publish(event(kind) if isinstance(payload, Heard) else engine_event)

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

    def _mic_status(self) -> str:
        if self._state.microphone_available:
            return ""
        return self.text("status.microphone_unavailable")

    def _sentence_started(self, index: int, text: str) -> None:
        started = self._reading.sentence_started(index, text)
        if started is None:
            return
        kind, position = started
        if kind != "prompt":
            self._visit.listened()
        if position >= 0 and position != self._state.sentence:
            self._set(sentence=position)
            self._emit_position()

    def _speech_finished(self) -> None:
        if self._state.speech is not Speech.SPEAKING:
            return
        utterance = self._reading.finished()
        if utterance is None:
            return
        self._set(speech=Speech.IDLE)
        self.listener.set_deaf(False)
        if utterance.kind == "question" and self._state.microphone_available:
            # The answer is spoken without pressing Talk again.
            self.speaker.earcon("listening")
            self.listener.start_listening()
        if utterance.kind != "section":
            return
        if self._state.reading_all:
            self._step_section(+1)
        else:
            self.speaker.earcon("end_of_section")
            self._say("screen.end_of_section")


__all__ = ["Controller", "ControllerState", "FocusItem", "Screen", "Speech"]
