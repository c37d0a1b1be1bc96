"""The screen the kiosk draws on, asked of SDL (the library Kivy's window runs on) before and
after the window exists.

Kivy's `fullscreen = auto` asks the window manager to make the window fullscreen. A kiosk PC
usually starts X with no window manager, and then nothing does: the window stayed 800x600 in the
middle of a black screen while Kivy laid the screens out for the whole display (seen on Xvfb at
1920x1080, cut off on the right and at the top). So the kiosk takes the display's size and puts
a borderless window at 0,0 itself, which needs no window manager on X, is what a compositor such
as cage gives every window anyway, and is the whole console under KMS/DRM.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import importlib.util
import logging
from functools import cache
from pathlib import Path

log = logging.getLogger(__name__)

SDL_INIT_VIDEO = 0x20
#: SDL video drivers that draw nowhere a visitor could see.
UNSEEN_DRIVERS = ("offscreen", "dummy")


class _DisplayMode(ctypes.Structure):
    """SDL_DisplayMode."""

    _fields_ = [
        ("format", ctypes.c_uint32), ("w", ctypes.c_int), ("h", ctypes.c_int),
        ("refresh_rate", ctypes.c_int), ("driverdata", ctypes.c_void_p),
    ]


@cache
def _kivy_sdl() -> ctypes.CDLL | None:
    """The SDL2 library that Kivy's window runs on: the copy bundled in Kivy's wheel, else the
    system's. Loaded without importing kivy.core.window, whose import opens the window.

    The loader shares a library by its name, so Kivy's window module, loaded later, gets this
    very copy and the SDL state set here.
    """
    spec = importlib.util.find_spec("kivy")
    candidates: list[str] = []
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent.parent / "Kivy.libs"
        candidates += sorted(str(path) for path in bundled.glob("libSDL2-2*.so*"))
    system = ctypes.util.find_library("SDL2-2.0")
    if system is not None:
        candidates.append(system)
    for library in candidates:
        with contextlib.suppress(OSError):
            return ctypes.CDLL(library)
    log.warning("ui: no SDL2 library found to ask the display's size")
    return None


def desktop_size() -> tuple[int, int] | None:
    """The first display's size in pixels, or None if SDL's video cannot start (no display)."""
    sdl = _kivy_sdl()
    if sdl is None:
        return None
    sdl.SDL_InitSubSystem.argtypes = [ctypes.c_uint32]
    sdl.SDL_QuitSubSystem.argtypes = [ctypes.c_uint32]
    sdl.SDL_GetDesktopDisplayMode.argtypes = [ctypes.c_int, ctypes.POINTER(_DisplayMode)]
    if sdl.SDL_InitSubSystem(SDL_INIT_VIDEO) != 0:
        return None
    try:
        mode = _DisplayMode()
        if sdl.SDL_GetDesktopDisplayMode(0, ctypes.byref(mode)) != 0 or mode.w <= 0:
            return None
        return (int(mode.w), int(mode.h))
    finally:
        # Kivy initialises video again for its window; leave SDL as it was found.
        sdl.SDL_QuitSubSystem(SDL_INIT_VIDEO)


def video_driver() -> str:
    """The video driver of the SDL library this process loaded ('' if it cannot be told)."""
    sdl = _kivy_sdl()
    if sdl is None:
        return ""
    get_driver = sdl.SDL_GetCurrentVideoDriver
    get_driver.restype = ctypes.c_char_p
    name = get_driver()
    return name.decode("ascii", "replace") if name else ""


def unseen_driver(asked: str) -> str:
    """The SDL video driver's name if it shows nothing and was not `asked` for, else ''."""
    driver = video_driver()
    return driver if driver in UNSEEN_DRIVERS and driver != asked else ""
