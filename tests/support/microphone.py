"""A virtual microphone for tests and benchmarks: PulseAudio's pipe-source, fed in real time."""

from __future__ import annotations

import os
import queue
import threading
import time
from pathlib import Path

from kiosk.listening.listener import FRAME_SAMPLES


class MicrophoneFeeder:
    """Keeps the PulseAudio pipe-source microphone fed in real time, as a real one would be:
    silence, with speech mixed in when asked."""

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
        self.speech: queue.Queue[bytes] = queue.Queue()
        #: Set: the FIFO is let go and nothing is written, as with no microphone feeding it.
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        """Feeds the FIFO; when the audio server dies (a fault test) the pipe breaks, and the
        feeder waits for a server to read it again, as a real microphone outlives its server."""
        chunk = FRAME_SAMPLES * 2
        pending = b""
        while not self._stop.is_set():
            if self.paused.is_set():
                self._stop.wait(0.05)
                continue
            try:
                # Non-blocking open fails (ENXIO, ENOENT) while no server reads the FIFO.
                descriptor = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                self._stop.wait(0.1)
                continue
            os.set_blocking(descriptor, True)
            next_time = time.monotonic()
            try:
                while not self._stop.is_set():
                    if self.paused.is_set():
                        break
                    if not pending:
                        try:
                            pending = self.speech.get_nowait()
                        except queue.Empty:
                            pending = bytes(chunk)
                    os.write(descriptor, pending[:chunk])
                    pending = pending[chunk:]
                    next_time += FRAME_SAMPLES / 16_000
                    time.sleep(max(0.0, next_time - time.monotonic()))
            except BrokenPipeError:
                pending = b""
            finally:
                os.close(descriptor)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
