"""A private Xvfb display for tests that open a real Kivy window (never the mock GL backend)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path


class XvfbDisplay:
    """Starts Xvfb on a free display number; `env` is what a child process needs to use it."""

    def __init__(self, width: int = 1920, height: int = 1920, depth: int = 24) -> None:
        self.screen = f"{width}x{height}x{depth}"
        self.process: subprocess.Popen[bytes] | None = None
        self.display = ""
        self.kivy_home = Path(tempfile.mkdtemp(prefix="kiosk-kivy-"))

    def start(self) -> XvfbDisplay:
        if shutil.which("Xvfb") is None:
            raise RuntimeError("Xvfb is not installed: run `make test`, which installs it")
        read_fd, write_fd = os.pipe()
        # -displayfd: Xvfb picks a free display number and writes it to us when it is ready.
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", self.screen, "-nolisten", "tcp",
             "-noreset"],
            pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(write_fd)
        number = b""
        deadline = time.monotonic() + 20
        with os.fdopen(read_fd, "rb") as pipe:
            while not number.endswith(b"\n") and time.monotonic() < deadline:
                chunk = pipe.read(1)
                if not chunk:
                    break
                number += chunk
        if not number.strip():
            self.stop()
            raise RuntimeError("Xvfb did not start")
        self.display = f":{number.decode().strip()}"
        return self

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
        env.update({
            "DISPLAY": self.display,
            "KIVY_NO_ARGS": "1",
            "KIVY_HOME": str(self.kivy_home),
            "KIVY_NO_CONSOLELOG": "1",
            "SDL_AUDIODRIVER": "dummy",
        })
        env.pop("KIVY_GL_BACKEND", None)
        env.pop("WAYLAND_DISPLAY", None)
        return env

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.kivy_home, ignore_errors=True)

    def __enter__(self) -> XvfbDisplay:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
