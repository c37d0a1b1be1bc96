"""Recording fakes for the Speaker and Listener Protocols (kiosk.engines), for controller tests.

They do no audio. Calls are recorded in `calls`; a test plays the engine's side by calling
`hear_sentence`, `finish`, `hear` ... which emit the events a real engine would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kiosk.events import EventSink, EventType, event
from kiosk.intents import Intent


class FakeSpeaker:
    """Records what it was asked to say; `speaking` is the list of sentences in flight."""

    def __init__(self, sink: EventSink | None = None) -> None:
        self.sink: EventSink = sink or (lambda _event: None)
        self.calls: list[tuple[str, Any]] = []
        self.speaking: list[str] = []
        self.start = 0
        self.position = 0
        self.paused = False
        self.rate = 0
        self.volume = 0.0
        self.spoken: list[list[str]] = []

    def speak(self, sentences: Sequence[str], start: int = 0) -> None:
        if self.speaking:
            self.sink(event(EventType.SPEECH_STOPPED))
        self.calls.append(("speak", (tuple(sentences), start)))
        self.speaking = list(sentences)
        self.spoken.append(list(sentences[start:]))
        self.start = self.position = start
        self.paused = False

    def stop(self) -> None:
        self.calls.append(("stop", None))
        if self.speaking:
            self.speaking = []
            self.sink(event(EventType.SPEECH_STOPPED))

    def pause(self) -> None:
        self.calls.append(("pause", None))
        self.paused = True
        self.sink(event(EventType.SPEECH_PAUSED, index=self.position))

    def resume(self) -> None:
        self.calls.append(("resume", None))
        self.paused = False

    def set_rate(self, words_per_minute: int) -> None:
        self.calls.append(("set_rate", words_per_minute))
        self.rate = words_per_minute

    def set_volume(self, gain_db: float) -> None:
        self.calls.append(("set_volume", gain_db))
        self.volume = gain_db

    def earcon(self, name: str) -> None:
        self.calls.append(("earcon", name))

    def close(self) -> None:
        self.calls.append(("close", None))

    # The engine's side, driven by the test.

    def hear_sentence(self, index: int) -> None:
        """Report that sentence `index` (of the last speak() call) started playing."""
        self.position = index
        self.sink(event(EventType.SENTENCE_STARTED, index=index, text=self.speaking[index]))

    def play_to_end(self) -> None:
        """Play every remaining sentence and report the end of the queue."""
        sentences = self.speaking
        for index in range(self.position, len(sentences)):
            if self.speaking is not sentences:
                return  # an event handler started new speech
            self.hear_sentence(index)
        if self.speaking is sentences:
            self.speaking = []
            self.sink(event(EventType.SPEECH_FINISHED))

    def names(self) -> list[str]:
        """The names of the calls made, in order."""
        return [name for name, _ in self.calls]


class FakeListener:
    """Records microphone requests; `hear` reports an understood intent as a real listener would."""

    def __init__(self, sink: EventSink | None = None) -> None:
        self.sink: EventSink = sink or (lambda _event: None)
        self.calls: list[tuple[str, Any]] = []
        self.deaf = False
        self.open = False

    def start_listening(self) -> None:
        self.calls.append(("start_listening", None))
        self.open = True
        self.sink(event(EventType.LISTENING_STARTED))

    def stop_listening(self) -> None:
        self.calls.append(("stop_listening", None))
        if self.open:
            self.open = False
            self.sink(event(EventType.LISTENING_STOPPED))

    def set_deaf(self, deaf: bool) -> None:
        self.calls.append(("set_deaf", deaf))
        self.deaf = deaf

    def close(self) -> None:
        self.calls.append(("close", None))

    def hear(self, intent: Intent) -> None:
        """Report that `intent` was understood from the visitor's speech."""
        self.open = False
        self.sink(event(EventType.LISTENING_STOPPED))
        self.sink(event(EventType.HEARD, intent=intent))

    def not_understood(self) -> None:
        self.open = False
        self.sink(event(EventType.LISTENING_STOPPED))
        self.sink(event(EventType.NOT_UNDERSTOOD))
