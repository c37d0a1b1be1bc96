"""The live kiosk's Recognizer in a process of its own (kiosk/listening/recognizer_worker.py).

Why: pocketsphinx's decoder holds Python's GIL for the whole of each call (measured: one call
over 11 s of audio kept another thread from running for all of its 2.95 s), so in the kiosk's
own process every decoded frame held up the audio callback and the interface. Here the
listener's thread only hands 30 ms frames over a socket; pocketsphinx, the understanding, the
barge-in "stop" spotter and the client of the neural process run in this one. A crash here
costs the utterance being heard: the kiosk logs one line and starts the process again.

Audio crosses the socket in memory and is never written anywhere; nothing heard is logged.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.child_process import Child
from kiosk.config import Settings
from kiosk.intents import Intent, IntentName

log = logging.getLogger(__name__)

#: Seconds the process may take to build its decoders (and load its content) at start-up.
START_TIMEOUT_S = 60.0
#: Seconds an answer may take: the neural pass has 4 s of its own, and scoring as much again.
ANSWER_TIMEOUT_S = 12.0


class RecognizerProcessError(RuntimeError):
    """The recognition process could not start: its decoders or content are broken."""


class _RemoteUnderstanding:
    """The understanding inside the recognition process, asked one text at a time."""

    def __init__(self, owner: RecognizerProcess) -> None:
        self._owner = owner

    def understand(self, text: str) -> Intent:
        answer = self._owner._call(("understand", text))
        return answer if isinstance(answer, Intent) else Intent(IntentName.NONE, confidence=0.0)


class _RemoteSpotter:
    """The barge-in "stop" spotter inside the recognition process (kiosk.listening.barge_in's
    Spotting): its keyphrase decoder runs on every frame while the kiosk speaks, and here it
    would hold this process's GIL, and so the audio callback, for each one."""

    def __init__(self, owner: RecognizerProcess, threshold: float) -> None:
        self._owner = owner
        self._threshold = threshold

    def feed_bounded(self, pcm: bytes) -> bool:
        """True when "stop" was just spotted (False if the process failed: nothing spotted)."""
        return self._owner._call(("spot", pcm, self._threshold)) is True

    def reset(self) -> None:
        self._owner._send(("spot-reset", self._threshold))


class RecognizerProcess:
    """The listener's side: the same calls as a Recognizer (begin, feed, finish, discard,
    hears_stop, understanding.understand, close), answered by the process, and the barge-in
    "stop" spotter (`stop_spotter`).

    Built, it has started the process, which builds its decoders while the kiosk starts its
    speaker; `wait_ready` waits for them, and raises RecognizerProcessError with the process's
    reason if the vocabulary or a decoder is broken.
    """

    def __init__(self, settings: Settings, content_root: Path,
                 extra_phrases: Sequence[str] = ()) -> None:
        # What the process needs to build the same recogniser (Settings as a whole does not
        # pickle).
        self._start = (settings.recognizer, settings.neural_model, content_root,
                       tuple(extra_phrases))
        self._lock = threading.Lock()
        self._child: Child | None = None
        self.understanding = _RemoteUnderstanding(self)
        self.restarts = 0
        #: As the Recognizer's: which pass gave the last answer, and how many the neural pass
        #: answered (counts, for the benchmarks; nothing heard).
        self.last_path = "fast"
        self.neural_passes = 0
        self._in_utterance = False
        self._spawn()

    def wait_ready(self) -> None:
        """Wait until the process's recogniser is built (the first time only)."""
        with self._lock:
            if not self._ready:
                self._wait_ready()

    @property
    def pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    def _spawn(self) -> None:
        self._child = Child("kiosk.listening.recognizer_worker")
        self._child.connection.send(self._start)
        self._ready = False

    def _wait_ready(self) -> None:
        assert self._child is not None
        try:
            failure = self._child.failure(START_TIMEOUT_S)
            if failure is None:
                self._ready = True
                return
            reason = failure or f"the recognition process did not start in {START_TIMEOUT_S:g} s"
        except (EOFError, OSError) as error:
            reason = f"the recognition process ended while starting ({type(error).__name__})"
        self._end()
        raise RecognizerProcessError(reason)

    # What the listener calls -----------------------------------------------------------------

    def begin(self) -> None:
        self._in_utterance = True
        self._send(("begin",))

    def feed(self, pcm: bytes) -> None:
        self._send(("feed", pcm))

    def discard(self) -> None:
        self._in_utterance = False
        self._send(("discard",))

    def finish(self, neural: bool = True) -> Intent:
        """The utterance's intent; `none` with nothing heard if the process failed (the
        listener then goes on listening, as after a cough)."""
        self._in_utterance = False
        answer = self._call(("finish", neural))
        if answer is None:
            self.last_path = "failed"
            return Intent(IntentName.NONE, confidence=0.0)
        intent, self.last_path, self.neural_passes = answer
        return intent if isinstance(intent, Intent) else Intent(IntentName.NONE, confidence=0.0)

    def hears_stop(self, samples: np.ndarray, min_confidence: float) -> Intent | None:
        answer = self._call(("stop", np.asarray(samples, dtype="<i2"), min_confidence))
        return answer if isinstance(answer, Intent) else None

    def stop_spotter(self, threshold: float) -> _RemoteSpotter:
        """A "stop" spotter (kiosk.listening.barge_in.Spotting) that decodes in the process."""
        return _RemoteSpotter(self, threshold)

    def close(self) -> None:
        with self._lock:
            if self._child is not None:
                self._child.close(grace_s=3)
                self._child = None

    # The socket --------------------------------------------------------------------------------

    def _usable(self) -> bool:
        """Ready for requests (waiting for the start-up if need be; the lock is held)."""
        if self._child is None:
            return False
        if not self._ready:
            try:
                self._wait_ready()
            except RecognizerProcessError as error:
                log.warning("recognition process: %s", error)
                return False
        return True

    def _send(self, request: tuple[Any, ...]) -> None:
        with self._lock:
            if not self._usable():
                return
            assert self._child is not None
            try:
                self._child.connection.send(request)
            except OSError as error:
                self._restart(f"the process ended ({type(error).__name__})")

    def _call(self, request: tuple[Any, ...]) -> Any:
        """Send a request and wait for its answer; None if the process failed."""
        with self._lock:
            if not self._usable():
                return None
            assert self._child is not None
            connection = self._child.connection
            try:
                connection.send(request)
                if connection.poll(ANSWER_TIMEOUT_S):
                    return connection.recv()
                reason = f"no answer in {ANSWER_TIMEOUT_S:g} s"
            except (EOFError, OSError) as error:
                reason = f"the process ended ({type(error).__name__})"
            self._restart(reason)
            return None

    def _restart(self, reason: str) -> None:
        """Start the process again (the lock is held): the utterance in progress is lost."""
        log.warning("recognition process: %s; restarting it", reason)
        self.restarts += 1
        self._end()
        try:
            self._spawn()
            self._wait_ready()
            if self._in_utterance:  # the rest of this utterance goes to the new process
                assert self._child is not None
                self._child.connection.send(("begin",))
        except (RecognizerProcessError, OSError) as error:
            log.warning("recognition process: cannot start again: %s", error)
            self._end()

    def _end(self) -> None:
        if self._child is not None:
            self._child.end()
            self._child = None
