"""The idle warning: shown over any screen with the seconds left and one big Continue button.

The controller decides when to warn and when to end the visit; this only draws it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.controller import Controller
from kiosk.ui.widgets import KioskButton


class ModalOverlay(FloatLayout):  # type: ignore[misc]
    """Covers the screen while `shown`: its own buttons get touches, nothing beneath it does."""

    shown = BooleanProperty(False)
    message = StringProperty("")

    def on_touch_down(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_down(touch)
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if not self.shown:
            return False
        super().on_touch_up(touch)
        return True


class IdleOverlay(ModalOverlay):
    """Covers the screen while the idle warning runs; any touch on it continues the visit."""

    def refresh(self, ctrl: Controller) -> None:
        left = ctrl.state.idle_seconds_left
        self.shown = left is not None
        if left is not None:
            self.message = ctrl.text("prompt.idle_warning", seconds=left)
            button: KioskButton = self.ids.continue_button
            button.text = ctrl.text("button.continue")
            button.focused = ctrl.state.focus == "continue"


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
