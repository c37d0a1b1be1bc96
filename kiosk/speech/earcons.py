"""Earcons: short, distinct sounds, made in code at start-up (no files to ship or lose).

listening: two rising notes (the microphone is open); understood: one short high note;
not_understood: two falling notes; end_of_section: a soft three-note descending chime.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import numpy as np

from kiosk.speech.output_tap import Samples
from kiosk.speech.player import PLAYER_RATE

EARCON_NAMES = ("listening", "understood", "not_understood", "end_of_section")
#: Peak level of an earcon before the volume setting, a little under speech.
LEVEL = 0.35


def _note(frequency: float, seconds: float, rate: int) -> Samples:
    t = np.arange(int(seconds * rate), dtype=np.float64) / rate
    # A quick attack and an exponential decay sound like a soft bell, not a beep.
    envelope = np.minimum(1.0, t / 0.005) * np.exp(-t * 6.0 / seconds)
    tone = np.sin(2 * np.pi * frequency * t) + 0.25 * np.sin(2 * np.pi * 2 * frequency * t)
    note: Samples = (tone * envelope / 1.25).astype(np.float32)
    return note


def _sequence(notes: list[tuple[float, float]], rate: int, gap_s: float = 0.02) -> Samples:
    gap = np.zeros(int(gap_s * rate), dtype=np.float32)
    parts: list[Samples] = []
    for frequency, seconds in notes:
        parts += [_note(frequency, seconds, rate), gap]
    joined = np.concatenate(parts)
    return (joined * (LEVEL / float(np.max(np.abs(joined))))).astype(np.float32)


def make_earcons(rate: int = PLAYER_RATE) -> Mapping[str, Samples]:
    """Each earcon's samples, float32 mono at `rate`."""
    return MappingProxyType({
        "listening": _sequence([(660.0, 0.08), (990.0, 0.12)], rate),
        "understood": _sequence([(1175.0, 0.1)], rate),
        "not_understood": _sequence([(440.0, 0.12), (330.0, 0.18)], rate),
        "end_of_section": _sequence([(1047.0, 0.14), (784.0, 0.14), (523.0, 0.3)], rate, 0.04),
    })
