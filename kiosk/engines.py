"""The small Protocols the controller talks to, and null engines for graceful degradation.

Each engine has a real implementation (kiosk.speech, kiosk.listening), a null one here, and a
recording fake in the tests. Engines report through an EventSink given at construction; they run
their work off the caller's thread and never touch widgets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from kiosk.events import EventSink, EventType, event


@runtime_checkable
class Speaker(Protocol):
    """Speaks sentences and reports, as they are heard, which one is playing."""

    def speak(self, sentences: Sequence[str], start: int = 0) -> None:
        """Stop whatever is playing and speak `sentences[start:]` in order."""

    def stop(self) -> None:
        """Silence within 50 ms; emits SPEECH_STOPPED if something was playing."""

    def pause(self) -> None:
        """Stop playback, remembering the sentence that was cut."""

    def resume(self) -> None:
        """Play again from the start of the sentence that pause() cut."""

    def set_rate(self, words_per_minute: int) -> None:
        """Speaking rate for sentences started from now on."""

    def set_volume(self, gain_db: float) -> None:
        """Output gain in dB relative to full scale (0 is loudest)."""

    def earcon(self, name: str) -> None:
        """Play a short sound: listening, understood, not_understood, end_of_section."""

    def close(self) -> None:
        """Release the audio device and threads."""


@runtime_checkable
class Listener(Protocol):
    """Turns a visitor's speech into intents, reported as HEARD / NOT_UNDERSTOOD events."""

    def start_listening(self) -> None:
        """Open the microphone for one utterance (push-to-talk)."""

    def stop_listening(self) -> None:
        """Close the microphone; any partial utterance is dropped."""

    def set_deaf(self, deaf: bool) -> None:
        """While the kiosk speaks it hears nothing but "stop" (barge-in)."""

    def close(self) -> None:
        """Release the microphone and threads."""


class NullSpeaker:
    """A Speaker for a kiosk with no sound: says so once and does nothing else."""

    def __init__(self, sink: EventSink, reason: str = "no audio output") -> None:
        self._sink = sink
        self._reason = reason
        self._announced = False

    def _announce(self) -> None:
        if not self._announced:
            self._announced = True
            self._sink(event(EventType.SOUND_UNAVAILABLE, reason=self._reason))

    def speak(self, sentences: Sequence[str], start: int = 0) -> None:
        self._announce()

    def stop(self) -> None:
        pass

    def pause(self) -> None:
        pass

    def resume(self) -> None:
        pass

    def set_rate(self, words_per_minute: int) -> None:
        pass

    def set_volume(self, gain_db: float) -> None:
        pass

    def earcon(self, name: str) -> None:
        pass

    def close(self) -> None:
        pass


class NullListener:
    """A Listener for a kiosk with no microphone: reports it once when asked to listen."""

    def __init__(self, sink: EventSink, reason: str = "no microphone") -> None:
        self._sink = sink
        self._reason = reason

    def start_listening(self) -> None:
        self._sink(event(EventType.MICROPHONE_UNAVAILABLE, reason=self._reason))

    def stop_listening(self) -> None:
        pass

    def set_deaf(self, deaf: bool) -> None:
        pass

    def close(self) -> None:
        pass
