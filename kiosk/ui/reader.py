"""Reader screen: the section in large type, the sentence being heard highlighted and kept in view,
and every reading control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.ui.widgets import KioskScreen, SentenceText


class ReaderScreen(KioskScreen):
    """One section at a time; reading a topic moves through its sections."""

    topic_text = StringProperty("")
    title_text = StringProperty("")
    _shown: tuple[str | None, str | None] = (None, None)

    def grid_for(self, target: str) -> str | None:
        return None if target == "continue" else "bar"

    def refresh_content(self, ctrl: Any) -> None:
        state = ctrl.state
        if state.topic is None or state.section is None:
            return
        section = ctrl.library.section(state.topic, state.section)
        if self._shown != (state.topic, state.section):
            self._shown = (state.topic, state.section)
            self.topic_text = ctrl.library.topic(state.topic).title
            self.title_text = section.title
            box = self.ids.sentences
            box.clear_widgets()
            for index, sentence in enumerate(section.sentences):
                text = f"\u2022  {sentence.text}" if sentence.is_list_item else sentence.text
                box.add_widget(
                    SentenceText(text=text, speak_text=sentence.text, index=index,
                                 bullet=sentence.is_list_item)
                )
            self.ids.scroll.scroll_y = 1
        current = None
        for widget in self.sentence_widgets():
            widget.current = widget.index == state.sentence
            if widget.current:
                current = widget
        if current is not None and state.focus is None:
            # Wait for the new highlight's layout before scrolling to it.
            self.ids.scroll.scroll_to(current, padding=40, animate=False)

    def sentence_widgets(self) -> list[SentenceText]:
        return [w for w in reversed(self.ids.sentences.children) if isinstance(w, SentenceText)]


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
