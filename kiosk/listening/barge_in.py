"""Barge-in while the kiosk speaks: cancel its own voice from the microphone, then spot "stop".

The kiosk knows exactly what it plays, so the leak of its loudspeaker into the microphone can be
estimated and subtracted: `EchoCanceller` is a partitioned-block frequency-domain adaptive filter
(the multi-delay filter of Soo and Pang, 1990) from the played reference to the microphone, with a
second "foreground" copy that only takes the adaptive filter's weights while they cancel better,
so a visitor talking over the kiosk does not make the output diverge. `StopSpotter` listens to
what is left for the keyphrase "stop" with its own tiny pocketsphinx decoder.

Audio only passes through, as numpy arrays in memory; nothing is kept beyond a couple of seconds.

Used by the live listener while the kiosk speaks (`create_listener` with the kiosk's speaker;
setting `barge_in`), which acts on a spot only once its recogniser also hears "stop" in the
`cleaned` audio around it: the spotter alone also fires on chatter ("shop", "top").
Measured by `benchmarks/barge_in.py` (docs/voice.md, "Barge-in"). Offline,
the canceller plus the near-end gate catch 95-100% of stops with no false alarm in 10 minutes of
reading. Live in the PulseAudio room, with the reference read from the player's tap as the
listener reads it: see docs/voice.md. Each output underflow slips the tap against what is heard
(nothing is spotted for SLIP_HOLD_S after one); with the player's former 12 ms output latency
they came whenever another thread held the GIL that long, and a live run on a loaded machine
caught 1 of 29 stops.

Libraries considered: the `speexdsp` and `webrtc-audio-processing` bindings have no wheel for
Python 3.11 on Linux (they build with swig and a C++ toolchain; last released in 2018 and 2019),
and `webrtc-noise-gain` has no echo canceller; PulseAudio's `module-echo-cancel` works only when
playback and capture both go through its sink and source, which PortAudio on ALSA alone lacks.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from kiosk.listening.audio import RATE
from kiosk.listening.lexicon import acoustic_model_path, dictionary_text, pronunciations

Floats = npt.NDArray[np.float64]

#: Samples per block of the adaptive filter (16 ms at 16 kHz).
BLOCK = 256
#: Blocks the filter spans: 8 x 16 ms = 128 ms covers the loudspeaker-to-microphone delay, the
#: room's first reflections and the uncertainty of the reference's timing.
PARTITIONS = 8
#: Adaptation step of the background filter (normalised per frequency bin).
STEP = 0.4
#: The foreground filter takes the background's weights when, over the last few blocks, the
#: background's residual is this much smaller; the background is reset to the foreground when its
#: residual grows this much larger (it diverged during double talk).
COPY_RATIO = 0.7
RESET_RATIO = 4.0
#: Blocks over which residual energies are compared (about 0.1 s).
COMPARE_BLOCKS = 6
#: The canceller counts as converged while, over the 3 s of the kiosk's speech before the last
#: second, it removed this much of the microphone's energy (dB). The last second is left out so
#: that a visitor's "stop" does not count against it; a filter that has lost the echo (the
#: reference's timing slipped) stops counting within seconds, so its residual is not spotted in.
CONVERGED_DB = 10.0
CONVERGED_BLOCKS = 250  # 4 s of blocks...
RECENT_BLOCKS = 62  # ...of which the last 1 s is left out

#: The keyphrase that stops speech, and its spotting threshold (a log-likelihood ratio: lower
#: spots more, with more false alarms). See benchmarks/barge_in.py.
KEYPHRASE = "stop"
SPOT_THRESHOLD = 1e-30


class EchoCanceller:
    """Subtract the part of the microphone explained by the reference (what the kiosk played).

    Feed equal-length chunks of microphone and reference (float, 16 kHz, the reference roughly
    aligned, no later than the microphone); `process` returns the residual, BLOCK samples late.
    """

    def __init__(
        self, block: int = BLOCK, partitions: int = PARTITIONS, step: float = STEP
    ) -> None:
        self.block = block
        self.partitions = partitions
        self.step = step
        bins = block + 1
        self._background = np.zeros((partitions, bins), dtype=np.complex128)
        self._foreground = np.zeros((partitions, bins), dtype=np.complex128)
        self._spectra = np.zeros((partitions, bins), dtype=np.complex128)
        self._power = np.full(bins, 1e-3)
        self._previous_ref = np.zeros(block)
        self._mic = np.zeros(0)
        self._ref = np.zeros(0)
        self._background_errors = np.zeros(COMPARE_BLOCKS)
        self._foreground_errors = np.zeros(COMPARE_BLOCKS)
        self._blocks = 0
        self.echo = np.zeros(0)
        self._mic_energy = np.zeros(CONVERGED_BLOCKS)
        self._residual_energy = np.zeros(CONVERGED_BLOCKS)
        #: The filter cancels the kiosk's voice well just now (see CONVERGED_DB).
        self.converged = False

    def process(self, mic: Floats, ref: Floats) -> Floats:
        """Residual for as many whole blocks as have arrived (possibly none)."""
        self._mic = np.concatenate([self._mic, np.asarray(mic, dtype=np.float64)])
        self._ref = np.concatenate([self._ref, np.asarray(ref, dtype=np.float64)])
        out: list[Floats] = []
        echoes: list[Floats] = []
        while len(self._mic) >= self.block and len(self._ref) >= self.block:
            d, self._mic = self._mic[: self.block], self._mic[self.block :]
            x, self._ref = self._ref[: self.block], self._ref[self.block :]
            residual = self._block(d, x)
            out.append(residual)
            echoes.append(d - residual)
        #: The echo the filter predicted for the samples just returned (for the near-end gate).
        self.echo = np.concatenate(echoes) if echoes else np.zeros(0)
        return np.concatenate(out) if out else np.zeros(0)

    def _block(self, d: Floats, x: Floats) -> Floats:
        n = self.block
        spectrum = np.fft.rfft(np.concatenate([self._previous_ref, x]))
        self._previous_ref = x
        self._spectra = np.roll(self._spectra, 1, axis=0)
        self._spectra[0] = spectrum
        self._power = 0.9 * self._power + 0.1 * (np.abs(spectrum) ** 2)
        # The echo each filter predicts for this block (the last half of the circular product).
        e_back = d - np.fft.irfft((self._background * self._spectra).sum(axis=0))[n:]
        e_fore = d - np.fft.irfft((self._foreground * self._spectra).sum(axis=0))[n:]
        slot = self._blocks % COMPARE_BLOCKS
        self._blocks += 1
        self._background_errors[slot] = float(e_back @ e_back)
        self._foreground_errors[slot] = float(e_fore @ e_fore)
        # Normalised, gradient-constrained update of the background filter.
        error = np.fft.rfft(np.concatenate([np.zeros(n), e_back]))
        norm = self.partitions * self._power + 1e-2 * (self._power.mean() + 1e-6)
        gradient = self.step * np.conj(self._spectra) * error / norm
        taps = np.fft.irfft(gradient, axis=1)
        taps[:, n:] = 0.0  # keep each partition's impulse response causal and one block long
        self._background += np.fft.rfft(taps, axis=1)
        back, fore = self._background_errors.sum(), self._foreground_errors.sum()
        reference_heard = float(x @ x) > 1e-4 * n
        slot = self._blocks % CONVERGED_BLOCKS
        self._mic_energy[slot] = float(d @ d) if reference_heard else 0.0
        self._residual_energy[slot] = float(e_fore @ e_fore) if reference_heard else 0.0
        span = np.arange(CONVERGED_BLOCKS - RECENT_BLOCKS)
        older = (slot - RECENT_BLOCKS - span) % CONVERGED_BLOCKS
        mic_energy = self._mic_energy[older]
        self.converged = bool(
            np.count_nonzero(mic_energy) > len(older) // 3
            and mic_energy.sum() > 10 ** (CONVERGED_DB / 10) * self._residual_energy[older].sum()
        )
        if reference_heard and back < COPY_RATIO * fore:
            self._foreground = self._background.copy()
        elif back > RESET_RATIO * fore + 1e-3:
            self._background = self._foreground.copy()
        return e_fore


class NearEndGate:
    """Is someone other than the kiosk speaking? Compares the residual with the predicted echo.

    Fed per frame the residual and the echo the canceller predicted; open when the residual is
    well above both what is left of the echo (a fraction of the prediction) and the quiet floor.
    """

    def __init__(
        self, echo_fraction: float = 0.25, floor_factor: float = 4.0, hold_frames: int = 33,
        min_frames: int = 5,
    ) -> None:
        self.echo_fraction = echo_fraction
        self.floor_factor = floor_factor
        self._residual = 0.0
        self._echo = 0.0
        self._recent: list[float] = []
        self._active: list[bool] = []
        self._hold = hold_frames
        self._min = min_frames

    def feed(self, residual: Floats, echo: Floats, converged: bool = True) -> None:
        """One frame of residual and predicted echo; `converged`: the canceller's state."""
        r = float(np.mean(residual**2)) if len(residual) else 0.0
        y = float(np.mean(echo**2)) if len(echo) else 0.0
        self._residual = 0.7 * self._residual + 0.3 * r
        self._echo = 0.7 * self._echo + 0.3 * y
        self._recent = [*self._recent[-99:], self._residual]  # 3 s of 30 ms frames
        floor = min(self._recent) + 1.0
        active = converged and (
            self._residual > self.echo_fraction * self._echo + self.floor_factor * floor
        )
        self._active = [*self._active[-(self._hold - 1):], active]

    @property
    def open(self) -> bool:
        """Near-end speech in enough of the last second for a word."""
        return sum(self._active) >= self._min


