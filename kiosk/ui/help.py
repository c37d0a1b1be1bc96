"""Help screen: what you can say, which keys do what and how touch works; shown and spoken."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.ui.widgets import KioskScreen


class HelpScreen(KioskScreen):
    """The help text, read aloud when the screen opens."""

    title_text = StringProperty("")
    voice_text = StringProperty("")
    keys_text = StringProperty("")
    touch_text = StringProperty("")

    def grid_for(self, target: str) -> str | None:
        return None if target == "continue" else "bar"

    def refresh_content(self, ctrl: Any) -> None:
        self.title_text = ctrl.text("screen.help_title")
        self.voice_text = ctrl.text("screen.help_voice")
        self.keys_text = ctrl.text("screen.help_keys")
        self.touch_text = ctrl.text("screen.help_touch")


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
