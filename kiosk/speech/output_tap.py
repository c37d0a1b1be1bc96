"""What the loudspeaker was sent, and when each sample is heard: the reference the barge-in
echo canceller subtracts from the microphone."""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
import numpy.typing as npt

Samples = npt.NDArray[np.float32]


class OutputTap:
    """The last few seconds the player sent to the loudspeaker, and when each sample is heard.

    Written by the audio callback; read by the barge-in canceller (kiosk/listening/barge_in.py,
    used by the listener while the kiosk speaks: docs/voice.md, "Barge-in"). Bounded:
    older audio is overwritten; only the kiosk's own output is held, in memory.
    """

    def __init__(self, rate: int, seconds: float = 3.0) -> None:
        self.rate = rate
        self._ring = np.zeros(int(rate * seconds), dtype=np.float32)
        self._written = 0  # samples written since the start
        #: (sample index, monotonic time it reaches the loudspeaker), one per callback.
        self._anchors: deque[tuple[int, float]] = deque(maxlen=32)
        self._lock = threading.Lock()
        #: Output underflows so far: each may have slipped what is heard against this record.
        self.slips = 0

    def write(self, block: Samples, due: float) -> None:
        """Record one callback's output, whose first sample is heard at `due`."""
        size = len(self._ring)
        with self._lock:
            start = self._written % size
            count = min(len(block), size)
            first = min(count, size - start)
            self._ring[start:start + first] = block[:first]
            self._ring[: count - first] = block[first:count]
            self._anchors.append((self._written, due))
            self._written += len(block)

    def slipped(self) -> None:
        """The output underflowed: what follows may be heard later than recorded."""
        with self._lock:
            self.slips += 1

    def position_at(self, when: float) -> float | None:
        """The (fractional) sample index heard at monotonic time `when`; None before any sound.

        The median over recent callbacks smooths the jitter of each one's timing.
        """
        with self._lock:
            if not self._anchors:
                return None
            offsets = sorted(index - due * self.rate for index, due in self._anchors)
        return float(offsets[len(offsets) // 2] + when * self.rate)

    def read(self, start: float, count: int, step: float) -> Samples:
        """`count` samples from index `start` every `step` samples (interpolated); zeros where
        nothing was written or it has been overwritten."""
        positions = start + np.arange(count) * step
        size = len(self._ring)
        with self._lock:
            written = self._written
            valid = (positions >= max(0, written - size + 1)) & (positions < written - 1)
            if not valid.any():
                return np.zeros(count, dtype=np.float32)
            low = np.floor(positions[valid]).astype(np.int64)
            frac = (positions[valid] - low).astype(np.float32)
            a = self._ring[low % size]
            b = self._ring[(low + 1) % size]
        out = np.zeros(count, dtype=np.float32)
        out[valid] = a + (b - a) * frac
        return out
