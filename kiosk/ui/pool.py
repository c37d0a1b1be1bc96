"""Spare widgets built ahead of need, in idle frames, and widgets given back for reuse.

Building a label from its kv rules costs several milliseconds (two dozen property bindings
each), so a screen that built its two dozen controls when it opened spent 150 ms or more on
that one frame. Screens take ready widgets from a pool instead and give them back when they
drop them. The app owns the pools and the one SpareBuilder they share.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kivy.clock import Clock
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from kiosk.ui.text_pacer import TextPacer

W = TypeVar("W", bound=Widget)


class SpareBuilder:
    """Builds one spare widget per frame for the pools that want them, and none in a frame
    that has text waiting to be rendered (the pacer's work comes first)."""

    #: Seconds between two spares.
    INTERVAL_S = 0.05

    def __init__(self, pacer: TextPacer) -> None:
        self.pacer = pacer
        self._pending: list[WidgetPool[Any]] = []
        self._event: Any = None

    def want(self, pool: WidgetPool[Any]) -> None:
        """Build spares for `pool` until it has enough."""
        if not pool.full and pool not in self._pending:
            self._pending.append(pool)
        if self._event is None and self._pending:
            self._event = Clock.schedule_interval(self._build_one, self.INTERVAL_S)

    def _build_one(self, _dt: float) -> bool:
        if self.pacer.busy:
            return True  # this frame has text to render: build nothing
        if not self._pending:
            self._event = None
            gc.freeze()  # the spares are long-lived too (see KioskApp._ready)
            return False
        pool = self._pending.pop(0)
        pool.add_spare()
        if not pool.full:
            self._pending.append(pool)  # the pools take turns
        return True


class WidgetPool(Generic[W]):
    """Widgets of one kind: `spare` of them kept ready, built by `builder`."""

    def __init__(self, factory: Callable[[], W], spare: int, builder: SpareBuilder) -> None:
        self.factory = factory
        self.spare = spare
        self.builder = builder
        self._free: list[W] = []

    @property
    def full(self) -> bool:
        return len(self._free) >= self.spare

    def take(self) -> W:
        """A widget with no parent: a spare one if there is one, else a new one."""
        widget = self._free.pop() if self._free else self.factory()
        self.fill_later()
        return widget

    def give_back(self, widgets: list[W]) -> None:
        """Widgets already removed from their parent, for reuse. Their text is cleared at once
        (cheap), so that a reused label never shows its old text while its new text waits
        for the pacer."""
        for widget in widgets:
            if widget.parent is not None:
                continue
            if isinstance(widget, Label):
                widget.text = ""
                widget.texture_update()
            self._free.append(widget)

    def fill_later(self) -> None:
        """Build spares in idle frames until there are `spare` of them."""
        self.builder.want(self)

    def add_spare(self) -> None:
        self._free.append(self.factory())

    def __len__(self) -> int:
        return len(self._free)
