"""A private, headless cage (the Wayland kiosk compositor `kiosk install --session wayland`
runs) for tests that start a program in it and read back what its screen shows.

What these were found to be here (Debian 12: cage 0.1.4, wlroots 0.15):
- The headless backend's output is always 1280x720: wlroots makes it that size, and cage 0.1.4
  only sets an output's preferred mode (a headless output has none) and speaks no
  output-management protocol, so nothing can give it another mode. `-r` turns it 90 degrees a
  time, as cage on a portrait screen would be told to: `-r` is 720x1280 portrait.
- cage 0.1.4 hands a window that covers the whole, unturned output to the output as it is
  ("direct scan-out"); the headless backend accepts any buffer for that, and a screenshot
  (wlr-screencopy) then stops the scan-out and copies cage's own last frame, which is black.
  An output turned by `-r` is never scanned out, so what is read back is what cage drew:
  landscape is tested turned twice (180 degrees, 1280x720) for that reason.
- cage refuses to run as root (it checks that it cannot become root again). As root, the
  tests run it as an unprivileged user in a user namespace that maps that user to root
  outside, so it still reads the kiosk's files wherever they are.
- Kivy's bundled SDL2 has no Wayland video driver (x11, KMSDRM, offscreen, dummy), so the
  kiosk is an X client of cage's Xwayland, which cage starts when the first X client connects
  and names in the DISPLAY it gives its program.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

#: The headless backend's only output size (wlroots 0.15, backend/backend.c).
HEADLESS_SIZE = (1280, 720)
PACKAGES = {"cage": "cage", "Xwayland": "xwayland", "grim": "grim"}


def missing() -> list[str]:
    """The Debian packages these tests need and this machine lacks."""
    return sorted(package for program, package in PACKAGES.items() if not shutil.which(program))


class CageSession:
    """cage on the headless backend running `command`, its output turned `turns` times 90
    degrees clockwise; `env` is the program's environment (DISPLAY and WAYLAND_DISPLAY are
    cage's to set)."""

    def __init__(self, command: list[str], env: dict[str, str], turns: int = 0) -> None:
        self.command = command
        self.turns = turns
        self.runtime_dir = Path(tempfile.mkdtemp(prefix="kiosk-cage-"))
        self.runtime_dir.chmod(0o700)
        self.env = {k: v for k, v in env.items()
                    if k not in ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET")}
        self.env.update({
            "XDG_RUNTIME_DIR": str(self.runtime_dir),
            "WLR_BACKENDS": "headless",
            "WLR_HEADLESS_OUTPUTS": "1",
            "WLR_LIBINPUT_NO_DEVICES": "1",
            # No GPU here (no /dev/dri): wlroots' GLES2 renderer needs a DRM device.
            "WLR_RENDERER": "pixman",
        })
        self.process: subprocess.Popen[str] | None = None
        self.log = self.runtime_dir / "cage.log"

    @property
    def size(self) -> tuple[int, int]:
        """The output's size as the program sees it (turned)."""
        width, height = HEADLESS_SIZE
        return (height, width) if self.turns % 2 else (width, height)

    def start(self) -> CageSession:
        absent = missing()
        if absent:
            raise RuntimeError(f"not installed: {', '.join(absent)} (`make test` installs them)")
        prefix: list[str] = []
        if os.geteuid() == 0:
            prefix = ["unshare", "--user", "--map-user=1000", "--map-group=1000"]
        turn = ["-r"] * self.turns
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*prefix, "cage", "-s", *turn, "--", *self.command], env=self.env,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 20
        while not (self.runtime_dir / "wayland-0").exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"cage did not start:\n{self.output()}")
            time.sleep(0.05)
        return self

    def output(self) -> str:
        """What cage and its program wrote (both go to one log)."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def program(self, timeout_s: float = 30.0) -> psutil.Process:
        """The program cage started (its child that is not its Xwayland)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout_s
        while True:
            children = [child for child in psutil.Process(self.process.pid).children()
                        if child.name() != "Xwayland"]
            if children:
                return children[0]
            assert self.process.poll() is None, f"cage ended:\n{self.output()}"
            assert time.monotonic() < deadline, "cage started no program"
            time.sleep(0.05)

    def screen_pixels(self) -> np.ndarray:
        """What the output shows, as an (height, width, 3) RGB array, read back from cage
        (wlr-screencopy, with grim) the right way up."""
        from PIL import Image

        result = subprocess.run(
            ["grim", "-t", "ppm", "-"], capture_output=True, timeout=20, check=True,
            env={**os.environ, "XDG_RUNTIME_DIR": str(self.runtime_dir),
                 "WAYLAND_DISPLAY": "wayland-0"})
        return np.asarray(Image.open(io.BytesIO(result.stdout)).convert("RGB"))

    def stop(self) -> None:
        """End the program, as systemd's stop would reach it; cage ends with its program."""
        if self.process is not None:
            try:
                if self.process.poll() is None:
                    self.program(timeout_s=1).terminate()
                self.process.wait(timeout=30)
            except (AssertionError, psutil.NoSuchProcess, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.runtime_dir, ignore_errors=True)

    def __enter__(self) -> CageSession:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
