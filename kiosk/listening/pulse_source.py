"""The microphone through the audio server's own recorder (`parec`), in a process of its own.

Through PortAudio's ALSA "pulse" device, a PulseAudio server that died with the microphone open
left PortAudio's capture thread spinning on one error: 300,000 log lines a second, and closing
the stream waited on that thread for ever while holding the lock the speaker needed to reopen
its output, so sound never came back and SIGTERM hung (issue 17). A recorder process cannot do
either: when the server goes it exits, the listener sees the frames stop and opens a new one,
and closing it is a signal. The audio goes from parec's stdout pipe straight to the listener;
nothing is written anywhere.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading

from kiosk.listening.audio import RATE
from kiosk.listening.listener import (
    FRAME_SAMPLES,
    AudioStream,
    FrameCallback,
    MicrophoneError,
    SourceFactory,
    sounddevice_source,
)

log = logging.getLogger(__name__)

FRAME_BYTES = FRAME_SAMPLES * 2
#: The recorder's first frame must come this soon, or the microphone does not work.
FIRST_FRAME_S = 3.0
#: Time a recorder gets to end on SIGTERM before it is killed.
STOP_S = 1.0
#: Seconds a `pactl` question may take; a server that hangs is as good as none.
ASK_S = 3.0


class RecorderStream:
    """One `parec` process; its frames reach `callback` on a reader thread."""

    def __init__(self, device: str | None, callback: FrameCallback) -> None:
        command = [
            "parec", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
            "--latency-msec=30", "--client-name=kiosk", "--stream-name=microphone",
        ]
        if device is not None:
            command.append(f"--device={device}")
        self._callback = callback
        self._first_frame = threading.Event()
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._read, name="kiosk-microphone", daemon=True)
        self._reader.start()
        if not self._first_frame.wait(FIRST_FRAME_S):
            reason = self._failure()
            self.close()
            raise MicrophoneError(reason)

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        pending = b""
        while chunk := os.read(stdout.fileno(), 8 * FRAME_BYTES):
            pending += chunk
            while len(pending) >= FRAME_BYTES:
                frame, pending = pending[:FRAME_BYTES], pending[FRAME_BYTES:]
                self._first_frame.set()
                self._callback(frame)
        # The recorder ended (the server went): the listener notices the silence and reopens.

    def _failure(self) -> str:
        """Why the recorder gave nothing: its own first line of complaint, if it ended."""
        if self._process.poll() is None:
            return "the microphone gives no sound"
        assert self._process.stderr is not None
        said = self._process.stderr.read().decode("utf-8", "replace").strip()
        return said.splitlines()[0] if said else f"the recorder ended ({self._process.returncode})"

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=STOP_S)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._reader.join(timeout=STOP_S)
        for pipe in (self._process.stdout, self._process.stderr):
            if pipe is not None:
                pipe.close()


def _pactl(*args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=ASK_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _source_named(part: str) -> str | None:
    """The PulseAudio source whose name or description contains `part` (not a monitor)."""
    listing = _pactl("list", "sources")
    if listing is None or listing.returncode != 0:
        return None
    name = ""
    for line in listing.stdout.splitlines():
        key, _, value = line.strip().partition(": ")
        if key == "Name":
            name = value
        elif key == "Description" and not name.endswith(".monitor") and (
            part.lower() in name.lower() or part.lower() in value.lower()
        ):
            return name
    return None


def pulse_server_answers() -> bool:
    """True when `parec` is installed and a PulseAudio (or PipeWire-Pulse) server answers."""
    if shutil.which("parec") is None:
        return False
    answer = _pactl("info")
    return answer is not None and answer.returncode == 0


def microphone_source(device: str = "default") -> SourceFactory:
    """The kiosk's microphone: through the audio server's recorder whenever a server answers,
    else through PortAudio (ALSA with no server). Decided at each open, so a kiosk that started
    before its audio server, or outlived it, takes the recorder once the server is there.

    `device` is "default" or part of a device's name.
    """
    portaudio = sounddevice_source(device)

    def open_microphone(callback: FrameCallback) -> AudioStream:
        if not pulse_server_answers():
            return portaudio(callback)
        chosen = None
        if device != "default":
            chosen = _source_named(device)
            if chosen is None:
                raise MicrophoneError(f"no microphone named like {device!r}")
        return RecorderStream(chosen, callback)

    return open_microphone
