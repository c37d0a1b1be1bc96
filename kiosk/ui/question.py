"""The "Did you mean ...?" question: shown over any screen with big Yes and No buttons.

The controller decides when to ask and what the answer does; this only draws it.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder

from kiosk.controller import Controller
from kiosk.ui.idle import ModalOverlay
from kiosk.ui.widgets import KioskButton


class QuestionOverlay(ModalOverlay):
    """Covers the screen while the kiosk waits for yes or no; other touches do nothing."""

    def refresh(self, ctrl: Controller) -> None:
        maybe = ctrl.state.maybe
        self.shown = maybe is not None
        if maybe is not None:
            self.message = ctrl.text("prompt.did_you_mean", meaning=ctrl.meaning(maybe))
            for target in ("yes", "no"):
                button: KioskButton = self.ids[f"{target}_button"]
                button.text = ctrl.text(f"button.{target}")
                button.focused = ctrl.state.focus == target

    def button(self, target: str) -> KioskButton | None:
        found: KioskButton | None = self.ids.get(f"{target}_button")
        return found


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
