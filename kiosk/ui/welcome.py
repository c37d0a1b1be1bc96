"""Welcome / attract screen: two large topic tiles, how to start, and Talk, Listen to this screen
and Help in the bar along the bottom, as on every other screen."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.controller import Controller
from kiosk.ui.widgets import KioskScreen


class WelcomeScreen(KioskScreen):
    """Where every visit starts and where the kiosk returns after one."""

    title_text = StringProperty("")
    welcome_text = StringProperty("")
    how_text = StringProperty("")
    notice_text = StringProperty("")

    def grid_for(self, target: str) -> str | None:
        if target == "continue":
            return None
        return "tiles" if target.startswith("topic:") else "bar"

    def large(self, target: str) -> bool:
        return target.startswith("topic:")

    def refresh_content(self, ctrl: Controller) -> None:
        self.title_text = ctrl.text("screen.app_title")
        self.welcome_text = ctrl.text("screen.welcome")
        self.how_text = ctrl.text("screen.how_to_start")
        self.notice_text = ctrl.text("screen.notice")


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
