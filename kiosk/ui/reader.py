"""Reader screen: the section in large type, the sentence being heard highlighted and kept in view,
and every reading control."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.controller import Controller
from kiosk.ui.pool import WidgetPool
from kiosk.ui.widgets import KioskScreen, SentenceText


class ReaderScreen(KioskScreen):
    """One section at a time; reading a topic moves through its sections."""

    topic_text = StringProperty("")
    title_text = StringProperty("")
    #: "Section 3 of 10 · Breast calcifications", and "Next: ..." (or that this is the last).
    position_text = StringProperty("")
    next_text = StringProperty("")
    #: The share of the section's sentences read, up to the one being read.
    progress = NumericProperty(0.0)
    _shown: tuple[str | None, str | None] = (None, None)

    def __init__(self, *, sentence_pool: WidgetPool[SentenceText], **kwargs: Any) -> None:
        self.sentence_pool = sentence_pool
        super().__init__(**kwargs)

    def grid_for(self, target: str) -> str | None:
        return None if target == "continue" else "bar"

    def refresh_content(self, ctrl: Controller) -> None:
        state = ctrl.state
        if state.topic is None or state.section is None:
            return
        section = ctrl.library.section(state.topic, state.section)
        topic = ctrl.library.topic(state.topic)
        # An answer's two choices are long labels: fewer, wider columns for them.
        self.ids.bar_scroll.grid_min_cell_em = 6 if state.answer is None else 10
        if state.answer is not None:
            # An answer: what was asked above the section, and where the answer comes from.
            source = ctrl.text("screen.answer_source", section=section.title, topic=topic.title)
            self.position_text = (ctrl.text("screen.answer_heard", heard=state.asked)
                                  if state.asked else source)
            self.next_text = source if state.asked else ""
        else:
            number = [s.id for s in topic.sections].index(section.id) + 1
            count = len(topic.sections)
            self.position_text = ctrl.text("screen.position", number=number, count=count,
                                           topic=topic.title)
            self.next_text = (
                ctrl.text("screen.next_up", section=topic.sections[number].title)
                if number < count else ctrl.text("screen.last_section", topic=topic.title))
        if self._shown != (state.topic, state.section):
            self._shown = (state.topic, state.section)
            self.topic_text = topic.title
            self.title_text = section.title
            box = self.ids.sentences
            old = self.sentence_widgets()
            box.clear_widgets()
            for widget in old:
                widget.current = False
            self.sentence_pool.give_back(old)
            for index, sentence in enumerate(section.sentences):
                widget = self.sentence_pool.take()
                widget.text = f"\u2022  {sentence.text}" if sentence.is_list_item else sentence.text
                widget.speak_text = sentence.text
                widget.index = index
                widget.bullet = sentence.is_list_item
                box.add_widget(widget)
            self.ids.scroll.scroll_y = 1
        sentences = max(1, len(section.sentences))
        self.progress = min(1.0, (state.sentence + 1) / sentences)
        changed = False
        for widget in self.sentence_widgets():
            current = widget.index == state.sentence
            changed = changed or (current and not widget.current)
            widget.current = current
        if changed:
            self._keep_in_view()

    def on_kv_post(self, base_widget: Any) -> None:
        # Sentences reflow when the text size changes: keep the highlight in view then too.
        self._keep_in_view = Clock.create_trigger(self._scroll_to_current, 0.05)
        self.ids.sentences.bind(height=lambda *_args: self._keep_in_view())

    def _scroll_to_current(self, *_args: Any) -> None:
        """Show the highlighted sentence whole, or from its first line if it is taller than
        the text area (large text on a small screen)."""
        scroll = self.ids.scroll
        current = next((w for w in self.sentence_widgets() if w.current), None)
        if current is None:
            return
        view_h = scroll.height
        room = max(1.0, self.ids.sentences.height - view_h)
        if self.ids.sentences.height <= view_h:
            return
        _x, top = current.to_window(current.x, current.top)
        _vx, view_bottom = scroll.to_window(scroll.x, scroll.y)
        view_top = view_bottom + view_h
        _x, bottom = current.to_window(current.x, current.y)
        margin = min(40.0, max(0.0, (view_h - current.height) / 2))
        if current.height + 2 * margin > view_h or top > view_top - margin:
            shift = top - (view_top - margin)  # bring the first line to the top
        elif bottom < view_bottom + margin:
            shift = bottom - (view_bottom + margin)
        else:
            return
        scroll.scroll_y = min(1.0, max(0.0, scroll.scroll_y + shift / room))
        scroll.update_from_scroll()

    def sentence_widgets(self) -> list[SentenceText]:
        return [w for w in reversed(self.ids.sentences.children) if isinstance(w, SentenceText)]


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
