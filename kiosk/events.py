"""One typed event vocabulary shared by the engines, the controller and the UI.

Engines (speech, listening) emit events to a callback; the controller consumes them and emits its
own. Tests record the sequence and compare it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from kiosk.intents import Intent


class EventType(StrEnum):
    """Everything that can happen, from any part of the kiosk."""

    # Speech output (emitted by a Speaker, in step with what is actually heard).
    SENTENCE_STARTED = "sentence_started"  # data: index, text
    WORD_STARTED = "word_started"  # data: index (sentence), char_start, char_end
    SENTENCE_FINISHED = "sentence_finished"  # data: index
    SPEECH_FINISHED = "speech_finished"  # the whole queue was heard to the end
    SPEECH_STOPPED = "speech_stopped"  # cut off by stop() or by newer speech
    SPEECH_PAUSED = "speech_paused"  # data: index (the sentence that resume() restarts)
    SOUND_UNAVAILABLE = "sound_unavailable"  # data: reason
    SOUND_AVAILABLE = "sound_available"

    # Speech input (emitted by a Listener).
    LISTENING_STARTED = "listening_started"
    LISTENING_STOPPED = "listening_stopped"
    HEARD = "heard"  # data: intent (kiosk.intents.Intent); never the audio
    NOT_UNDERSTOOD = "not_understood"
    MICROPHONE_UNAVAILABLE = "microphone_unavailable"  # data: reason
    MICROPHONE_AVAILABLE = "microphone_available"

    # Controller state, for the UI.
    SCREEN_CHANGED = "screen_changed"  # data: screen, topic, section
    READING_POSITION = "reading_position"  # data: topic, section, sentence
    SETTINGS_CHANGED = "settings_changed"  # data: rate, volume_step, text_scale, high_contrast
    PROMPT = "prompt"  # data: key, text (an interface line shown and spoken)
    FOCUS_CHANGED = "focus_changed"  # data: target, label
    IDLE_WARNING = "idle_warning"  # data: seconds_left
    VISIT_ENDED = "visit_ended"
    ERROR = "error"  # data: code, message


# ----- payloads: one dataclass per event that carries data -----------------------------------


@dataclass(frozen=True, slots=True)
class Sentence:
    """SENTENCE_STARTED, SENTENCE_FINISHED, SPEECH_PAUSED: which queued sentence (and its text,
    when it starts)."""

    index: int
    text: str = ""


@dataclass(frozen=True, slots=True)
class Word:
    """WORD_STARTED: a word of sentence `index`, by its characters in the sentence."""

    index: int
    char_start: int
    char_end: int


@dataclass(frozen=True, slots=True)
class Reason:
    """SOUND_UNAVAILABLE, MICROPHONE_UNAVAILABLE, NOT_UNDERSTOOD: why, in a few words."""

    reason: str = ""


@dataclass(frozen=True, slots=True)
class Heard:
    """HEARD: what a visitor's words meant; never the audio. The controller passes the event on
    to the UI without it (the intent holds the words heard)."""

    intent: Intent | None = None


@dataclass(frozen=True, slots=True)
class ScreenShown:
    """SCREEN_CHANGED."""

    screen: str
    topic: str | None = None
    section: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    """READING_POSITION: the sentence of a section being heard."""

    topic: str | None
    section: str | None
    sentence: int


@dataclass(frozen=True, slots=True)
class SettingsShown:
    """SETTINGS_CHANGED: the visitor's speech and display settings, and whether the Adjust panel
    that shows them is open."""

    rate: int
    rate_wpm: int
    volume_db: float
    volume_step: int
    text_scale: float
    high_contrast: bool
    adjusting: bool = False


@dataclass(frozen=True, slots=True)
class Prompt:
    """PROMPT: an interface line shown (and spoken), by its key in strings.toml."""

    key: str
    text: str


@dataclass(frozen=True, slots=True)
class Focus:
    """FOCUS_CHANGED: the control focused, and its label."""

    target: str
    label: str


@dataclass(frozen=True, slots=True)
class IdleWarning:
    """IDLE_WARNING: seconds until the visit ends, or None when the warning is withdrawn."""

    seconds_left: int | None


@dataclass(frozen=True, slots=True)
class Failure:
    """ERROR: a stable code and a message for staff."""

    code: str
    message: str


@dataclass(frozen=True, slots=True)
class Nothing:
    """An event that carries no data."""


Payload = (Sentence | Word | Reason | Heard | ScreenShown | Position | SettingsShown | Prompt
           | Focus | IdleWarning | Failure | Nothing)

#: Which payload each event carries.
PAYLOADS: Mapping[EventType, type[Payload]] = MappingProxyType({
    EventType.SENTENCE_STARTED: Sentence,
    EventType.WORD_STARTED: Word,
    EventType.SENTENCE_FINISHED: Sentence,
    EventType.SPEECH_FINISHED: Nothing,
    EventType.SPEECH_STOPPED: Nothing,
    EventType.SPEECH_PAUSED: Sentence,
    EventType.SOUND_UNAVAILABLE: Reason,
    EventType.SOUND_AVAILABLE: Nothing,
    EventType.LISTENING_STARTED: Nothing,
    EventType.LISTENING_STOPPED: Nothing,
    EventType.HEARD: Heard,
    EventType.NOT_UNDERSTOOD: Reason,
    EventType.MICROPHONE_UNAVAILABLE: Reason,
    EventType.MICROPHONE_AVAILABLE: Nothing,
    EventType.SCREEN_CHANGED: ScreenShown,
    EventType.READING_POSITION: Position,
    EventType.SETTINGS_CHANGED: SettingsShown,
    EventType.PROMPT: Prompt,
    EventType.FOCUS_CHANGED: Focus,
    EventType.IDLE_WARNING: IdleWarning,
    EventType.VISIT_ENDED: Nothing,
    EventType.ERROR: Failure,
})


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: its type and its typed payload. `data` gives the payload's
    fields by name (read-only), for code that records or compares events."""

    type: EventType
    payload: Payload = field(default_factory=Nothing)

    def __post_init__(self) -> None:
        wanted = PAYLOADS[self.type]
        if not isinstance(self.payload, wanted):
            raise TypeError(f"a {self.type} event carries {wanted.__name__}, "
                            f"not {type(self.payload).__name__}")

    @property
    def data(self) -> Mapping[str, Any]:
        return MappingProxyType({item.name: getattr(self.payload, item.name)
                                 for item in fields(self.payload)})

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


EventSink = Callable[[Event], None]


def event(kind: EventType, **data: Any) -> Event:
    """An Event of `kind` with its payload built from `data` (a missing or misspelt field is a
    TypeError here, where the event is made, not where it is read)."""
    return Event(kind, PAYLOADS[kind](**data))
