"""Pacing the text work of a frame: a label's changed text is rendered in a queue, a few
labels a frame, the ones a visitor can see first (see TextPacer)."""

from __future__ import annotations

from itertools import count

from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget


class TextPacer:
    """Renders changed text a few labels per frame, those a visitor can see first.

    Kivy re-renders a label (word layout, then glyphs and texture upload when it is next
    drawn) in the frame its text, size or colour changes. Opening a section changes two
    dozen sentences at once, and Text size every label on every screen: 50-100 ms of text
    work in one frame on top of a full redraw. Here a label's update waits in a queue
    instead, and each frame renders waiting labels in order (the highlighted sentence or
    focused control, then what is on screen, then what is scrolled out of view) until the
    frame's work has taken `budget_ms` (at least one label a frame), and the rest in the
    following frames. Labels outside the window (other screens, spare widgets) wait until
    `wake()` finds them in it.
    """

    def __init__(self, budget_ms: float) -> None:
        self.budget_s = budget_ms / 1000
        self._waiting: dict[Label, int] = {}
        self._order = count()
        self._frame = -1
        self._rendered = 0
        self._this_frame = Clock.create_trigger(self._render, -1)  # before the next draw
        self._next_frame = Clock.create_trigger(lambda _dt: self._this_frame(), 0)

    def queue(self, label: Label) -> None:
        if label not in self._waiting:
            self._waiting[label] = next(self._order)
        self._this_frame()

    def wake(self) -> None:
        """Look again for waiting labels that have come into the window (call after a
        screen or overlay is shown)."""
        if self._waiting:
            self._this_frame()

    def __contains__(self, label: object) -> bool:
        """Whether `label` is waiting to be rendered."""
        return label in self._waiting

    @property
    def busy(self) -> bool:
        """Whether text is waiting to be rendered in this frame or the next."""
        return bool(self._this_frame.is_triggered or self._next_frame.is_triggered)

    def _render(self, _dt: float) -> None:
        # The budget is for all of this frame's work before drawing (callbacks, layout and
        # text), counted from the end of Kivy's frame-limiter sleep: a frame that already
        # built a screen renders only one label. Rendering changes sizes, which can queue
        # more labels and run this again before the same frame is drawn.
        if Clock.frames != self._frame:
            self._frame, self._rendered = Clock.frames, 0
        elif Clock.time() - Clock.get_time() > self.budget_s:
            self._next_frame()
            return
        ranked = sorted((rank(label), order, label) for label, order in self._waiting.items())
        pending = False
        for urgency, _order, label in ranked:
            if urgency == OFF_WINDOW:
                break
            if self._rendered and Clock.time() - Clock.get_time() > self.budget_s:
                pending = True
                break
            if layout_pending(label):
                # Its width is not final yet (a label just added is 100 px wide until its
                # layout runs): rendering now would wrap it into a tall narrow texture, at
                # several times the cost, and then render it again.
                pending = True
                continue
            del self._waiting[label]
            label.render_now()
            self._rendered += 1
        if pending:
            self._next_frame()


OFF_WINDOW = 3


def layout_pending(widget: Widget) -> bool:
    """Whether a layout above `widget` has yet to run (it may still change its size)."""
    parent = widget.parent
    while parent is not None and parent.parent is not parent:
        for name in ("_trigger_layout", "_trigger_update_from_scroll"):
            trigger = getattr(parent, name, None)
            if trigger is not None and trigger.is_triggered:
                return True
        parent = parent.parent
    return False


def rank(label: Label) -> int:
    """How urgently a label's text is needed: 0 highlighted or focused, 1 on screen, 2 on
    the current screen but scrolled out of view, OFF_WINDOW not in the window."""
    window = label.get_root_window()
    if window is None:
        return OFF_WINDOW
    if getattr(label, "current", False) or getattr(label, "focused", False):
        return 0
    _x, bottom = label.to_window(label.x, label.y)
    top = bottom + label.height
    low, high = 0.0, float(window.height)
    parent = label.parent
    while parent is not None and parent is not window:
        if isinstance(parent, ScrollView):
            _px, view_bottom = parent.to_window(parent.x, parent.y)
            low, high = max(low, view_bottom), min(high, view_bottom + parent.height)
        parent = parent.parent
    return 1 if top >= low and bottom <= high else 2
