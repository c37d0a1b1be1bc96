"""Recording fakes for the speech side: an audio output the test plays by hand, a synthesiser and
a renderer that make predictable audio without espeak. For unit tests of the Speaker's state
machine; the real parts are tested in test_real_audio.py.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from kiosk.events import Event, EventType
from kiosk.speech.output_tap import Samples
from kiosk.speech.player import Clip, Notice, Notify
from kiosk.speech.synth import Rendering, SynthesisError, WordMark

#: The fakes' sample rate: one sample per millisecond keeps the arithmetic readable.
FAKE_RATE = 1000
#: Samples of fake audio per word.
WORD_SAMPLES = 100


class FakeOutput:
    """An AudioOutput whose "audio callback" is `advance(samples)`, called by the test.

    Notices are due at once, so events follow as soon as the speaker's thread handles them.
    """

    def __init__(self, available: bool | None = True) -> None:
        self.rate = FAKE_RATE
        self.calls: list[tuple[str, Any]] = []
        self.queue: deque[Clip] = deque()
        self.offset = 0
        self.mark = 0
        self.gain_db = 0.0
        self.overlays: list[Samples] = []
        self.played: list[tuple[Any, int]] = []  # (tag, samples played from it)
        self._available = available
        self._notify: Notify = lambda _notice: None
        self._lock = threading.Lock()

    def start(self, notify: Notify) -> None:
        self._notify = notify
        if self._available is False:
            notify(Notice("lost", payload="no device (fake)"))
        elif self._available:
            notify(Notice("available"))

    @property
    def available(self) -> bool | None:
        return self._available

    def enqueue(self, clip: Clip) -> None:
        with self._lock:
            self.calls.append(("enqueue", clip.tag))
            self.queue.append(clip)

    def clear(self) -> Any:
        with self._lock:
            self.calls.append(("clear", None))
            cut = self.queue[0].tag if self.queue and self.offset else None
            self.queue.clear()
            self.offset = self.mark = 0
            return cut

    def drop_queued(self) -> list[Any]:
        with self._lock:
            keep = 1 if self.queue and self.offset else 0
            dropped = [clip.tag for clip in list(self.queue)[keep:]]
            while len(self.queue) > keep:
                self.queue.pop()
            self.calls.append(("drop_queued", tuple(dropped)))
            return dropped

    def overlay(self, pcm: Samples) -> None:
        self.calls.append(("overlay", len(pcm)))
        self.overlays.append(pcm)

    def set_gain_db(self, gain_db: float) -> None:
        self.calls.append(("set_gain_db", gain_db))
        self.gain_db = gain_db

    def close(self) -> None:
        self.calls.append(("close", None))

    # The device's side, driven by the test.

    def advance(self, samples: int) -> None:
        """Play `samples` samples of whatever is queued, reporting as the real callback does."""
        notices: list[Notice] = []
        with self._lock:
            left = samples
            while left > 0 and self.queue:
                clip = self.queue[0]
                if self.offset == 0:
                    notices.append(Notice("start", clip.tag))
                count = min(left, len(clip.pcm) - self.offset)
                end = self.offset + count
                while self.mark < len(clip.marks) and clip.marks[self.mark][0] < end:
                    notices.append(Notice("mark", clip.tag, clip.marks[self.mark][1]))
                    self.mark += 1
                self.offset = end
                left -= count
                self.played.append((clip.tag, count))
                if self.offset >= len(clip.pcm):
                    notices.append(Notice("end", clip.tag))
                    self.queue.popleft()
                    self.offset = self.mark = 0
        for notice in notices:
            self._notify(notice)

    def wait_queued(self, count: int, timeout_s: float = 5.0) -> None:
        """Wait until at least `count` clips are queued (rendering runs on another thread)."""
        deadline = time.monotonic() + timeout_s
        while len(self.queue) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"expected {count} queued clips, have {len(self.queue)}")
            time.sleep(0.005)

    def lose(self, reason: str = "device gone (fake)") -> None:
        with self._lock:
            self._available = False
            self.queue.clear()
            self.offset = self.mark = 0
        self._notify(Notice("lost", payload=reason))

    def restore(self) -> None:
        self._available = True
        self._notify(Notice("available"))


def fake_rendering(text: str, rate: int = FAKE_RATE) -> Rendering:
    """WORD_SAMPLES of a tone per word, with a word mark at the start of each."""
    words: list[WordMark] = []
    position = 0
    for index, word in enumerate(text.split()):
        start = text.index(word, position)
        position = start + len(word)
        words.append(WordMark(start, position, index * WORD_SAMPLES))
    count = WORD_SAMPLES * max(1, len(words))
    pcm = (8000 * np.sin(np.arange(count) * 0.3)).astype(np.int16)
    return Rendering(pcm, rate, tuple(words))


class FakeSynthesizer:
    """A Synthesizer that records requests; texts in `fail` raise SynthesisError."""

    ident = "fake-1"

    def __init__(self) -> None:
        self.requests: list[tuple[str, int, str]] = []
        self.fail: set[str] = set()
        self.closed = False

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        self.requests.append((text, rate_wpm, voice))
        if text in self.fail:
            raise SynthesisError(f"cannot say {text!r} (fake)")
        return fake_rendering(text)

    def close(self) -> None:
        self.closed = True


class FakeRenderer:
    """A TextRenderer that records (text, rate) and can fail or hold back a text."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []
        self.fail: set[str] = set()
        self.cache: dict[tuple[str, int], Rendering] = {}
        self.closed = False

    def cached(self, text: str, rate_wpm: int) -> Rendering | None:
        return self.cache.get((text, rate_wpm))

    def render(self, text: str, rate_wpm: int) -> Rendering:
        self.calls.append((text, rate_wpm))
        if text in self.fail:
            raise SynthesisError(f"cannot say {text!r} (fake)")
        rendering = fake_rendering(text)
        self.cache[(text, rate_wpm)] = rendering
        return rendering

    def close(self) -> None:
        self.closed = True


class EventLog:
    """An EventSink that records events and lets a test wait for one."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.times: list[float] = []

    def __call__(self, item: Event) -> None:
        self.events.append(item)
        self.times.append(time.monotonic())
        self._queue.put(item)

    def clear(self) -> None:
        """Forget everything recorded so far."""
        self.events.clear()
        self.times.clear()
        while not self._queue.empty():
            self._queue.get_nowait()

    def wait_for(self, kind: EventType, timeout_s: float = 5.0, **data: Any) -> Event:
        """The next event of `kind` (with matching data) not yet waited for."""
        deadline = time.monotonic() + timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind} {data or ''} within {timeout_s} s; got {self.kinds()}")
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if item.type is kind and all(item.data.get(k) == v for k, v in data.items()):
                return item

    def kinds(self, *, words: bool = False) -> list[str]:
        """The event types so far (word events left out unless asked for)."""
        return [
            f"{e.type}:{e.data['index']}" if "index" in e.data else str(e.type)
            for e in self.events
            if words or e.type is not EventType.WORD_STARTED
        ]

    def settle(self, quiet_s: float = 0.15) -> None:
        """Wait until no event has arrived for `quiet_s` (the speaker thread has caught up)."""
        while True:
            count = len(self.events)
            time.sleep(quiet_s)
            if len(self.events) == count:
                return
