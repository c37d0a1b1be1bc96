"""The window's root: the screens, with the overlays stacked over them while they are shown."""

from __future__ import annotations

from typing import Any

from kivy.uix.floatlayout import FloatLayout
from kivy.uix.screenmanager import NoTransition, ScreenManager

from kiosk.ui.adjust import AdjustPanel
from kiosk.ui.idle import IdleOverlay
from kiosk.ui.question import QuestionOverlay
from kiosk.ui.staff import StaffPanel


class KioskRoot(FloatLayout):  # type: ignore[misc]
    """Screens, then the Adjust panel, "Did you mean ...?", the idle warning and the staff
    panel, stacked.

    The two overlays are in the widget tree only while shown: Kivy still draws a widget of
    opacity 0, and with software rendering the hidden PIN pad and warning cost about half
    of every frame.
    """

    def __init__(self, app: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app = app
        self.manager = ScreenManager(transition=NoTransition())
        self.adjust = AdjustPanel()
        self.question = QuestionOverlay()
        self.idle = IdleOverlay()
        self.staff = StaffPanel()
        self.add_widget(self.manager)
        self.adjust.bind(shown=self._stack_overlays)
        self.question.bind(shown=self._stack_overlays)
        self.idle.bind(shown=self._stack_overlays)
        self.staff.bind(open=self._stack_overlays)

    def _stack_overlays(self, *_args: Any) -> None:
        for overlay in (self.adjust, self.question, self.idle, self.staff):
            if overlay.parent is not None:
                self.remove_widget(overlay)
        if self.adjust.shown:
            self.add_widget(self.adjust)
        if self.question.shown:
            self.add_widget(self.question)
        if self.idle.shown:
            self.add_widget(self.idle)
        if self.staff.open:
            self.add_widget(self.staff)  # added last: drawn on top, gets touches first
        self.app.text_pacer.wake()  # their text may have changed while they were hidden

    def on_touch_down(self, touch: Any) -> bool:
        app = self.app
        if self.staff.open:
            return bool(self.staff.on_touch_down(touch))
        corner = app.theme.target_px
        if touch.x <= corner and touch.y >= self.height - corner and app.staff_gesture.tap():
            app.open_staff_panel()
            return True
        if app.controller is not None:
            app.controller.note_activity()
        return bool(super().on_touch_down(touch))
