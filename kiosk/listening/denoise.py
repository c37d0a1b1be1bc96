"""A streaming spectral noise suppressor for a noisy waiting room, in numpy.

The room's steady noise (ventilation, murmur) is tracked in each frequency band from the quiet
frames and attenuated with a floored Wiener-style gain. It works frame by frame, so live audio and
files go through exactly the same path. Audio only passes through; nothing is kept.
"""

from __future__ import annotations

import numpy as np

FRAME = 512  # 32 ms at 16 kHz
HOP = FRAME // 2
#: Never attenuate a band by more than this (as a gain), which avoids "musical" artefacts.
GAIN_FLOOR = 0.3
#: How strongly the noise estimate is subtracted.
OVERSUBTRACT = 1.0


class Denoiser:
    """Feed int16 PCM bytes in any chunk size; get cleaned int16 PCM bytes out (HOP delay)."""

    def __init__(self) -> None:
        self._window = np.sqrt(np.hanning(FRAME + 1)[:FRAME])
        self.reset()

    def reset(self) -> None:
        """Forget the noise estimate and any buffered audio."""
        self._pending = np.zeros(0, dtype=np.float64)
        self._history = np.zeros(HOP, dtype=np.float64)
        self._overlap = np.zeros(HOP, dtype=np.float64)
        self._noise: np.ndarray | None = None
        self._frames = 0

    def process(self, pcm: bytes) -> bytes:
        samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
        self._pending = np.concatenate([self._pending, samples])
        out: list[np.ndarray] = []
        while self._pending.size >= HOP:
            block, self._pending = self._pending[:HOP], self._pending[HOP:]
            frame = np.concatenate([self._history, block])
            self._history = block
            out.append(self._frame(frame))
        if not out:
            return b""
        cleaned = np.concatenate(out)
        return np.clip(np.round(cleaned), -32768, 32767).astype("<i2").tobytes()

    def _frame(self, frame: np.ndarray) -> np.ndarray:
        spectrum = np.fft.rfft(frame * self._window)
        power = spectrum.real**2 + spectrum.imag**2
        self._frames += 1
        if self._noise is None:
            self._noise = power.copy()
        elif self._frames <= 8:
            # The first quarter second is taken as room noise (the endpointer's lead-in).
            self._noise += (power - self._noise) / self._frames
        else:
            # Track slowly: rise only a little on loud frames (speech), fall quickly when quiet.
            rising = power > self._noise
            self._noise = np.where(
                rising, self._noise + 0.01 * (power - self._noise), 0.7 * self._noise + 0.3 * power,
            )
        gain = np.maximum(1.0 - OVERSUBTRACT * self._noise / np.maximum(power, 1e-9), GAIN_FLOOR)
        cleaned = np.fft.irfft(spectrum * gain, n=FRAME) * self._window
        result = self._overlap + cleaned[:HOP]
        self._overlap = cleaned[HOP:]
        return result
