"""The kiosk as installed fills the screen under cage, the Wayland compositor that
`kiosk install --session wayland` starts it in: `kiosk run` with no size given, as cage's one
program, in landscape and portrait, read back from the compositor (tests/support/cage.py).

Kivy's SDL2 has no Wayland driver, so the kiosk is an X client of cage's Xwayland: the window
takes the size of Xwayland's screen, which is cage's output. cage also makes the window it
runs fill the output whatever size the window asks for (a kiosk made to ask for 800x600 still
filled it); only a window cage does not manage (forced override-redirect) left the black
margins these checks catch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from tests.support import cage
from tests.support.fills import assert_fills_screen
from tests.support.xvfb import window_geometry, window_ids

pytestmark = [pytest.mark.real_window, pytest.mark.slow]


def kiosk_env(scratch: Path) -> dict[str, str]:
    """The environment of `kiosk run` started with no sound, no microphone and a fresh cache."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("KIOSK_") and k != "KIVY_GL_BACKEND"}
    env.update({"KIVY_NO_ARGS": "1", "KIVY_HOME": str(scratch / "kivy"),
                "SDL_AUDIODRIVER": "dummy", "KIOSK_CACHE_DIR": str(scratch / "cache"),
                "KIOSK_MICROPHONE": "none", "PULSE_SERVER": f"unix:{scratch / 'no-sound'}"})
    return env


def xwayland_window(session: cage.CageSession, timeout_s: float = 60.0) -> tuple[str, str]:
    """(DISPLAY, window id) of the kiosk's window on cage's Xwayland, once it is open."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert session.process is not None and session.process.poll() is None, (
            f"cage ended:\n{session.output()}")
        assert time.monotonic() < deadline, f"the kiosk window never opened:\n{session.output()}"
        kiosk = session.program()
        try:
            display = kiosk.environ().get("DISPLAY", "")
        except psutil.Error:
            display = ""
        windows = window_ids(display, kiosk.pid) if display else []
        if windows:
            return display, windows[-1]
        time.sleep(0.5)


def settled_screen(session: cage.CageSession, width: int, height: int,
                   timeout_s: float = 20.0) -> np.ndarray:
    """The screen once the welcome page is drawn: screenshots until one passes, or the last."""
    deadline = time.monotonic() + timeout_s
    while True:
        pixels = session.screen_pixels()
        try:
            assert_fills_screen(pixels, width, height)
        except AssertionError:
            if time.monotonic() < deadline:
                time.sleep(1)
                continue
        return pixels


@pytest.mark.parametrize("turns", [2, 1], ids=["landscape", "portrait"])
def test_the_installed_kiosk_fills_the_screen_under_cage(tmp_path: Path, turns: int) -> None:
    kiosk = [str(Path(sys.executable).with_name("kiosk")), "run"]
    with cage.CageSession(kiosk, kiosk_env(tmp_path), turns=turns) as session:
        width, height = session.size
        display, window = xwayland_window(session)
        pixels = settled_screen(session, width, height)
        geometry = window_geometry(display, window)
        log = session.output()
    from PIL import Image

    Image.fromarray(pixels).save(tmp_path / f"screen-{width}x{height}.png")
    assert geometry == (0, 0, width, height), f"the kiosk's window: {geometry}\n{log}"
    assert_fills_screen(pixels, width, height)
