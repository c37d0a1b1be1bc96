"""The Adjust panel: speed, volume, text size and contrast, each shown with its current value,
over whichever screen asked for it (the reader's Adjust button, the keypad's . key, "adjust").

The controller owns the values, the panel's focus order and what each control does; this only
draws them.
"""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.controller import Controller
from kiosk.ui.idle import ModalOverlay
from kiosk.ui.widgets import KioskButton

#: The panel's controls, by target: each has a KioskButton with the id "<target>_button".
TARGETS = ("slower", "faster", "quieter", "louder", "text_size", "high_contrast", "adjust")


class AdjustPanel(ModalOverlay):
    """Covers the screen while the visitor adjusts; other touches do nothing."""

    title = StringProperty("")
    speed = StringProperty("")
    volume = StringProperty("")
    text_size = StringProperty("")
    contrast = StringProperty("")

    def refresh(self, ctrl: Controller) -> None:
        state = ctrl.state
        self.shown = state.adjusting
        if not self.shown:
            return
        self.title = ctrl.text("adjust.title")
        self.speed, self.volume, self.text_size, self.contrast = ctrl.adjust_values()
        labels = {item.target: item.label for item in ctrl.focus_items()}
        for target in TARGETS:
            button: KioskButton = self.ids[f"{target}_button"]
            button.text = labels.get(target, "")
            button.focused = state.focus == target
            if button.focused:
                # Keep the focused control in view when the panel scrolls (largest text).
                self.ids.scroll.scroll_to(button, padding=10, animate=False)

    def button(self, target: str) -> KioskButton | None:
        found: KioskButton | None = self.ids.get(f"{target}_button")
        return found


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