class StopSpotter:
    """A tiny pocketsphinx keyphrase search for "stop", fed 16 kHz int16 PCM as it comes."""

    def __init__(self, threshold: float = SPOT_THRESHOLD, keyphrase: str = KEYPHRASE) -> None:
        from pocketsphinx import Decoder

        words = keyphrase.split()
        known = pronunciations(words)
        with tempfile.TemporaryDirectory(prefix="kiosk-stop-") as folder:
            # pocketsphinx reads its dictionary from a file: it holds only the keyphrase's words.
            dict_path = Path(folder) / "stop.dict"
            dict_path.write_text(dictionary_text(known), encoding="utf-8")
            self._decoder: Any = Decoder(
                hmm=str(acoustic_model_path()), dict=str(dict_path), lm=None,
                keyphrase=keyphrase, kws_threshold=threshold, samprate=RATE,
                loglevel="FATAL", dither=False,
            )
        self._decoder.start_utt()
        self._fed = 0

    def feed(self, pcm: bytes) -> bool:
        """Decode more audio; True when the keyphrase was just spotted (the search restarts)."""
        self._decoder.process_raw(pcm, False, False)
        self._fed += len(pcm)
        if self._decoder.hyp() is None:
            return False
        self.reset()
        return True

    def reset(self) -> None:
        """Forget what was heard so far (and bound the utterance's length)."""
        self._decoder.end_utt()
        self._decoder.start_utt()
        self._fed = 0

    def feed_bounded(self, pcm: bytes, max_seconds: float = 30.0) -> bool:
        """`feed`, restarting the search now and then so a long reading never grows it."""
        spotted = self.feed(pcm)
        if not spotted and self._fed > max_seconds * RATE * 2:
            self.reset()
        return spotted


