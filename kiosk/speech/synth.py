"""Synthesis: text to PCM, one sentence at a time, behind a small Protocol.

`Pyttsx3Synthesizer` drives pyttsx3 (espeak-ng on Linux) in a child process (see _synth_worker)
and returns the audio with the time of each word. Another synthesiser (Piper, say) slots in by
implementing `Synthesizer`.
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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

#: Leading silence kept before the first sound (the rest is trimmed so speech starts at once).
LEAD_IN_S = 0.01
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

    #: Names the engine and its version, for cache keys.
    ident: str

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


class Pyttsx3Synthesizer:
    """pyttsx3 in a child process; temporary WAV files live only in `scratch_dir` (in the cache)."""

    def __init__(self, scratch_dir: Path, timeout_s: float = 20.0) -> None:
        self.scratch_dir = Path(scratch_dir)
        self.timeout_s = timeout_s
        self._process: subprocess.Popen[str] | None = None
        self.word_timing = False
        #: Set when the configured voice was not found and the default speaks instead.
        self.voice_problem = ""
        try:
            import pyttsx3

            version = getattr(pyttsx3, "__version__", "2")
        except ImportError:
            version = "missing"
        self.ident = f"pyttsx3-{version}-espeak"

    def warm_up(self) -> None:
        """Start the worker now, so the first sentence does not wait for it."""
        try:
            self._start()
        except SynthesisError as error:
            log.warning("speech synthesiser did not start: %s", error)

    def _start(self) -> subprocess.Popen[str]:
        if self._process is not None and self._process.poll() is None:
            return self._process
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        process = subprocess.Popen(
            [sys.executable, "-m", "kiosk.speech._synth_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, bufsize=1,
        )
        self._process = process
        hello = self._reply(process, self.timeout_s)
        if not hello.get("ok"):
            self.close()
            raise SynthesisError(str(hello.get("error", "the synthesiser did not start")))
        self.word_timing = bool(hello.get("word_timing"))
        return process

    def _reply(self, process: subprocess.Popen[str], timeout_s: float) -> dict[str, Any]:
        assert process.stdout is not None
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
        process = self._start()
        assert process.stdin is not None
        path = self.scratch_dir / f"synth-{uuid.uuid4().hex}.wav"
        try:
            request = {"text": text, "voice": voice, "rate": int(rate_wpm), "path": str(path)}
            try:
                process.stdin.write(json.dumps(request) + "\n")
                process.stdin.flush()
            except (BrokenPipeError, OSError):
                self.close()
                raise _WorkerGone("the synthesiser stopped unexpectedly") from None
            reply = self._reply(process, self.timeout_s + len(text) / 50)
            if not reply.get("ok"):
                raise SynthesisError(str(reply.get("error", "synthesis failed")))
            problem = str(reply.get("voice_problem", ""))
            if problem and problem != self.voice_problem:
                log.warning("%s", problem)
            self.voice_problem = problem
            try:
                pcm, rate = read_wav(path)
            except (OSError, EOFError, wave.Error) as error:
                raise SynthesisError(f"unreadable synthesiser output: {error}") from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(path)
        words = tuple(
            WordMark(int(start), int(start) + int(length), int(ms) * rate // 1000)
            for start, length, ms in reply.get("words", [])
            if int(length) > 0
        )
        return Rendering(pcm, rate, words)

    def close(self) -> None:
        process, self._process = self._process, None
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
