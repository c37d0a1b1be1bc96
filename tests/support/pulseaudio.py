"""A private PulseAudio daemon with virtual devices, for tests on the real audio path.

`kiosk_out` is a null sink (the default output): whatever the kiosk plays can be recorded from
`kiosk_out.monitor`. `kiosk_mic` is a pipe source (the default input): PCM written into its FIFO
arrives at the default microphone as 16 kHz mono s16le; `unplug_microphone` and
`plug_microphone` take it away and bring it back with the server running.

`room()` adds, for one test, a room the microphone hears: a null sink `room` whose monitor is the
default microphone, into which the kiosk's own loudspeaker leaks (a loopback from
`kiosk_out.monitor`, at a chosen level) and a visitor's voice is played with `say_in_room`. The
loopback does not adjust its rate (adjust_time=0), so, as in a real room, the leak's delay stays
put; with PulseAudio's default adjustment it drifted by 100-150 ppm and jumped each time a
visitor's voice started playing into the room.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

SINK = "kiosk_out"
SOURCE = "kiosk_mic"
MIC_RATE = 16_000


@dataclass(frozen=True)
class _Drain:
    """What start_recording's drain thread keeps for one recorder."""

    thread: threading.Thread
    chunks: list[bytes]
    arrivals: list[tuple[float, int]]  # (time.monotonic() of arrival, bytes so far)
    rate: int


#: Each recorder's drain, for as long as the recorder is kept.
_drains: weakref.WeakKeyDictionary[subprocess.Popen[bytes], _Drain] = weakref.WeakKeyDictionary()