class Spotting(Protocol):
    """Spots "stop" in cleaned audio as it comes: a StopSpotter here, or the recognition
    process's (kiosk.listening.recognizer_process), which keeps its decoder off this process's
    GIL."""

    def feed_bounded(self, pcm: bytes) -> bool: ...

    def reset(self) -> None: ...


class ReferenceTap(Protocol):
    """What the player sent to the loudspeaker (kiosk.speech.output_tap.OutputTap)."""

    rate: int
    slips: int  # output underflows so far

    def position_at(self, when: float) -> float | None: ...

    def read(self, start: float, count: int, step: float) -> npt.NDArray[np.float32]: ...


#: The microphone is delayed this much against the reference read at the frame's own time (the
#: echo must follow the reference, for a causal filter): the
#: timestamps of both streams are only good to tens of milliseconds, so the true delay is then
#: measured from the signals and the reference realigned (ALIGN_* below).
LEAD_S = 0.15
#: Every ALIGN_EVERY_S the delay from reference to microphone is measured over the last
#: ALIGN_WINDOW_S (cross-correlation, up to MAX_DELAY_S); outside ALIGN_RANGE_S the reference is
#: moved so the delay becomes ALIGN_TARGET_S (within the filter's 128 ms) and the filter relearns.
ALIGN_EVERY_S = 1.0
ALIGN_WINDOW_S = 2.0
MAX_DELAY_S = 0.3
ALIGN_RANGE_S = (0.01, 0.07)
ALIGN_TARGET_S = 0.03
#: A correlation peak weaker than this (normalised) is no measurement (the kiosk is silent, or
#: the microphone does not hear its loudspeaker at all: a headset).
MIN_CORRELATION = 0.3
#: The two streams' clocks drift apart (measured: 120-150 ppm through PulseAudio's loopback);
#: the reference's read rate is corrected from the delays measured over this many seconds.
DRIFT_SPAN = 6

