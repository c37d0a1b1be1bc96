"""What every part of the controller stands on: the state and the engines, the events it emits,
speaking and showing a line, and moving between screens.

ControllerCore holds the snapshot the UI draws (`state`, changed only through `_set`), the
engines it speaks and listens with, and the subscribers to its events. The parts built on it
(settings.py, visit.py, voice.py, engine_events.py) and the Controller in __init__.py use these
primitives; the two doors in, `handle` (every input) and `on_engine_event` (what the engines
report), are declared here and implemented by the Controller and by engine_events.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import replace
from typing import Unpack

from kiosk.config import Settings
from kiosk.controller.focus import focus_items, label_of, screen_lines, where_lines
from kiosk.controller.reading import Reading, Utterance
from kiosk.controller.state import ControllerState, FocusItem, Screen, Speech, StateChange
from kiosk.engines import Listener, NullListener, NullSpeaker, Speaker
from kiosk.events import Event, EventSink, EventType, event
from kiosk.intents import Request
from kiosk.library import Library, Section
from kiosk.usage import UsageLog

Clock = Callable[[], float]


class ControllerCore(ABC):
    """The state, the engines and the events, with the primitives every part speaks through."""

    def __init__(self, settings: Settings, library: Library, clock: Clock, usage: UsageLog) -> None:
        self.settings = settings
        self.library = library
        self._clock = clock
        self.usage = usage
        # The way the input being handled came in, for the usage figures.
        self._channel = "touch"
        self._sinks: list[EventSink] = []
        self.speaker: Speaker = NullSpeaker(self.on_engine_event)
        self.listener: Listener = NullListener(self.on_engine_event)
        self._state = self._fresh_state()
        self._reading = Reading()
        # What the visitor did, forgotten when the visit ends (visit.py): the screen Help came
        # from, the last touch (for a double tap), and whether how-to-start was said.
        self._previous_screen = Screen.WELCOME
        self._last_touch: tuple[str, float] | None = None
        self._introduced = False
        # Whether closing the Adjust panel goes on with the reading it interrupted.
        self._resume_after_adjusting = False

    # ----- the two doors in ----------------------------------------------------------------

    @abstractmethod
    def handle(self, request: Request, channel: str = "touch") -> None:
        """The one door for every input (the Controller's dispatch table)."""

    @abstractmethod
    def on_engine_event(self, engine_event: Event) -> None:
        """An event from the Speaker or the Listener (engine_events.py)."""

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

    def _read_section(
        self, start: int = 0, *, intro: bool = True, lead: tuple[str, ...] = ()
    ) -> None:
        """Read the section from sentence `start`: after its title (`intro`), or after the
        interface lines `lead` (then from `start` itself, as "where am I" goes on reading)."""
        section = self._section()
        if section is None:
            return
        start = max(0, min(start, len(section.sentences) - 1))
        if lead:
            texts = [*lead, *(sentence.text for sentence in section.sentences[start:])]
            positions = [-1] * len(lead) + list(range(start, len(section.sentences)))
            first = 0
        else:
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
        self._set(screen=screen, topic=topic, section=section, sentence=0, answer=None,
                  asked=None, focus=None)
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

    # ----- what is on the screen --------------------------------------------------------

    def _screen_lines(self) -> list[str]:
        """Everything on the current screen, in reading order, for "Listen to this screen"."""
        return screen_lines(self._state, self.library)

    def _where_lines(self) -> list[str]:
        """Where the visitor is, for "where am I"."""
        return where_lines(self._state, self.library)

    def focus_items(self) -> tuple[FocusItem, ...]:
        """The current screen's focus order; the UI gives each widget the same target."""
        return focus_items(self._state, self.library)

    def _label(self, target: str) -> str:
        return label_of(self.focus_items(), target)

    def _settings_changed(self) -> None:
        """Tell the UI the speech and display settings (after a change, and when a visit ends)."""
        state = self._state
        self._emit(
            EventType.SETTINGS_CHANGED,
            rate=state.rate_wpm, rate_wpm=state.rate_wpm, volume_db=state.volume_db,
            volume_step=round(
                (state.volume_db - self.settings.volume_db) / self.settings.volume_step_db
            ),
            text_scale=state.text_scale, high_contrast=state.high_contrast,
            adjusting=state.adjusting,
        )
