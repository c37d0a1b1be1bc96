"""Topic screen: the topic's sections as large buttons in reading order, with Read all."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.controller import Controller
from kiosk.ui.widgets import KioskScreen


class TopicScreen(KioskScreen):
    """Choose a section, or read the whole topic."""

    title_text = StringProperty("")
    intro_text = StringProperty("")

    def grid_for(self, target: str) -> str | None:
        if target == "continue":
            return None
        if target == "read_all":
            return "read_all"
        return "sections" if target.startswith("section:") else "bar"

    def refresh_content(self, ctrl: Controller) -> None:
        topic_id = ctrl.state.topic
        if topic_id is None:
            return
        topic = ctrl.library.topic(topic_id)
        self.title_text = topic.title
        # The title is the heading just above: the screen does not say it twice.
        self.intro_text = ctrl.text("screen.topic_choose")


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
