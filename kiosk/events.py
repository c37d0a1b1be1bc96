"""One typed event vocabulary shared by the engines, the controller and the UI.

Engines (speech, listening) emit events to a callback; the controller consumes them and emits its
own. Tests record the sequence and compare it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any


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


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened; `data` is read-only."""

    type: EventType
    data: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", MappingProxyType(dict(self.data)))

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


EventSink = Callable[[Event], None]


def event(kind: EventType, **data: Any) -> Event:
    """Shorthand for building an Event."""
    return Event(kind, data)
