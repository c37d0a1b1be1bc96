"""The Speaker: sentences in, audio out, and events in step with what is heard.

Three threads besides the caller's: the player's audio callback (reports where playback is, to the
sample), a render thread (lexicon, cache, synthesis; urgent sentences before background
prerendering) and a control thread, the only one that emits events. Public methods change state
under one lock and return at once; events wait in a queue ordered by the time they will be heard.
An event from speech that has since been cut (stop, pause, newer speech) is dropped unheard.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from kiosk.config import Settings
from kiosk.events import Event, EventSink, EventType, event
from kiosk.library import Library
from kiosk.speech.earcons import make_earcons
from kiosk.speech.player import AudioOutput, Clip, Notice, resample
from kiosk.speech.render import library_texts
from kiosk.speech.synth import Rendering, SynthesisError

log = logging.getLogger(__name__)

#: Sentences rendered ahead of the one playing.
LOOKAHEAD = 2
_URGENT, _BACKGROUND = 0, 1
_SPEECH_EVENTS = frozenset({
    EventType.SENTENCE_STARTED, EventType.WORD_STARTED, EventType.SENTENCE_FINISHED,
    EventType.SPEECH_FINISHED,
})


class TextRenderer(Protocol):
    """What the speaker needs from a renderer (kiosk.speech.render.Renderer, or a test fake)."""

    def render(self, text: str, rate_wpm: int) -> Rendering: ...

    def cached(self, text: str, rate_wpm: int) -> Rendering | None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class _Job:
    text: str
    rate: int
    generation: int | None  # None: background prerendering
    index: int = -1


class KioskSpeaker:
    """The real `kiosk.engines.Speaker`. Build it with `kiosk.speech.create_speaker`."""

    def __init__(
        self,
        settings: Settings,
        renderer: TextRenderer,
        output: AudioOutput,
        sink: EventSink,
        library: Library | None = None,
    ) -> None:
        self._settings = settings
        self._library = library
        self._renderer = renderer
        self._output = output
        self._sink = sink
        self._earcons = make_earcons(output.rate)
        self._lock = threading.RLock()
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._jobs: queue.PriorityQueue[tuple[int, int, _Job | None]] = queue.PriorityQueue()
        self._job_order = itertools.count()
        self._due: list[tuple[float, int, int | None, Event]] = []
        self._due_order = itertools.count()
        self._closed = False
        # Speech state (guarded by _lock).
        self._generation = 0
        self._sentences: tuple[str, ...] = ()
        self._active = False
        self._start = 0
        self._next_enqueue = 0
        self._requested: set[int] = set()
        self._rendered: dict[int, Rendering] = {}
        self._heard: int | None = None
        self._heard_done = False
        self._paused: int | None = None
        self._rate = settings.rate_wpm
        self._volume_db = settings.volume_db
        # Sound availability: reported once when lost, once when back.
        self._device_ok: bool | None = None
        self._synth_error: str | None = None
        self._reported_unavailable = False
        self._background_left = 0
        self._background_idle = threading.Event()
        self._background_idle.set()
        output.set_gain_db(self._volume_db)
        self._control = threading.Thread(
            target=self._control_loop, name="kiosk-speaker", daemon=True
        )
        self._render = threading.Thread(target=self._render_loop, name="kiosk-render", daemon=True)
        self._control.start()
        self._render.start()
        output.start(self._on_notice)

    # ----- the Speaker Protocol -------------------------------------------------------------

    def speak(self, sentences: Sequence[str], start: int = 0) -> None:
        with self._lock:
            if self._active:
                self._cut()
                self._post(EventType.SPEECH_STOPPED)
            self._paused = None
            self._begin(tuple(str(s) for s in sentences), start)
        self._wake()

    def stop(self) -> None:
        with self._lock:
            self._paused = None
            was_active = self._active
            self._cut()
            if was_active:
                self._post(EventType.SPEECH_STOPPED)
        self._wake()

    def pause(self) -> None:
        with self._lock:
            if not self._active:
                return
            self._cut()
            if self._heard is None:
                index = self._start
            else:
                index = self._heard + 1 if self._heard_done else self._heard
            if index >= len(self._sentences):
                self._post(EventType.SPEECH_FINISHED)
            else:
                self._paused = index
                self._post(EventType.SPEECH_PAUSED, index=index)
        self._wake()

    def resume(self) -> None:
        with self._lock:
            if self._paused is None or self._active:
                return
            start, self._paused = self._paused, None
            self._begin(self._sentences, start)
        self._wake()

    def set_rate(self, words_per_minute: int) -> None:
        low, high = self._settings.rate_min_wpm, self._settings.rate_max_wpm
        rate = int(min(max(words_per_minute, low), high))
        with self._lock:
            if rate == self._rate:
                return
            self._rate = rate
            if self._active:
                # Sentences queued but not yet heard are rendered again at the new rate.
                dropped = [
                    tag[1] for tag in self._output.drop_queued() if tag[0] == self._generation
                ]
                if dropped:
                    self._next_enqueue = min(dropped)
                self._rendered.clear()
                self._requested.clear()
                self._refill()

    def set_volume(self, gain_db: float) -> None:
        gain = float(min(max(gain_db, self._settings.volume_min_db), 0.0))
        with self._lock:
            self._volume_db = gain
            self._output.set_gain_db(gain)

    def earcon(self, name: str) -> None:
        sound = self._earcons.get(name)
        if sound is None:
            log.warning("speech: unknown earcon %r; known: %s", name, ", ".join(self._earcons))
            return
        if self._output.available is not False:
            self._output.overlay(sound)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._cut()
        self._jobs.put((-1, -1, None))
        self._wake()
        self._control.join(timeout=5)
        self._render.join(timeout=10)
        self._output.close()
        self._renderer.close()

    # ----- more than the Protocol -----------------------------------------------------------

    def prerender(self, texts: Iterable[str] | None = None) -> None:
        """Render `texts` (by default all of the library's) into the cache in the background,
        after anything urgent. Returns at once."""
        if texts is None:
            if self._library is None:
                return
            texts = library_texts(self._library, self._settings)
        with self._lock:
            rate = self._rate
            for text in texts:
                self._background_left += 1
                self._background_idle.clear()
                self._jobs.put((_BACKGROUND, next(self._job_order), _Job(text, rate, None)))

    def prerender_library(self, library: Library) -> None:
        """Render all content and interface lines in the background (call after start-up)."""
        self.prerender(library_texts(library, self._settings))

    def wait_prerendered(self, timeout_s: float) -> bool:
        """Block until background prerendering has finished (for the CLI and tests)."""
        return self._background_idle.wait(timeout_s)

    @property
    def output(self) -> AudioOutput:
        return self._output

    @property
    def renderer(self) -> TextRenderer:
        return self._renderer

    @property
    def speaking(self) -> bool:
        """True from speak() until the end is heard, stop() or pause()."""
        with self._lock:
            return self._active

    # ----- state changes (caller holds _lock) -----------------------------------------------

    def _begin(self, sentences: tuple[str, ...], start: int) -> None:
        self._sentences = sentences
        if not sentences or start >= len(sentences):
            self._post(EventType.SPEECH_FINISHED)
            return
        if self._output.available is False or self._device_ok is False:
            self._report_unavailable("no audio output")
            return
        self._active = True
        self._start = self._next_enqueue = max(0, start)
        self._heard = None
        self._heard_done = False
        self._refill()

    def _cut(self) -> None:
        """Silence at once; forget everything queued or in flight for the current speech."""
        self._output.clear()
        self._generation += 1
        self._active = False
        self._requested.clear()
        self._rendered.clear()

    def _refill(self) -> None:
        """Ask for the next sentences to be rendered, keeping LOOKAHEAD ahead of the queue."""
        last = min(len(self._sentences), self._next_enqueue + LOOKAHEAD)
        for index in range(self._next_enqueue, last):
            if index not in self._requested and index not in self._rendered:
                self._requested.add(index)
                job = _Job(self._sentences[index], self._rate, self._generation, index)
                self._jobs.put((_URGENT, next(self._job_order), job))

    def _post(self, kind: EventType, due: float | None = None, generation: int | None = None,
              **data: Any) -> None:
        when = time.monotonic() if due is None else due
        heapq.heappush(self._due, (when, next(self._due_order), generation, event(kind, **data)))

    def _report_unavailable(self, reason: str) -> None:
        if not self._reported_unavailable:
            self._reported_unavailable = True
            log.warning("speech: sound unavailable: %s", reason)
            self._post(EventType.SOUND_UNAVAILABLE, reason=reason)

    def _report_available(self) -> None:
        healthy = self._device_ok is not False and self._synth_error is None
        if self._reported_unavailable and healthy:
            self._reported_unavailable = False
            log.info("speech: sound is available again")
            self._post(EventType.SOUND_AVAILABLE)

    # ----- messages from the other threads (control thread, under _lock) --------------------

    def _on_notice(self, notice: Notice) -> None:
        """Called on the audio thread: hand over, never block."""
        self._inbox.put(("notice", notice))

    def _handle_notice(self, notice: Notice) -> None:
        if notice.kind == "lost":
            self._device_ok = False
            if self._active:
                self._cut()
                self._post(EventType.SPEECH_STOPPED)
            self._report_unavailable(str(notice.payload))
            return
        if notice.kind == "available":
            self._device_ok = True
            self._report_available()
            return
        generation, index = notice.tag
        if generation != self._generation:
            return
        if notice.kind == "start":
            self._post(EventType.SENTENCE_STARTED, notice.due, generation,
                       index=index, text=self._sentences[index])
        elif notice.kind == "mark":
            char_start, char_end = notice.payload
            self._post(EventType.WORD_STARTED, notice.due, generation,
                       index=index, char_start=char_start, char_end=char_end)
        elif notice.kind == "end":
            self._post(EventType.SENTENCE_FINISHED, notice.due, generation, index=index)
            if index == len(self._sentences) - 1:
                self._post(EventType.SPEECH_FINISHED, notice.due, generation)

    def _handle_rendered(self, job: _Job, rendering: Rendering | None, error: str | None) -> None:
        if error is not None:
            self._synth_error = error
            if job.generation == self._generation and self._active:
                self._cut()
                self._post(EventType.SPEECH_STOPPED)
            self._report_unavailable(f"speech synthesis failed: {error}")
            return
        if self._synth_error is not None:
            self._synth_error = None
            self._report_available()
        if job.generation != self._generation or job.rate != self._rate or not self._active:
            return
        assert rendering is not None
        self._requested.discard(job.index)
        self._rendered[job.index] = rendering
        while self._next_enqueue in self._rendered:
            index = self._next_enqueue
            self._output.enqueue(self._clip(index, self._rendered.pop(index)))
            self._next_enqueue += 1
        self._refill()

    def _clip(self, index: int, rendering: Rendering) -> Clip:
        pcm = resample(rendering.to_float(), rendering.rate, self._output.rate)
        scale = self._output.rate / rendering.rate
        marks = tuple(
            (int(word.sample * scale), (word.start, word.end)) for word in rendering.words
        )
        return Clip(np.ascontiguousarray(pcm, dtype=np.float32), (self._generation, index), marks)

    def _apply(self, generation: int | None, item: Event) -> bool:
        """Bring state up to an event that is being heard now; False if it belongs to cut speech."""
        if generation is not None and generation != self._generation:
            return False
        if item.type is EventType.SENTENCE_STARTED:
            self._heard, self._heard_done = item["index"], False
        elif item.type is EventType.SENTENCE_FINISHED:
            self._heard, self._heard_done = item["index"], True
        elif item.type is EventType.SPEECH_FINISHED and generation is not None:
            self._active = False
        return True

    # ----- threads --------------------------------------------------------------------------

    def _wake(self) -> None:
        self._inbox.put(("wake", None))

    def _control_loop(self) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                timeout = max(0.0, self._due[0][0] - time.monotonic()) if self._due else 0.5
            try:
                message: tuple[str, Any] | None = self._inbox.get(timeout=timeout)
            except queue.Empty:
                message = None
            ready: list[Event] = []
            with self._lock:
                while message is not None:
                    kind, payload = message
                    if kind == "notice":
                        self._handle_notice(payload)
                    elif kind == "rendered":
                        self._handle_rendered(*payload)
                    try:
                        message = self._inbox.get_nowait()
                    except queue.Empty:
                        message = None
                now = time.monotonic()
                while self._due and self._due[0][0] <= now:
                    _, _, generation, item = heapq.heappop(self._due)
                    if self._apply(generation, item):
                        ready.append(item)
            for item in ready:
                try:
                    self._sink(item)
                except Exception:  # a broken consumer must not stop the speaker
                    log.exception("speech: event sink failed on %s", item.type)

    def _render_loop(self) -> None:
        errors_logged = 0
        failed_generation = -1
        warm_up = getattr(self._renderer, "warm_up", None)
        if callable(warm_up):
            try:
                warm_up()
            except Exception:  # the first real render will report what is wrong
                log.exception("speech: synthesiser warm-up failed")
        while True:
            _, _, job = self._jobs.get()
            if job is None:
                return
            if job.generation is not None:
                with self._lock:
                    stale = job.generation != self._generation or job.rate != self._rate
                if stale or job.generation == failed_generation:
                    continue  # cut, or its speech has already failed
                try:
                    rendering = self._renderer.render(job.text, job.rate)
                except SynthesisError as error:
                    failed_generation = job.generation
                    self._inbox.put(("rendered", (job, None, str(error))))
                except Exception as error:  # an unexpected failure is a synthesis failure too
                    failed_generation = job.generation
                    log.exception("speech: rendering failed")
                    self._inbox.put(("rendered", (job, None, f"{type(error).__name__}: {error}")))
                else:
                    self._inbox.put(("rendered", (job, rendering, None)))
                continue
            try:
                if self._renderer.cached(job.text, job.rate) is None:
                    self._renderer.render(job.text, job.rate)
            except Exception as error:  # background work: log a little, never stop
                if errors_logged < 3:
                    errors_logged += 1
                    log.warning("speech: prerendering failed: %s", error)
            finally:
                with self._lock:
                    self._background_left -= 1
                    if self._background_left <= 0:
                        self._background_left = 0
                        self._background_idle.set()
