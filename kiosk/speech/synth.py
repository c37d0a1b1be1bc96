"""Synthesis: text to PCM, one sentence at a time, behind a small Protocol.

`Pyttsx3Synthesizer` drives pyttsx3 (espeak-ng on Linux) in a child process (see _synth_worker)
and returns the audio with the time of each word. `kiosk.speech.piper.PiperSynthesizer`, the
natural voice, implements the same `Synthesizer` on its own worker; both talk to their child
process through `WorkerProcess`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import subprocess
import sys
import uuid
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: Leading silence kept before the first sound (the rest is trimmed so speech starts at once).
#: It was 10 ms; every millisecond of it is a millisecond before the visitor hears anything
#: (first sound at the sink, docs/speech.md), and what it keeps is below SILENCE_LEVEL (-54 dBFS),
#: so 2 ms is kept: no click, and the attack of the first sound is never cut.
LEAD_IN_S = 0.002
#: A sentence's trailing pause is kept (it is the gap between sentences) but capped.
MAX_TAIL_S = 0.35
#: Samples quieter than this (int16) count as silence when trimming.
SILENCE_LEVEL = 64


class SynthesisError(Exception):
    """Text could not be turned into audio; `code` is "synthesis"."""

    code = "synthesis"


class _WorkerGone(SynthesisError):
    """The worker process ended (killed, crashed); a fresh one may well succeed."""


@dataclass(frozen=True, slots=True)
class WordMark:
    """A word of the text (characters start..end) that starts at `sample` in the audio."""

    start: int
    end: int
    sample: int


@dataclass(frozen=True, slots=True)
class Rendering:
    """Mono 16-bit audio for one text, with word marks."""

    pcm: npt.NDArray[np.int16]
    rate: int
    words: tuple[WordMark, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.pcm) / self.rate

    def to_float(self) -> npt.NDArray[np.float32]:
        """The samples as float32 in [-1, 1], as the player wants them."""
        return self.pcm.astype(np.float32) / 32768.0


class Synthesizer(Protocol):
    """Turns text into audio. Implementations must be safe to call from one worker thread."""

    @property
    def ident(self) -> str:
        """Names the engine, its version and voice, for cache keys."""

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        """Render `text`; raise SynthesisError with a clear message on failure."""

    def close(self) -> None:
        """Release the engine."""


def trim(rendering: Rendering) -> Rendering:
    """Cut leading silence (so playback starts with speech) and cap the trailing pause."""
    pcm = rendering.pcm
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > SILENCE_LEVEL)
    if len(loud) == 0:
        return Rendering(pcm[:0], rendering.rate, ())
    lead = max(0, int(loud[0]) - int(LEAD_IN_S * rendering.rate))
    end = min(len(pcm), int(loud[-1]) + 1 + int(MAX_TAIL_S * rendering.rate))
    words = tuple(
        WordMark(word.start, word.end, max(0, min(end - lead, word.sample - lead)))
        for word in rendering.words
    )
    return Rendering(pcm[lead:end].copy(), rendering.rate, words)


def _complete(rendering: Rendering) -> bool:
    """False when the audio ends before the last word the synthesiser reported starting."""
    return not rendering.words or rendering.words[-1].sample < len(rendering.pcm)


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """Read a mono 16-bit WAV file as written by the synthesiser."""
    with wave.open(str(path), "rb") as handle:
        if handle.getsampwidth() != 2:
            raise SynthesisError(f"{path.name}: expected 16-bit audio")
        channels = handle.getnchannels()
        rate = handle.getframerate()
        frames = handle.readframes(handle.getnframes())
    pcm = np.frombuffer(frames, dtype="<i2").astype(np.int16)
    if channels > 1:
        pcm = pcm.reshape(-1, channels)[:, 0].copy()
    return pcm, rate


class WorkerProcess:
    """A synthesis worker: one child process, one JSON line per request and per reply.

    The child's first line is its hello ({"ok": true, ...} once its engine is loaded). A reply
    that never comes, or an ended child, closes the process; the next `start()` begins afresh.
    """

    def __init__(self, command: Sequence[str], start_timeout_s: float,
                 env: Mapping[str, str] | None = None) -> None:
        self.command = list(command)
        self.start_timeout_s = start_timeout_s
        self.env = dict(env) if env is not None else None
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> dict[str, Any] | None:
        """Start the child if it is not running; its hello, or None if it was running already.

        Raises SynthesisError when the child cannot start or says it failed.
        """
        if self.process is not None and self.process.poll() is None:
            return None
        try:
            process = subprocess.Popen(
                self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, bufsize=1, env=self.env,
            )
        except OSError as error:
            raise SynthesisError(f"the synthesiser could not start: {error}") from None
        self.process = process
        hello = self.reply(self.start_timeout_s)
        if not hello.get("ok"):
            self.close()
            raise SynthesisError(str(hello.get("error", "the synthesiser did not start")))
        return hello

    def send(self, request: Mapping[str, Any]) -> None:
        process = self.process
        if process is None or process.stdin is None:
            raise _WorkerGone("the synthesiser is not running")
        try:
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise _WorkerGone("the synthesiser stopped unexpectedly") from None

    def reply(self, timeout_s: float) -> dict[str, Any]:
        process = self.process
        if process is None or process.stdout is None:
            raise _WorkerGone("the synthesiser is not running")
        ready, _, _ = select.select([process.stdout], [], [], timeout_s)
        if not ready:
            self.close()
            raise SynthesisError(f"the synthesiser did not answer within {timeout_s:.0f} s")
        line = process.stdout.readline()
        if not line:
            self.close()
            raise _WorkerGone("the synthesiser stopped unexpectedly")
        try:
            reply: dict[str, Any] = json.loads(line)
        except json.JSONDecodeError:
            self.close()
            raise SynthesisError("the synthesiser sent an unreadable reply") from None
        return reply

    def render(self, request: Mapping[str, Any], scratch_dir: Path, timeout_s: float,
               ) -> tuple[dict[str, Any], npt.NDArray[np.int16], int]:
        """One request whose audio comes back as a WAV file in `scratch_dir`, read and deleted:
        (the reply, the samples, their rate). Raises SynthesisError with the child's reason.

        The scratch folder sits in the cache, which staff may delete under a running kiosk;
        it is made again, and a sentence whose file went with it is rendered once more."""
        try:
            return self._render_once(request, scratch_dir, timeout_s)
        except SynthesisError:
            if scratch_dir.is_dir():
                raise
            return self._render_once(request, scratch_dir, timeout_s)

    def _render_once(self, request: Mapping[str, Any], scratch_dir: Path, timeout_s: float,
                     ) -> tuple[dict[str, Any], npt.NDArray[np.int16], int]:
        path = scratch_dir / f"synth-{uuid.uuid4().hex}.wav"
        try:
            scratch_dir.mkdir(parents=True, exist_ok=True)
            self.send({**request, "path": str(path)})
            reply = self.reply(timeout_s)
            if not reply.get("ok"):
                raise SynthesisError(str(reply.get("error", "synthesis failed")))
            try:
                pcm, rate = read_wav(path)
            except (OSError, EOFError, wave.Error) as error:
                raise SynthesisError(f"unreadable synthesiser output: {error}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        return reply, pcm, rate

    def close(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(OSError):
            if process.stdin is not None:
                process.stdin.close()
        try:
            process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        if process.stdout is not None:
            process.stdout.close()


class Pyttsx3Synthesizer:
    """pyttsx3 in a child process; temporary WAV files live only in `scratch_dir` (in the cache)."""

    def __init__(self, scratch_dir: Path, timeout_s: float = 20.0) -> None:
        self.scratch_dir = Path(scratch_dir)
        self.timeout_s = timeout_s
        self._worker = WorkerProcess([sys.executable, "-m", "kiosk.speech._synth_worker"],
                                     timeout_s)
        self.word_timing = False
        #: Set when the configured voice was not found and the default speaks instead.
        self.voice_problem = ""
        try:
            import pyttsx3

            version = getattr(pyttsx3, "__version__", "2")
        except ImportError:
            version = "missing"
        self.ident = f"pyttsx3-{version}-espeak"
        #: The voice in use and its licence, for staff (kiosk doctor).
        self.description = "espeak-ng through pyttsx3; licence: GPL-3.0-or-later"

    @property
    def _process(self) -> subprocess.Popen[str] | None:
        """The worker process, if one is running (tests and benchmarks look at it)."""
        return self._worker.process

    def warm_up(self) -> None:
        """Start the worker now, so the first sentence does not wait for it."""
        try:
            self._start()
        except SynthesisError as error:
            log.warning("speech synthesiser did not start: %s", error)

    def _start(self) -> None:
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        hello = self._worker.start()
        if hello is not None:
            self.word_timing = bool(hello.get("word_timing"))

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        if not text.strip():
            return Rendering(np.zeros(0, dtype=np.int16), 22_050, ())
        try:
            rendering = self._synthesize_once(text, rate_wpm, voice)
        except _WorkerGone:
            log.warning("speech synthesiser process ended; starting a new one")
            rendering = self._synthesize_once(text, rate_wpm, voice)
        if not _complete(rendering):
            # Seen here once: pyttsx3 wrote only the start of a sentence. Its word events still
            # cover the whole text, so a cut shows up as words timed past the end of the audio.
            log.info("synthesis came back cut short; rendering again")
            rendering = self._synthesize_once(text, rate_wpm, voice)
            if not _complete(rendering):
                raise SynthesisError("the synthesiser returned incomplete audio twice")
        return trim(rendering)

    def _synthesize_once(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        self._start()
        request = {"text": text, "voice": voice, "rate": int(rate_wpm)}
        reply, pcm, rate = self._worker.render(
            request, self.scratch_dir, self.timeout_s + len(text) / 50)
        problem = str(reply.get("voice_problem", ""))
        if problem and problem != self.voice_problem:
            log.warning("%s", problem)
        self.voice_problem = problem
        words = tuple(
            WordMark(int(start), int(start) + int(length), int(ms) * rate // 1000)
            for start, length, ms in reply.get("words", [])
            if int(length) > 0
        )
        return Rendering(pcm, rate, words)

    def close(self) -> None:
        self._worker.close()
