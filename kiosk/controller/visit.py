"""The visit: whether someone is using the kiosk, and how long nobody has done anything.

A visit starts with the first input after the kiosk was idle, and is counted then in the usage
figures; the controller warns, then ends it, when the idle time runs out. Visit is the clock;
VisitMixin is what the controller does with it (the warning, Continue, the end of a visit).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kiosk.controller.core import ControllerCore
from kiosk.controller.state import Screen
from kiosk.events import EventType
from kiosk.usage import UsageLog


class Visit:
    """The idle timer's clock and the visit's start, counted in the usage figures."""

    def __init__(self, clock: Callable[[], float], usage: UsageLog) -> None:
        self._clock = clock
        self.usage = usage
        self.active = False
        self._last_activity = clock()

    def activity(self) -> None:
        """Someone touched, pressed or said something (a visit starts if none was going on)."""
        if not self.active:
            self.usage.visit()
        self._last_activity = self._clock()
        self.active = True

    def listened(self) -> None:
        """Someone listening to content is not idle, though they do nothing."""
        self._last_activity = self._clock()

    def idle_s(self) -> float:
        return self._clock() - self._last_activity

    def keep_idle(self, idle_s: float) -> None:
        """Set the idle time back to `idle_s` (the idle warning itself is not activity)."""
        self._last_activity = self._clock() - idle_s

    def end(self) -> None:
        self.active = False
        self._last_activity = self._clock()


class VisitMixin(ControllerCore):
    """The idle warning, Continue, and forgetting the visitor when the visit ends."""

    _visit: Visit  # made by the Controller, which has the clock and the usage log

    def _activity(self) -> None:
        self._visit.activity()
        if self._state.idle_seconds_left is not None:
            self._set(idle_seconds_left=None)
            self._emit(EventType.IDLE_WARNING, seconds_left=None)

    @property
    def visit_active(self) -> bool:
        """Whether someone is using the kiosk (a visit started and has not timed out)."""
        return self._visit.active

    def _extend_visit(self) -> None:
        self._silence()
        self._say("prompt.continued")

    def tick(self) -> None:
        """Called about twice a second by the UI clock: warns, then ends an idle visit."""
        if not self._visit.active:
            return
        idle = self._visit.idle_s()
        settings = self.settings
        warn_at = settings.idle_timeout_s - settings.idle_warning_s
        if idle >= settings.idle_timeout_s:
            self.end_visit()
        elif idle >= warn_at:
            left = max(1, round(settings.idle_timeout_s - idle))
            first = self._state.idle_seconds_left is None
            self._set(idle_seconds_left=left)
            self._emit(EventType.IDLE_WARNING, seconds_left=left)
            if first:
                items = self.focus_items()
                self._set(focus=items[0].target)
                self._say("prompt.idle_warning", seconds=left)
                self._visit.keep_idle(idle)  # the warning itself is not activity

    def end_visit(self) -> None:
        """Forget the visitor: welcome screen, default volume, rate, text size and contrast."""
        self._silence()
        self.listener.stop_listening()
        sound, microphone = self._state.sound_available, self._state.microphone_available
        status = self._state.status
        self._state = replace(
            self._fresh_state(), sound_available=sound, microphone_available=microphone,
            status=status,
        )
        self._reading.forget()
        self._last_touch = None
        self._introduced = False
        self._resume_after_adjusting = False
        self._previous_screen = Screen.WELCOME
        self.speaker.set_rate(self._state.rate_wpm)
        self.speaker.set_volume(self._state.volume_db)
        self._go(Screen.WELCOME)
        self._settings_changed()
        self._emit(EventType.VISIT_ENDED)
        self._visit.end()
        self._say("prompt.visit_ended")
        self.usage.save()
