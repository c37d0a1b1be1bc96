"""Staff exit: a hidden gesture (five taps in the top-left corner within four seconds) opens a PIN
panel; the PIN from settings.staff_pin closes the kiosk. With no PIN configured the gesture does
nothing, so a visitor can never leave the app.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

TAPS = 5
WINDOW_S = 4.0
#: The panel closes itself if staff walk away.
PANEL_TIMEOUT_S = 30.0


class CornerGesture:
    """Counts taps in the corner square; `tap` returns True when the gesture is complete."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._taps: list[float] = []

    def tap(self) -> bool:
        now = self._clock()
        self._taps = [t for t in self._taps if now - t <= WINDOW_S] + [now]
        if len(self._taps) >= TAPS:
            self._taps = []
            return True
        return False


class StaffPanel(FloatLayout):  # type: ignore[misc]
    """The PIN pad; shown over everything, takes every touch while open."""

    open = BooleanProperty(False)
    entered = StringProperty("")
    message = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pin = ""
        self.on_exit: Callable[[], None] = lambda: None
        self.prompt = ""
        self.wrong = ""
        self._timeout = Clock.create_trigger(lambda _dt: self.close(), PANEL_TIMEOUT_S)

    def show(self) -> None:
        self.entered = ""
        self.message = self.prompt
        self.open = True
        self._timeout()

    def close(self) -> None:
        self.open = False
        self.entered = ""

    def press(self, key: str) -> None:
        """A digit, 'back', 'cancel' or 'enter' (from the panel's buttons or a keyboard)."""
        self._timeout.cancel()
        self._timeout()
        if key.isdigit() and len(key) == 1:
            self.entered = (self.entered + key)[-12:]
        elif key == "back":
            self.entered = self.entered[:-1]
        elif key == "cancel":
            self.close()
        elif key == "enter":
            if self.pin and hmac.compare_digest(self.entered, self.pin):
                self.close()
                self.on_exit()
            else:
                self.entered = ""
                self.message = self.wrong

    def on_touch_down(self, touch: Any) -> bool:
        if not self.open:
            return False
        super().on_touch_down(touch)
        return True  # nothing behind the panel reacts while it is open

    def on_touch_up(self, touch: Any) -> bool:
        if not self.open:
            return False
        super().on_touch_up(touch)
        return True


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