#: A measured delay this far from the one the filter learnt is put right by moving the reference.
STEP_S = 0.0003

#: After the output slipped (an underflow), nothing is spotted until the delay has been measured
#: again and the filter has caught up (seconds).
SLIP_HOLD_S = 2.5

#: A gap this long in the microphone's frames (the listener was idle) means realigning from the
#: timestamps.
GAP_S = 0.5


def delay_of(mic: Floats, reference: Floats, max_lag: int) -> tuple[float, float]:
    """(lag in samples by which `mic` follows `reference`, normalised correlation at it).

    The lag is refined between samples (a parabola through the peak), for drift tracking.
    """
    size = 1 << int(np.ceil(np.log2(len(mic) + max_lag)))
    spectrum = np.fft.rfft(mic, size) * np.conj(np.fft.rfft(reference, size))
    correlation = np.abs(np.fft.irfft(spectrum, size)[:max_lag])
    lag = int(np.argmax(correlation))
    norm = float(np.sqrt((mic @ mic) * (reference @ reference))) + 1e-9
    fine = float(lag)
    if 0 < lag < max_lag - 1:
        a, b, c = correlation[lag - 1], correlation[lag], correlation[lag + 1]
        if a - 2 * b + c < 0:
            fine += 0.5 * (a - c) / (a - 2 * b + c)
    return fine, float(correlation[lag] / norm)


