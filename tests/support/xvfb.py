"""A private Xvfb display for tests that open a real Kivy window (never the mock GL backend)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


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


def kiosk_windows(display: str, process: subprocess.Popen[Any], why: Callable[[], str],
                  timeout_s: float = 120.0) -> list[str]:
    """Wait for a started `kiosk run` to open its window; its X window ids (SDL's own is the
    last). Fails with `why()` (the kiosk's log) if it ends first, or after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not (windows := window_ids(display, process.pid)):
        assert process.poll() is None, why()
        assert time.monotonic() < deadline, "the kiosk window never opened"
        time.sleep(0.5)
    return windows


def window_ids(display: str, pid: int) -> list[str]:
    """X window ids owned by process `pid` (needs xdotool)."""
    result = subprocess.run(
        ["xdotool", "search", "--pid", str(pid)],
        capture_output=True, text=True, env={**os.environ, "DISPLAY": display}, check=False,
    )
    return result.stdout.split()


def send_keys(display: str, window: str, *keys: str) -> None:
    """Real key presses through the X server (xdotool), as a USB keypad would send them."""
    env = {**os.environ, "DISPLAY": display}
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=False,
                   capture_output=True, timeout=10)
    subprocess.run(["xdotool", "key", "--delay", "30", *keys], env=env, check=True, timeout=30)


def send_close_request(display: str, window: str) -> None:
    """Ask the window to close the way a window manager does (WM_DELETE_WINDOW)."""
    import ctypes
    import ctypes.util

    library = ctypes.util.find_library("X11")
    if library is None:
        raise RuntimeError("libX11 not found")
    x11 = ctypes.cdll.LoadLibrary(library)
    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XInternAtom.restype = ctypes.c_ulong
    x11.XInternAtom.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
    x11.XSendEvent.argtypes = [
        ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_long, ctypes.c_void_p
    ]
    x11.XFlush.argtypes = [ctypes.c_void_p]
    x11.XCloseDisplay.argtypes = [ctypes.c_void_p]

    class ClientMessage(ctypes.Structure):
        _fields_ = [
            ("type", ctypes.c_int), ("serial", ctypes.c_ulong), ("send_event", ctypes.c_int),
            ("display", ctypes.c_void_p), ("window", ctypes.c_ulong),
            ("message_type", ctypes.c_ulong), ("format", ctypes.c_int),
            ("data", ctypes.c_long * 5),
        ]

    class XEvent(ctypes.Union):
        _fields_ = [("xclient", ClientMessage), ("pad", ctypes.c_long * 24)]

    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open display {display}")
    try:
        message = XEvent()
        message.xclient.type = 33  # ClientMessage
        message.xclient.window = int(window)
        message.xclient.message_type = x11.XInternAtom(connection, b"WM_PROTOCOLS", 0)
        message.xclient.format = 32
        message.xclient.data[0] = x11.XInternAtom(connection, b"WM_DELETE_WINDOW", 0)
        x11.XSendEvent(connection, int(window), 0, 0, ctypes.byref(message))
        x11.XFlush(connection)
    finally:
        x11.XCloseDisplay(connection)


def window_geometry(display: str, window: str) -> tuple[int, int, int, int]:
    """(x, y, width, height) of an X window on the screen (needs xdotool)."""
    result = subprocess.run(
        ["xdotool", "getwindowgeometry", "--shell", window], capture_output=True, text=True,
        env={**os.environ, "DISPLAY": display}, check=True, timeout=10,
    )
    values = dict(line.split("=", 1) for line in result.stdout.split() if "=" in line)
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


def screen_pixels(display: str) -> np.ndarray:
    """What the whole screen shows, as an (height, width, 3) RGB array: the root window read
    back from the X server, so black margins around a small window show as they would."""
    import ctypes
    import ctypes.util

    library = ctypes.util.find_library("X11")
    if library is None:
        raise RuntimeError("libX11 not found")
    x11 = ctypes.cdll.LoadLibrary(library)

    class XImage(ctypes.Structure):
        _fields_ = [
            ("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
            ("format", ctypes.c_int), ("data", ctypes.c_void_p), ("byte_order", ctypes.c_int),
            ("bitmap_unit", ctypes.c_int), ("bitmap_bit_order", ctypes.c_int),
            ("bitmap_pad", ctypes.c_int), ("depth", ctypes.c_int),
            ("bytes_per_line", ctypes.c_int), ("bits_per_pixel", ctypes.c_int),
        ]

    x11.XOpenDisplay.restype = ctypes.c_void_p
    x11.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x11.XDefaultRootWindow.restype = ctypes.c_ulong
    x11.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    x11.XDisplayWidth.argtypes = x11.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x11.XGetImage.restype = ctypes.POINTER(XImage)
    x11.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                              ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
    x11.XCloseDisplay.argtypes = x11.XFree.argtypes = [ctypes.c_void_p]
    connection = x11.XOpenDisplay(display.encode())
    if not connection:
        raise RuntimeError(f"cannot open display {display}")
    try:
        width, height = x11.XDisplayWidth(connection, 0), x11.XDisplayHeight(connection, 0)
        z_pixmap, all_planes = 2, 0xFFFFFFFF
        pointer = x11.XGetImage(connection, x11.XDefaultRootWindow(connection), 0, 0, width,
                                height, all_planes, z_pixmap)
        image = pointer.contents
        bits, line = image.bits_per_pixel, image.bytes_per_line
        raw = ctypes.string_at(image.data, line * height)
        # XDestroyImage is a macro; the image is two blocks that Xlib allocated.
        x11.XFree(ctypes.c_void_p(image.data))
        x11.XFree(pointer)
        if bits != 32:
            raise RuntimeError(f"unexpected {bits} bits a pixel")
    finally:
        x11.XCloseDisplay(connection)
    rows = np.frombuffer(raw, np.uint8).reshape(height, line // 4, 4)
    return np.ascontiguousarray(rows[:, :width, 2::-1])  # BGRX -> RGB
