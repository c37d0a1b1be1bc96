"""The kiosk as installed fills the screen: `kiosk run` with no size given, on an X server with
no window manager, as a kiosk PC starts it.

Kivy's `fullscreen = auto` relies on a window manager; without one the kiosk drew an 800x600
window in the middle of a black screen, laid out for the whole display and cut off. The window
tests give the window an explicit size, so they never saw it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.fills import assert_fills_screen
from tests.support.xvfb import XvfbDisplay, kiosk_windows, screen_pixels, window_geometry

pytestmark = [pytest.mark.real_window, pytest.mark.slow]


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1080, 1920)],
                         ids=["landscape", "portrait"])
def test_the_installed_kiosk_fills_a_screen_with_no_window_manager(
    tmp_path: Path, width: int, height: int
) -> None:
    with XvfbDisplay(width, height) as display:
        env = {**display.env, "KIOSK_CACHE_DIR": str(tmp_path / "cache"),
               "KIOSK_MICROPHONE": "none", "PULSE_SERVER": f"unix:{tmp_path / 'no-sound'}"}
        kiosk = subprocess.Popen([str(Path(sys.executable).with_name("kiosk")), "run"],
                                 env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 text=True)
        try:
            windows = kiosk_windows(display.display, kiosk, lambda: kiosk.communicate()[1])
            time.sleep(6)  # the content loads and the welcome screen is drawn
            geometries = [window_geometry(display.display, window) for window in windows]
            pixels = screen_pixels(display.display)
        finally:
            kiosk.terminate()
            kiosk.wait(timeout=30)
    from PIL import Image

    Image.fromarray(pixels).save(tmp_path / f"screen-{width}x{height}.png")
    assert (0, 0, width, height) in geometries, f"kiosk windows: {geometries}"
    assert_fills_screen(pixels, width, height)
