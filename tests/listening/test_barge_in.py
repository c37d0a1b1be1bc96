"""The barge-in parts the listener uses while the kiosk speaks (and benchmarks/barge_in.py
measures): the echo canceller, the near-end gate, the "stop" spotter and the player's output
tap."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.listening.audio import RATE
from kiosk.listening.barge_in import EchoCanceller, NearEndGate, StopSpotter, delay_of
from kiosk.speech.output_tap import OutputTap
from tests.support.speech_fixtures import have_espeak, synthesize

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")


def _energy(samples: np.ndarray) -> float:
    return float(np.sum(samples.astype(np.float64) ** 2))


def _run(canceller: EchoCanceller, mic: np.ndarray, ref: np.ndarray) -> np.ndarray:
    out = [canceller.process(mic[i : i + 480], ref[i : i + 480]) for i in range(0, len(mic), 480)]
    residual = np.concatenate(out)
    return np.concatenate([residual, np.zeros(len(mic) - len(residual))])


@needs_espeak
def test_canceller_removes_the_kiosks_voice_and_keeps_a_visitors() -> None:
    ref = np.concatenate([
        synthesize("Most calcifications are harmless and need no treatment.", "en", 150),
        synthesize("Your doctor will explain what the pictures show.", "en", 150),
    ]).astype(np.float64)
    room = np.zeros(int(0.06 * RATE))
    room[int(0.02 * RATE)] = 0.25  # 20 ms late, -12 dB
    room[int(0.02 * RATE) + 40] = 0.08
    echo = np.convolve(ref, room)[: len(ref)]
    visitor = synthesize("stop", "en-us+f3", 160).astype(np.float64) * 0.5
    mic = echo.copy()
    at = (len(mic) - len(visitor) - RATE // 2) // 256 * 256  # whole blocks before it
    mic[at : at + len(visitor)] += visitor
    canceller = EchoCanceller()
    before = _run(canceller, mic[:at], ref[:at])
    assert canceller.converged
    residual = np.concatenate([before, _run(canceller, mic[at:], ref[at:])])
    settled = slice(len(mic) // 2, at)
    # Once learnt, the kiosk's own voice is mostly gone...
    assert _energy(mic[settled]) > 10 ** 1.5 * _energy(residual[settled])
    # ...while the visitor's word is left nearly as spoken.
    spoken = slice(at, at + len(visitor))
    error = residual[spoken] - visitor
    assert _energy(visitor) > 10 * _energy(error)


def test_canceller_never_calls_a_microphone_without_the_echo_converged() -> None:
    rng = np.random.default_rng(1)
    ref = rng.standard_normal(5 * RATE) * 3000
    mic = rng.standard_normal(5 * RATE) * 3000  # hears something else entirely (a headset)
    canceller = EchoCanceller()
    _run(canceller, mic, ref)
    assert not canceller.converged


def test_gate_opens_only_for_someone_else_once_converged() -> None:
    quiet = np.full(480, 10.0)
    echo = np.full(480, 3000.0)
    gate = NearEndGate()
    for _ in range(40):
        gate.feed(quiet, echo)  # only a trace of the echo is left
    assert not gate.open
    for _ in range(10):
        gate.feed(np.full(480, 3000.0), echo, converged=False)
    assert not gate.open  # a filter that has not learnt the room proves nothing
    for _ in range(10):
        gate.feed(np.full(480, 3000.0), echo)
    assert gate.open


def test_delay_is_measured_between_samples() -> None:
    rng = np.random.default_rng(2)
    ref = rng.standard_normal(RATE)
    positions = np.arange(len(ref)) - 100.5
    mic = np.interp(positions, np.arange(len(ref)), ref, left=0.0)
    lag, strength = delay_of(mic, ref, 400)
    assert abs(lag - 100.5) < 0.2
    assert strength > 0.5  # unrelated signals give a few hundredths


@needs_espeak
def test_spotter_hears_stop_and_not_silence() -> None:
    spotter = StopSpotter()
    silence = np.zeros(RATE, dtype=np.int16)
    word = np.concatenate([silence, synthesize("stop", "en-us+m3", 150), silence])
    pcm = word.astype("<i2").tobytes()
    hits = [spotter.feed(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]
    assert any(hits)
    spotter.reset()
    quiet = silence.tobytes() * 2
    assert not any(spotter.feed(quiet[i : i + 960]) for i in range(0, len(quiet), 960))


def test_output_tap_keeps_recent_output_with_its_timing() -> None:
    tap = OutputTap(rate=1000, seconds=1.0)
    assert tap.position_at(5.0) is None
    for block in range(12):  # 1.2 s: the oldest 0.2 s is overwritten
        samples = np.arange(block * 100, block * 100 + 100, dtype=np.float32)
        tap.write(samples, due=10.0 + block * 0.1)
    position = tap.position_at(10.55)
    assert position == pytest.approx(550.0)
    read = tap.read(550.25, 4, 1.5)
    assert read == pytest.approx([550.25, 551.75, 553.25, 554.75])
    assert not tap.read(100.0, 3, 1.0).any()  # overwritten
    assert not tap.read(1300.0, 3, 1.0).any()  # not played yet
    tap.slipped()  # an underflow: the listener must learn that timing may have slipped
    assert tap.slips == 1
