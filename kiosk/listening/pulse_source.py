"""The microphone through the audio server's own recorder (`parec`), in a process of its own.

Through PortAudio's ALSA "pulse" device, a PulseAudio server that died with the microphone open
left PortAudio's capture thread spinning on one error: 300,000 log lines a second, and closing
the stream waited on that thread for ever while holding the lock the speaker needed to reopen
its output, so sound never came back and SIGTERM hung (issue 17). A recorder process cannot do
either: when the server goes it exits, the listener sees the frames stop and opens a new one,
and closing it is a signal. The audio goes from parec's stdout pipe straight to the listener;
nothing is written anywhere.

When the microphone's source goes while the server stays (a USB microphone unplugged),
PulseAudio moves its recordings to the default source, which with no microphone left is the
default sink's monitor, what the kiosk's own loudspeaker plays: the kiosk "listened" to its own
voice and never said its microphone was gone. So the recorder records from one source, named
(the default when it opened, or the one asked for), and ends when the server says that source
was removed (`pactl subscribe`; the listener then opens a new one); and the default sink's
monitor is never taken for a microphone. (parec --verbose would say when it is moved, but it
also asks the server for its timing and prints it 20 times a second, for as long as it runs;
`pactl subscribe` says nothing until the server changes.)
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
    """One `parec` process recording from the source named `source`; its frames reach
    `callback` on a reader thread. A `pactl subscribe` beside it ends it when that source goes
    (see the module's docstring)."""

    def __init__(self, source: str, callback: FrameCallback) -> None:
        command = [
            "parec", "--raw", "--format=s16le", f"--rate={RATE}", "--channels=1",
            "--latency-msec=30", "--client-name=kiosk", "--stream-name=microphone",
            f"--device={source}",
        ]
        self._callback = callback
        self._first_frame = threading.Event()
        # The server's events from before the source is looked up (and looked up again once it
        # delivers, in case it went before the subscription was made).
        self._events = subprocess.Popen(
            ["pactl", "subscribe"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, env={**os.environ, "LC_ALL": "C"},  # English events
        )
        index = _source_index(source)
        self._process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        self._reader = threading.Thread(target=self._read, name="kiosk-microphone", daemon=True)
        self._reader.start()
        self._watcher = threading.Thread(
            target=self._watch, args=(f"Event 'remove' on source #{index}",),
            name="kiosk-microphone-watch", daemon=True,
        )
        self._watcher.start()
        reason = None
        if index is None:
            reason = f"no microphone named {source!r}"
        elif not self._first_frame.wait(FIRST_FRAME_S):
            reason = self._failure()
        elif _source_index(source) != index:
            reason = f"the microphone {source!r} went as it was opened"
        if reason is not None:
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
        # The recorder ended (the server went, or the source): the listener notices the
        # silence and reopens.

    def _watch(self, removed: str) -> None:
        """End the recorder when the server says its source was removed."""
        stdout = self._events.stdout
        assert stdout is not None
        for line in stdout:
            if line.decode("utf-8", "replace").strip() == removed:
                self._process.terminate()

    def _failure(self) -> str:
        """Why the recorder gave nothing: its own first line of complaint, if it ended."""
        if self._process.poll() is None:
            return "the microphone gives no sound"
        assert self._process.stderr is not None
        said = self._process.stderr.read().decode("utf-8", "replace").strip()
        return said.splitlines()[0] if said else f"the recorder ended ({self._process.returncode})"

    def close(self) -> None:
        for process in (self._process, self._events):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._reader.join(timeout=STOP_S)
        self._watcher.join(timeout=STOP_S)
        for pipe in (self._process.stdout, self._process.stderr, self._events.stdout):
            if pipe is not None:
                pipe.close()


def _pactl(*args: str) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(["pactl", *args], capture_output=True, text=True, timeout=ASK_S,
                              check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None


def _server_info() -> dict[str, str]:
    """What `pactl info` says ("Default Source": ..., "Default Sink": ...); empty when no
    server answers."""
    answer = _pactl("info")
    if answer is None or answer.returncode != 0:
        return {}
    pairs = (line.partition(": ") for line in answer.stdout.splitlines())
    return {key.strip(): value.strip() for key, _, value in pairs if value.strip()}


def _source_index(name: str) -> int | None:
    """The server's index for the source `name`, or None when there is no such source."""
    listing = _pactl("list", "short", "sources")
    if listing is None or listing.returncode != 0:
        return None
    for line in listing.stdout.splitlines():
        fields = line.split("\t")
        if len(fields) > 1 and fields[1] == name and fields[0].isdigit():
            return int(fields[0])
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
    return shutil.which("parec") is not None and bool(_server_info())


def microphone_source(device: str = "default") -> SourceFactory:
    """The kiosk's microphone: through the audio server's recorder whenever a server answers,
    else through PortAudio (ALSA with no server). Decided at each open, so a kiosk that started
    before its audio server, or outlived it, takes the recorder once the server is there.

    `device` is "default" or part of a device's name.
    """
    portaudio = sounddevice_source(device)

    def open_microphone(callback: FrameCallback) -> AudioStream:
        info = _server_info() if shutil.which("parec") is not None else {}
        if not info:
            return portaudio(callback)
        if device != "default":
            chosen = _source_named(device)
            if chosen is None:
                raise MicrophoneError(f"no microphone named like {device!r}")
            return RecorderStream(chosen, callback)
        chosen = info.get("Default Source")
        if chosen is None:
            raise MicrophoneError("no default microphone")
        if chosen == f"{info.get('Default Sink')}.monitor":
            raise MicrophoneError(f"no microphone ({chosen} is what the loudspeaker plays)")
        return RecorderStream(chosen, callback)

    return open_microphone
