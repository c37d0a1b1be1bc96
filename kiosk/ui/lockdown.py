"""Kiosk lockdown: Escape, window-close requests and shortcuts do not leave; no cursor or dots.

`configure()` must run before Kivy's Window is created (it sets Kivy's Config); `lock(window)` runs
once the window exists. Staff leave through the hidden gesture and PIN (kiosk.ui.staff), which
calls `unlock` first.
"""

from __future__ import annotations

from typing import Any


class Lockdown:
    """Holds the window closed until staff unlock it."""

    def __init__(self) -> None:
        self.unlocked = False
        self.blocked_closes = 0

    def lock(self, window: Any) -> None:
        window.bind(on_request_close=self._on_request_close)
        window.show_cursor = False

    def unlock(self) -> None:
        self.unlocked = True

    def _on_request_close(self, *_args: Any, **_kwargs: Any) -> bool:
        """True keeps the window open (Kivy's convention)."""
        if self.unlocked:
            return False
        self.blocked_closes += 1
        return True


def configure(fullscreen: bool, size: tuple[int, int] | None = None) -> None:
    """Kivy settings for a kiosk; call before importing kivy.core.window.

    Fullscreen with a `size` (the display's, kiosk.ui.display) is a borderless window of that
    size at 0,0, which fills the screen with or without a window manager; fullscreen without
    one leaves it to the window manager, the best that can be done when SDL cannot tell the
    display's size.
    """
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "pause_on_minimize", "0")
    # Right-click dots (multitouch emulation) would look like a fault on a touchscreen.
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "show_cursor", "0")
    Config.set("graphics", "resizable", "0" if fullscreen else "1")
    if fullscreen and size is not None:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    elif fullscreen:
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "borderless", "1")
    else:
        Config.set("graphics", "fullscreen", "0")
    if size is not None:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    Config.set("kivy", "log_level", "warning")
    # Kivy asks for 2x multisampling by default; Mesa's software renderer then draws every
    # frame at 4 samples a pixel and resolves them, which costs ~25 ms a frame at 1920x1080
    # before anything is drawn. Text is textures and fills are axis-aligned: no need for it.
    Config.set("graphics", "multisamples", "0")
