"""The visit: whether someone is using the kiosk, and how long nobody has done anything.

A visit starts with the first input after the kiosk was idle, and is counted then in the usage
figures; the controller warns, then ends it, when the idle time runs out.
"""

from __future__ import annotations

from collections.abc import Callable

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