class PulseAudioServer:
    """Starts and stops one daemon in its own runtime folder; sets the environment to use it."""

    def __init__(self) -> None:
        self.runtime = Path(tempfile.mkdtemp(prefix="kiosk-pulse-"))
        self.fifo = self.runtime / "mic.fifo"
        self.env = {
            "PULSE_RUNTIME_PATH": str(self.runtime / "pulse"),
            "PULSE_STATE_PATH": str(self.runtime / "state"),
            "PULSE_SERVER": f"unix:{self.runtime / 'pulse' / 'native'}",
            "XDG_RUNTIME_DIR": str(self.runtime),
        }
        self._saved: dict[str, str | None] = {}

    def start(self) -> PulseAudioServer:
        if shutil.which("pulseaudio") is None:
            raise RuntimeError("pulseaudio is not installed: run `make test`, which installs it")
        self._launch()
        for name, value in self.env.items():
            self._saved[name] = os.environ.get(name)
            os.environ[name] = value
        self._wait_up()
        return self

    def restart(self) -> None:
        """Kill the daemon and start it again with the same devices, as a crash and restart would."""
        subprocess.run(
            ["pulseaudio", "--kill"],
            env={**os.environ, **self.env, "HOME": str(self.runtime)},
            capture_output=True,
            timeout=10,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.pactl("info").returncode == 0:
            time.sleep(0.1)
        self._launch()
        self._wait_up()

    def _launch(self) -> None:
        (self.runtime / "pulse").mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env, "HOME": str(self.runtime)}
        subprocess.run(
            [
                "pulseaudio",
                "--daemonize=yes",
                "--exit-idle-time=-1",
                "--system=false",
                "-n",
                "--use-pid-file=yes",
                "--log-target=stderr",
                "--log-level=error",
                "--load=module-native-protocol-unix",
                f"--load=module-null-sink sink_name={SINK} rate=48000 channels=2",
                f"--load=module-pipe-source {' '.join(self._microphone_arguments())}",
                "--load=module-always-sink",
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=30,
        )

    def _microphone_arguments(self) -> list[str]:
        return [f"source_name={SOURCE}", f"file={self.fifo}", "format=s16le", f"rate={MIC_RATE}",
                "channels=1"]

    def unplug_microphone(self) -> None:
        """Remove the microphone's source with the server running, as a USB microphone pulled
        out: PulseAudio moves its recordings to the default source, here the sink's monitor."""
        modules = self.pactl("list", "short", "modules").stdout.splitlines()
        found = [line.split("\t")[0] for line in modules if f"source_name={SOURCE} " in line]
        if len(found) != 1 or self.pactl("unload-module", found[0]).returncode != 0:
            raise RuntimeError(f"could not unload the microphone's module: {modules}")

    def plug_microphone(self) -> None:
        """Bring the microphone's source back under its name (and default), as plugged in."""
        loaded = self.pactl("load-module", "module-pipe-source", *self._microphone_arguments())
        if loaded.returncode != 0:
            raise RuntimeError(f"could not load the microphone's module: {loaded.stderr.strip()}")

    def _wait_up(self) -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.pactl("info").returncode == 0:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("PulseAudio did not come up")
        self.pactl("set-default-sink", SINK)
        self.pactl("set-default-source", SOURCE)

    def pactl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["pactl", *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=10,
        )

    def stop(self) -> None:
        subprocess.run(
            ["pulseaudio", "--kill"],
            env={**os.environ, **self.env, "HOME": str(self.runtime)},
            capture_output=True,
            timeout=10,
        )
        for name, value in self._saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(self.runtime, ignore_errors=True)

    def start_recording(
        self, rate: int = 48_000, device: str = f"{SINK}.monitor"
    ) -> subprocess.Popen[bytes]:
        """Start recording the kiosk's output (mono s16le at `rate`); stop with finish_recording.

        `device` records another source instead (e.g. "room.monitor", what the microphone hears).

        A thread drains parec's output as it comes, so a long recording never stalls on a full
        pipe. The monitor only delivers while something plays into the sink.
        """
        recorder = subprocess.Popen(
            [
                "parec",
                f"--device={device}",
                "--format=s16le",
                f"--rate={rate}",
                "--channels=1",
                "--latency-msec=10",
                "--raw",
            ],
            env={**os.environ, **self.env},
            stdout=subprocess.PIPE,
        )
        chunks: list[bytes] = []
        arrivals: list[tuple[float, int]] = []  # (time.monotonic() of arrival, bytes so far)
        stdout = recorder.stdout
        assert stdout is not None

        def drain() -> None:
            total = 0
            while chunk := os.read(stdout.fileno(), 65_536):
                total += len(chunk)
                arrivals.append((time.monotonic(), total))
                chunks.append(chunk)

        thread = threading.Thread(target=drain, name="parec-drain", daemon=True)
        thread.start()
        _drains[recorder] = _Drain(thread, chunks, arrivals, rate)
        return recorder

    @staticmethod
    def recording_start(recorder: subprocess.Popen[bytes]) -> float:
        """The time.monotonic() by which the recording's first sample had been played.

        Each chunk arrives after its samples were played, and the monitor runs without gaps while
        something plays, so sample n was played by (arrival - samples after n in it) / rate; the
        tightest such bound is taken. Sample n's time is then at most this + n / rate.
        """
        drain = _drains[recorder]
        if not drain.arrivals:
            raise ValueError("nothing was recorded")
        return float(min(when - total / 2 / drain.rate for when, total in drain.arrivals))

    @staticmethod
    def recorded_seconds(recorder: subprocess.Popen[bytes]) -> float:
        """Seconds of audio received so far from a recorder (to wait for a window to fill)."""
        drain = _drains[recorder]
        return float(drain.arrivals[-1][1] / 2 / drain.rate) if drain.arrivals else 0.0

    @staticmethod
    def finish_recording(recorder: subprocess.Popen[bytes]) -> np.ndarray:
        """Stop a recorder and return its samples as float32 in [-1, 1]."""
        recorder.terminate()
        drain = _drains[recorder]
        drain.thread.join(timeout=10)
        recorder.wait(timeout=10)
        if recorder.stdout is not None:
            recorder.stdout.close()
        data = b"".join(drain.chunks)
        usable = len(data) - len(data) % 2
        return np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / 32768.0

    @contextmanager
    def room(self, echo_volume_percent: int) -> Iterator[None]:
        """Make the default microphone hear a room with the kiosk's own loudspeaker in it.

        `echo_volume_percent` is PulseAudio's volume for the leak (cubic: 60% is about -13 dB).
        """
        modules: list[str] = []
        try:
            for args in (
                ("module-null-sink", "sink_name=room", f"rate={MIC_RATE}", "channels=1"),
                ("module-loopback", f"source={SINK}.monitor", "sink=room", "latency_msec=30", "adjust_time=0",
                 "source_dont_move=true", "sink_dont_move=true"),
            ):
                loaded = self.pactl("load-module", *args)
                if loaded.returncode != 0:
                    raise RuntimeError(f"could not load {args[0]}: {loaded.stderr.strip()}")
                modules.append(loaded.stdout.strip())
            for line in self.pactl("list", "short", "sink-inputs").stdout.splitlines():
                fields = line.split("\t")
                if len(fields) > 1 and fields[1] == modules[-1]:
                    self.pactl("set-sink-input-volume", fields[0], f"{echo_volume_percent}%")
            self.pactl("set-default-source", "room.monitor")
            yield
        finally:
            self.pactl("set-default-source", SOURCE)
            for module in reversed(modules):
                self.pactl("unload-module", module)

    def say_in_room(self, pcm16_mono_16k: bytes) -> None:
        """Play a visitor's voice into the room (blocks until played)."""
        subprocess.run(
            ["pacat", "--playback", "--device=room", f"--rate={MIC_RATE}", "--channels=1",
             "--format=s16le", "--latency-msec=30"],
            input=pcm16_mono_16k, env={**os.environ, **self.env}, capture_output=True,
            timeout=30, check=True,
        )

    def feed_microphone(self, pcm16_mono_16k: bytes) -> None:
        """Write 16 kHz mono s16le PCM into the virtual microphone (blocks until written)."""
        with open(self.fifo, "wb") as fifo:
            fifo.write(pcm16_mono_16k)