class BargeIn:
    """Microphone frames while the kiosk speaks -> True when a visitor says "stop".

    The reference is read from the player's tap as one continuous stream, first placed by the
    timestamps, then realigned by measuring the delay; the echo canceller removes the kiosk's
    voice; "stop" counts only when the near-end gate saw someone else speaking. Feed every frame
    (`process`), so the alignment and the filter stay learnt between readings; what is spotted
    only matters while the kiosk speaks. Audio is held only for the last ALIGN_WINDOW_S, and
    dropped while the kiosk is silent.
    """

    def __init__(
        self, tap: ReferenceTap, threshold: float = SPOT_THRESHOLD,
        partitions: int = PARTITIONS, spotter: Spotting | None = None,
    ) -> None:
        self._tap = tap
        self._partitions = partitions
        self._canceller = EchoCanceller(partitions=partitions)
        self._spotter = spotter if spotter is not None else StopSpotter(threshold)
        self._gate = NearEndGate()
        self._position: float | None = None
        self._last_heard = 0.0
        self._window = int(ALIGN_WINDOW_S * RATE)
        self._mic = np.zeros(0)
        self._ref = np.zeros(0)
        self._since_align = 0
        self._late = np.zeros(int(LEAD_S * RATE))
        self._fed = 0  # microphone samples fed so far
        self._delays: list[tuple[int, float]] = []  # (samples fed, measured delay)
        self._rate_fix = 1.0  # read the reference this much faster than nominal
        self._slips = tap.slips
        self._hold_until = 0  # samples fed before which nothing spotted counts
        #: The delay (s) from reference to microphone that the filter learnt (kept by realigning).
        self.delay_s: float | None = None
        #: The microphone with the kiosk's voice cancelled, for the audio of the last `process`
        #: (16 kHz s16le, a block behind; empty while nothing could be cancelled).
        self.cleaned = b""

    @property
    def converged(self) -> bool:
        return self._canceller.converged

    def reset(self) -> None:
        """A new stretch of speech: forget what was spotted (the room is learnt still)."""
        self._spotter.reset()
        self._gate = NearEndGate()

    def process(self, frame: bytes, heard_at: float) -> bool:
        """One microphone frame (16 kHz s16le) whose last sample was heard at `heard_at`."""
        self.cleaned = b""
        mic = np.concatenate([self._late, np.frombuffer(frame, dtype="<i2").astype(np.float64)])
        count = len(mic) - len(self._late)
        mic, self._late = mic[:count], mic[count:]
        step = self._tap.rate / RATE * self._rate_fix
        if self._position is None or heard_at - self._last_heard > GAP_S:
            start = self._tap.position_at(heard_at - count / RATE)
            if start is None:
                return False
            self._position = start
        self._last_heard = heard_at
        reference = self._tap.read(self._position, count, step).astype(np.float64) * 32768.0
        self._position += count * step
        self._mic = np.concatenate([self._mic, mic])[-self._window :]
        self._ref = np.concatenate([self._ref, reference])[-self._window :]
        if not self._ref.any():
            # The kiosk has been silent for a while: nothing to cancel, nothing to keep.
            self._mic = self._mic[:0]
            return False
        self._since_align += count
        self._fed += count
        if self._tap.slips != self._slips:
            self._slips = self._tap.slips
            self._hold_until = self._fed + int(SLIP_HOLD_S * RATE)
            self._since_align = 0
            self._mic = self._mic[-count:]
            self._ref = self._ref[-count:]
        if self._since_align >= ALIGN_EVERY_S * RATE and len(self._mic) == self._window:
            self._since_align = 0
            self._align()
        residual = self._canceller.process(mic, reference)
        if not len(residual):
            return False
        self._gate.feed(residual, self._canceller.echo, self._canceller.converged)
        pcm = np.clip(np.round(residual), -32768, 32767).astype("<i2").tobytes()
        self.cleaned = pcm
        spotted = self._spotter.feed_bounded(pcm)
        return spotted and self._gate.open and self._fed >= self._hold_until

    def _align(self) -> None:
        lag, strength = delay_of(self._mic, self._ref, int(MAX_DELAY_S * RATE))
        if strength < MIN_CORRELATION or self._position is None:
            return
        delay = lag / RATE
        if ALIGN_RANGE_S[0] <= delay <= ALIGN_RANGE_S[1]:
            if self.delay_s is not None and abs(delay - self.delay_s) > STEP_S:
                # The output slipped (an underflow) or drifted: move the reference back to the
                # delay the filter has learnt, rather than have it learn the room again.
                self._position -= (delay - self.delay_s) * self._tap.rate
                self._delays = []
                self._mic = self._mic[:0]
                self._ref = self._ref[:0]
                return
            self.delay_s = self.delay_s if self.delay_s is not None else delay
            self._delays = [*self._delays, (self._fed, lag)][-DRIFT_SPAN:]
            if len(self._delays) == DRIFT_SPAN:
                fed, lags = zip(*self._delays, strict=True)
                slope = float(np.polyfit(fed, lags, 1)[0])
                # A delay that shrinks means the microphone runs ahead: read the reference faster.
                self._rate_fix *= 1.0 - slope
                self._delays = []
            return
        self._delays = []
        # Read the reference earlier by the difference: the echo then follows it by the target.
        self._position -= (delay - ALIGN_TARGET_S) * self._tap.rate
        self.delay_s = ALIGN_TARGET_S
        self._canceller = EchoCanceller(partitions=self._partitions)
        self._mic = self._mic[:0]
        self._ref = self._ref[:0]
