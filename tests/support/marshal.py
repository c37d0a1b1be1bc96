"""Engine events handed to the controller on the test's thread, as the UI does."""

from __future__ import annotations

import queue
import time

from kiosk.controller import Controller
from kiosk.events import Event, EventType


class Marshal:
    """An EventSink for engines: events are queued here and handed to the controller on the
    test's thread, as the UI does with Clock.schedule_once."""

    def __init__(self) -> None:
        self.inbox: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self.seen: list[Event] = []

    def __call__(self, item: Event) -> None:
        self.inbox.put(item)

    def _pump_one(self, controller: Controller, deadline: float) -> Event | None:
        try:
            item = self.inbox.get(timeout=max(0.0, min(0.05, deadline - time.monotonic())))
        except queue.Empty:
            return None
        self.seen.append(item)
        controller.on_engine_event(item)
        return item

    def pump_for(self, controller: Controller, seconds: float) -> None:
        """Hand over every event that arrives within `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._pump_one(controller, deadline)

    def pump_until(
        self, controller: Controller, kind: EventType, timeout_s: float, **data: object
    ) -> Event:
        """Hand over events until one of `kind` (with `data`) arrives; AssertionError if none."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            item = self._pump_one(controller, deadline)
            if item is not None and item.type is kind and all(
                item.data.get(k) == v for k, v in data.items()
            ):
                return item
        raise AssertionError(f"no {kind} {data} within {timeout_s} s; saw {[e.type for e in self.seen]}")
