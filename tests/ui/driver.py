"""Drives a real kiosk window (run under Xvfb by tests/ui/test_window.py, one process per size).

`python -m tests.ui.driver --size 1920x1080 --out DIR` opens the kiosk with recording fake
engines, walks every flow with real touches (Kivy's input queue), real key presses (xdotool via
the X server), injected intents and engine events, and writes DIR/report.json: what each step
observed (`checks`), screenshots (DIR/*.png) and any error. The parent test asserts on it.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import shutil
import signal
import socket
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

from kiosk.config import BUNDLED_CONTENT, Settings
from kiosk.events import EventType, event
from kiosk.intents import Intent, IntentName
from kiosk.ui.run import create_app
from kiosk.ui.theme import contrast_ratio
from tests.fakes import FakeListener, FakeSpeaker
from tests.support.xvfb import send_close_request, send_keys, window_ids

Step = Iterator[float]  # each yield: seconds to let the app run before the next step
PIN = "2468"
#: A touch inside a ScrollView reaches the button about 0.2 s later (Kivy's scroll detection).
TAP_WAIT = 0.6


class Observer:
    """Collects checks: (flow, what, actual, op, expected)."""

    def __init__(self) -> None:
        self.checks: list[dict[str, Any]] = []

    def check(self, flow: str, what: str, actual: Any, op: str = "==", expected: Any = True) -> None:
        self.checks.append(
            {"flow": flow, "what": what, "actual": actual, "op": op, "expected": expected}
        )


class FakeClock:
    """The controller's clock: real time plus an offset the idle test can jump forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.monotonic() + self.offset


class FrozenClock(FakeClock):
    """The controller's clock standing still but for the offset: what shows the time (the idle
    warning's seconds) is the same on every run (the screenshot tour, tests/ui/screenshots.py)."""

    START = 1000.0

    def __call__(self) -> float:
        return self.START + self.offset


class Driver:
    """Holds the app, the fakes and the helpers each flow uses."""

    def __init__(
        self, size: tuple[int, int], out: Path, content_dir: Path | None, start_only: bool = False
    ) -> None:
        self.size = size
        self.start_only = start_only
        self.out = out
        self.obs = Observer()
        self.clock = FakeClock()
        self.speakers: list[FakeSpeaker] = []
        self.listeners: list[FakeListener] = []
        settings = replace(Settings(), fullscreen=False, staff_pin=PIN, state_dir=out / "state")
        if content_dir is None:
            # A copy, which the content-reload flow edits as staff would.
            content_dir = out / "content"
            shutil.rmtree(content_dir, ignore_errors=True)
            shutil.copytree(BUNDLED_CONTENT, content_dir)
        self.content_dir = content_dir
        # A cache of its own: with a last good copy of the content kept there by an earlier
        # run, the kiosk would show that copy instead of the error screen.
        settings = replace(settings, content_dir=content_dir, cache_dir=out / "cache")
        self.settings = settings
        # systemd's notify socket, as a `Type=notify` unit with `WatchdogSec=` gives it (in the
        # abstract namespace, as systemd's own is): heartbeats every 0.2 s.
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(f"\0kiosk-driver-{os.getpid()}")
        self.notify.setblocking(False)
        os.environ["NOTIFY_SOCKET"] = f"@kiosk-driver-{os.getpid()}"
        os.environ["WATCHDOG_USEC"] = "600000"
        self.app = create_app(settings, engines=self._engines, clock=self.clock, size=size)
        self.screenshots: dict[str, str] = {}
        self.error = ""
        self.stopped_by_staff = False
        staff_exit = self.app.staff_exit

        def exit_by_staff() -> None:
            self.stopped_by_staff = True
            staff_exit()

        cast(Any, self.app).staff_exit = exit_by_staff  # a method replaced, hence Any

    def _engines(self, settings: Settings, library: Any, sink: Any) -> tuple[Any, Any]:
        speaker, listener = FakeSpeaker(sink), FakeListener(sink)
        self.speakers.append(speaker)
        self.listeners.append(listener)
        return speaker, listener

    # ----- helpers ------------------------------------------------------------------

    @property
    def ctrl(self) -> Any:
        return self.app.controller

    @property
    def speaker(self) -> FakeSpeaker:
        return self.speakers[-1]

    def window(self) -> Any:
        from kivy.core.window import Window

        return Window

    def screen(self) -> Any:
        return self.app.root.manager.current_screen

    def button(self, target: str) -> Any:
        if target == "continue":
            return self.app.root.idle.ids.continue_button
        if target in ("yes", "no"):
            return self.app.root.question.button(target)
        if self.app.root.adjust.shown:
            panel_button = self.app.root.adjust.button(target)
            if panel_button is None:
                raise LookupError(f"no button {target!r} in the Adjust panel")
            return panel_button
        found = self.screen().button(target)
        if found is None:
            raise LookupError(f"no button {target!r} on {self.screen().name}")
        return found

    def tap(self, widget: Any) -> None:
        """A real touch: down and up at the widget's centre, through Kivy's input queue."""
        from kivy.tests.common import UnitTestTouch

        self.screen().scroll_into_view(widget)
        x, y = widget.to_window(*widget.center)
        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def press(self, target: Any, wait: float = TAP_WAIT) -> Step:
        """Touch a control (by target) or widget once its place on screen has settled."""
        last = None
        for _ in range(60):
            try:
                widget = self.button(target) if isinstance(target, str) else target
            except LookupError:  # the screen has not been redrawn yet
                yield 0.05
                continue
            self.screen().scroll_into_view(widget)
            where = tuple(widget.to_window(*widget.center)) + tuple(widget.size)
            if where == last:
                break
            last = where
            yield 0.05
        self.tap(widget)
        yield wait

    def until(self, condition: Any, timeout: float = 3.0) -> Step:
        """Let the app run until `condition()` holds (or the timeout passes)."""
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            yield 0.05

    def tap_at(self, x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        touch = UnitTestTouch(x, y)
        touch.touch_down()
        touch.touch_up()

    def keys(self, *names: str) -> None:
        """Real key presses through the X server, in order."""
        display = os.environ["DISPLAY"]
        window = window_ids(display, os.getpid())
        send_keys(display, window[-1], *names)

    def last_spoken(self) -> list[str]:
        return self.speaker.spoken[-1] if self.speaker.spoken else []

    def shot(self, name: str) -> Step:
        """Save a screenshot once the window has been redrawn, named by screen and window size;
        then sample its contrast."""
        yield 0.3
        self.window().canvas.ask_update()
        yield 0.1
        width, height = self.size
        stem = self.out / f"{name}-{width}x{height}"
        made = self.window().screenshot(name=str(stem) + ".png")
        final = Path(f"{stem}.png")
        if made and Path(made) != final:
            Path(made).replace(final)
        self.screenshots[name] = str(final)
        self.measure_contrast(name, final)

    # ----- what the screen shows ------------------------------------------------

    def notified(self) -> list[str]:
        """The messages sent to systemd since the last call."""
        messages = []
        while True:
            try:
                messages.append(self.notify.recv(4096).decode())
            except BlockingIOError:
                return messages

    def visible_texts(self) -> list[Any]:
        """Text-bearing widgets on the current screen and overlays that are drawn."""
        from kivy.uix.label import Label

        roots = [self.screen()]
        if self.app.root.staff.open:
            roots = [self.app.root.staff]
        elif self.app.root.idle.shown:
            roots = [self.app.root.idle]
        elif self.app.root.question.shown:
            roots = [self.app.root.question]
        elif self.app.root.adjust.shown:
            roots = [self.app.root.adjust]
        found = []
        for root in roots:
            for widget in root.walk(restrict=True):
                drawn = widget.opacity > 0 and widget.width > 2 and widget.height > 2
                if isinstance(widget, Label) and widget.text.strip() and drawn:
                    found.append(widget)
        return found

    def window_rect(self, widget: Any) -> tuple[float, float, float, float]:
        x0, y0 = widget.to_window(widget.x, widget.y)
        return x0, y0, x0 + widget.width, y0 + widget.height

    def viewport(self, widget: Any) -> tuple[float, float, float, float]:
        """The part of the window where `widget` can be seen (its ScrollView, or the window)."""
        from kivy.uix.scrollview import ScrollView

        win = self.window()
        rect = (0.0, 0.0, float(win.width), float(win.height))
        for parent in _parents(widget):
            if isinstance(parent, ScrollView):
                x0, y0 = parent.to_window(parent.x, parent.y)
                rect = (x0, y0, x0 + parent.width, y0 + parent.height)
                break
        return rect

    def clipping(self) -> list[str]:
        """Everything cut off: text larger than its box, boxes outside the window or sideways
        outside their scroll area. Empty when nothing is clipped."""
        from kivy.uix.scrollview import ScrollView

        win = self.window()
        problems: list[str] = []
        for widget in self.visible_texts():
            name = f"{type(widget).__name__}({widget.text[:30]!r})"
            tex_w, tex_h = widget.texture_size
            if tex_w > widget.width + 1 or tex_h > widget.height + 1:
                problems.append(f"{name}: text {tex_w}x{tex_h} in box {widget.width:.0f}x{widget.height:.0f}")
            x0, y0, x1, y1 = self.window_rect(widget)
            in_scroll = any(isinstance(p, ScrollView) for p in _parents(widget))
            vx0, _vy0, vx1, _vy1 = self.viewport(widget)
            if x0 < vx0 - 1 or x1 > vx1 + 1:
                problems.append(f"{name}: x {x0:.0f}..{x1:.0f} outside {vx0:.0f}..{vx1:.0f}")
            if not in_scroll and (y0 < -1 or y1 > win.height + 1 or x0 < -1 or x1 > win.width + 1):
                problems.append(f"{name}: outside the window at {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}")
        # Scroll areas themselves must sit inside the window.
        for widget in self.screen().walk(restrict=True):
            if isinstance(widget, ScrollView) and widget.height > 0:
                x0, y0, x1, y1 = self.window_rect(widget)
                if y0 < -1 or y1 > win.height + 1 or x0 < -1 or x1 > win.width + 1:
                    problems.append(f"ScrollView outside the window at {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}")
        return problems

    def unrendered(self) -> list[str]:
        """Visible texts whose texture does not show them yet (still waiting for the text
        pacer, or never rendered), or whose drawn part is not a full-height slice of their
        texture. Empty when every visible text is drawn."""
        from kiosk.ui.widgets import PacedLabel

        problems: list[str] = []
        for widget in self.visible_texts():
            if not isinstance(widget, PacedLabel):
                continue
            name = f"{type(widget).__name__}({widget.text[:30]!r})"
            texture = widget.texture
            if widget in self.app.text_pacer or texture is None:
                problems.append(f"{name}: not rendered")
                continue
            ink_w, ink_h = widget.ink_size
            if (widget.ink_texture is None or ink_w <= 0 or widget.ink_x < 0
                    or widget.ink_x + ink_w > texture.width or ink_h != texture.height):
                problems.append(f"{name}: draws {widget.ink_x}+{ink_w}x{ink_h} of a "
                                f"{texture.width}x{texture.height} texture")
        return problems

    def fully_visible(self, widget: Any) -> bool:
        x0, y0, x1, y1 = self.window_rect(widget)
        vx0, vy0, vx1, vy1 = self.viewport(widget)
        win = self.window()
        return (
            x0 >= vx0 - 1 and x1 <= vx1 + 1 and y0 >= vy0 - 1 and y1 <= vy1 + 1
            and y0 >= -1 and y1 <= win.height + 1
        )

    def in_view(self, widget: Any) -> bool:
        """Kept in view: wholly visible, or, if taller than its scroll area, filling it from
        its first line."""
        if self.fully_visible(widget):
            return True
        _x0, y0, _x1, y1 = self.window_rect(widget)
        _vx0, vy0, _vx1, vy1 = self.viewport(widget)
        return widget.height > vy1 - vy0 and y1 <= vy1 + 1 and y1 >= vy1 - 80 and y0 <= vy0

    def measure_contrast(self, name: str, path: Path) -> None:
        """Sample pixels of each visible text widget: the commonest colour is its background,
        the colour that differs most from it is the ink; record the lowest ratio found."""
        from PIL import Image

        image = Image.open(path).convert("RGB")
        _width, height = image.size
        ratios: list[tuple[float, str]] = []
        for widget in self.visible_texts():
            if not self.fully_visible(widget):
                continue
            x0, y0, x1, y1 = self.window_rect(widget)
            inset = 12 if type(widget).__name__ == "KioskButton" else 0
            box = (
                int(x0 + inset), int(height - y1 + inset), int(x1 - inset), int(height - y0 - inset)
            )
            if box[2] - box[0] < 4 or box[3] - box[1] < 4:
                continue
            colours = Counter(image.crop(box).getdata())
            background = _unit(colours.most_common(1)[0][0])
            ratio = max(contrast_ratio(_unit(colour), background) for colour in colours)
            ratios.append((round(ratio, 2), widget.text[:40]))
        lowest = min(ratios) if ratios else (0.0, "no text found")
        need = 7.0 if self.ctrl is not None and self.ctrl.state.high_contrast else 4.5
        self.obs.check("contrast", f"{name}: lowest text contrast ({lowest[1]!r})", lowest[0], ">=", need)
        self.obs.check("contrast", f"{name}: text widgets sampled", len(ratios), ">=", 2 if name != "content_error" else 1)

    # ----- geometry, measured from the widgets (tests/ui/test_geometry.py) ---------------

    def shown_layer(self) -> Any:
        """What a visitor sees and touches: the overlay on top while one is shown (in the
        order visible_texts() takes them), else the current screen."""
        root = self.app.root
        if root.staff.open:
            return root.staff
        if root.idle.shown:
            return root.idle
        if root.question.shown:
            return root.question
        return root.adjust if root.adjust.shown else self.screen()

    def touch_targets(self) -> list[Any]:
        """Every control a touch acts on in what is shown: the KioskButtons and any Kivy button
        (the PIN pad's keys). Text is not a control: a touch on it only reads it aloud."""
        from kivy.uix.behaviors import ButtonBehavior

        from kiosk.ui.widgets import KioskButton

        return [widget for widget in self.shown_layer().walk(restrict=True)
                if isinstance(widget, KioskButton | ButtonBehavior) and _drawn(widget)]

    def small_targets(self, smallest_px: float) -> list[str]:
        """The touch targets narrower or lower than `smallest_px`, as readable lines."""
        return [f"{_named(widget)}: {widget.width:.1f} x {widget.height:.1f} px"
                for widget in self.touch_targets() if min(widget.size) < smallest_px]

    def cut_off(self) -> list[str]:
        """Text that cannot be read whole: what clipping() and unrendered() find, text
        squeezed to nothing by its layout, text in a scroll area but outside what the area
        scrolls over, and a scroll area taller than its view that does not scroll."""
        from kivy.uix.label import Label
        from kivy.uix.scrollview import ScrollView

        problems = self.clipping() + self.unrendered()
        for widget in self.shown_layer().walk(restrict=True):
            if not isinstance(widget, Label) or not widget.text.strip() or not _drawn(widget):
                continue
            if widget.width <= 2 or widget.height <= 2:
                problems.append(f"{_named(widget)}: squeezed to {widget.width:.0f} x "
                                f"{widget.height:.0f} px")
                continue
            scroll = next((p for p in _parents(widget) if isinstance(p, ScrollView)), None)
            if scroll is None or not scroll.children:
                continue
            content = scroll.children[0]
            x0, y0, x1, y1 = self.window_rect(widget)
            cx0, cy0, cx1, cy1 = self.window_rect(content)
            if x0 < cx0 - 1 or x1 > cx1 + 1 or y0 < cy0 - 1 or y1 > cy1 + 1:
                problems.append(f"{_named(widget)}: at {x0:.0f},{y0:.0f},{x1:.0f},{y1:.0f}, "
                                f"outside what its scroll area scrolls over")
            elif content.height > scroll.height + 1 and not scroll.do_scroll_y:
                problems.append(f"{_named(widget)}: in a scroll area taller than its view "
                                "that does not scroll")
        return problems

    def over_measure(self) -> list[str]:
        """Shown texts with a line wider than the reading measure (theme.measure_px: about 70
        characters of body text), as readable lines; the widest line is Kivy's own layout of
        the text (its cached lines), not the label's box, which may be wider."""
        limit = self.app.theme.measure_px
        problems: list[str] = []
        for widget in self.visible_texts():
            lines = getattr(getattr(widget, "_label", None), "_cached_lines", None) or ()
            widest = max((line.w for line in lines), default=0)
            if widest > limit + 1:
                problems.append(f"{_named(widget)}: a line {widest:.0f} px wide, the measure "
                                f"{limit:.0f} px")
        return problems

    def text_contrasts(self) -> list[tuple[float, str]]:
        """The contrast of each shown text whose middle is in view against what is drawn behind
        it, from the colours the widgets draw with (the theme's): the window's clear colour,
        then each fill (a Color, then a Rectangle, RoundedRectangle or BorderImage) that the
        text's ancestors and the text itself draw under the middle of its text, blended by
        their alpha and opacity; the text's colour is blended over that."""
        from kivy.graphics import (
            BorderImage,
            Color,
            Rectangle,
            RoundedRectangle,
            StencilPush,
            StencilUse,
        )

        found: list[tuple[float, str]] = []
        for widget in self.visible_texts():
            x, y = _text_middle(widget)
            wx, wy = widget.to_window(x, y)
            vx0, vy0, vx1, vy1 = self.viewport(widget)
            if not (vx0 <= wx <= vx1 and vy0 <= wy <= vy1):
                continue  # scrolled out of view: measured where it is shown
            behind = list(self.window().clearcolor[:3])
            opacity = 1.0
            for owner in [*reversed(list(_parents(widget))), widget]:
                opacity *= owner.opacity
                groups = [owner.canvas.before] if owner.canvas.has_before else []
                colour, masking = (1.0, 1.0, 1.0, 1.0), False
                for instruction in [i for g in [*groups, owner.canvas] for i in g.children]:
                    if isinstance(instruction, Color):
                        colour = tuple(instruction.rgba)
                    # Between these, shapes draw the stencil mask (ScreenManager's), not colour.
                    masking = isinstance(instruction, StencilPush) or (
                        masking and not isinstance(instruction, StencilUse))
                    fill = isinstance(instruction, Rectangle | RoundedRectangle | BorderImage)
                    if not fill or masking or _is_text(instruction, owner):
                        continue
                    (px, py), (pw, ph) = instruction.pos, instruction.size
                    fx0, fy0 = owner.to_window(px, py)
                    if pw > 0 and ph > 0 and fx0 <= wx <= fx0 + pw and fy0 <= wy <= fy0 + ph:
                        alpha = colour[3] * opacity
                        behind = [alpha * c + (1 - alpha) * b
                                  for c, b in zip(colour[:3], behind, strict=True)]
            ink = widget.disabled_color if widget.disabled else widget.color
            alpha = ink[3] * opacity
            shown = [alpha * c + (1 - alpha) * b for c, b in zip(ink[:3], behind, strict=True)]
            ratio = contrast_ratio(_rgb(shown), _rgb(behind))
            found.append((round(ratio, 2), f"{_named(widget)} {_hex(shown)} on {_hex(behind)}"))
        return found

    # ----- the flows ------------------------------------------------------------

    def flows(self) -> Step:
        while self.ctrl is None and not self.app.content_problems:
            yield 0.05
        yield 0.3
        if self.app.content_problems:
            yield from self.content_error_flow()
            return
        obs = self.obs
        obs.check("start", "first interactive frame seen", self.app.interactive_at is not None)
        obs.check("start", "screen at start", self.screen().name, "==", "welcome")
        if self.start_only:
            library = self.app.library
            obs.check("start", "topics shown", len(library.topics) if library else 0, ">=", 1)
            return
        yield from self.watchdog_flow()
        yield from self.looks_flow()
        yield from self.keypad_flow()
        yield from self.touch_flow()
        yield from self.touch_to_hear_flow()
        yield from self.voice_flow()
        yield from self.did_you_mean_flow()
        yield from self.idle_flow()
        yield from self.largest_text_flow()
        yield from self.contrast_mode_flow()
        yield from self.status_flow()
        yield from self.content_reload_flow()
        yield from self.lockdown_flow()
        yield from self.staff_exit_flow()

    def watchdog_flow(self) -> Step:
        """READY=1 once interactive, then WATCHDOG=1 from the UI thread: none while it stalls."""
        obs = self.obs
        sent = self.notified()
        obs.check("watchdog", "READY=1 told to systemd", any(m.startswith("READY=1") for m in sent))
        yield 1.2
        obs.check("watchdog", "heartbeats in 1.2 s", self.notified().count("WATCHDOG=1"), ">=", 3)
        self.notified()
        time.sleep(1.5)  # the UI thread stalls (this step runs on it)
        obs.check("watchdog", "heartbeats while the UI thread stalls",
                  self.notified().count("WATCHDOG=1"), "==", 0)
        yield 1.0
        obs.check("watchdog", "heartbeats again once it runs", self.notified().count("WATCHDOG=1"),
                  ">=", 2)

    def looks_flow(self) -> Step:
        obs, theme = self.obs, self.app.theme
        obs.check("looks", "body text px", theme.body_px, ">=", 32)
        yield from self.shot("welcome")
        fonts = {Path(str(w.font_name)).name for w in self.visible_texts()}
        obs.check("looks", "fonts used on the welcome screen", sorted(fonts), "==", ["AtkinsonHyperlegible"])
        target = self.settings.screen_dpi * 2 / 2.54
        smallest = min(min(b.width, b.height) for b in self.screen().buttons())
        obs.check("looks", "smallest control side (px) vs 2 cm", smallest, ">=", round(target, 1))
        obs.check("looks", "welcome clipping", self.clipping(), "==", [])
        from kivy.core.window import Keyboard

        from kiosk.config import KEYPAD_ACTIONS
        from kiosk.ui.keypad import key_codes

        mapping, unknown = key_codes(self.settings.keypad, Keyboard.keycodes)
        obs.check("looks", "default keypad names all known to Kivy", unknown, "==", [])
        obs.check("looks", "every keypad action has a key", sorted(set(mapping.values())), "==",
                  sorted(KEYPAD_ACTIONS))
        tiles = [b for b in self.screen().buttons() if b.target.startswith("topic:")]
        obs.check("looks", "topic tiles on welcome", len(tiles), "==", 2)
        yield 0.05

    def keypad_flow(self) -> Step:
        """Keypad only: from the welcome screen to the end of a section."""
        obs, ctrl = self.obs, self.ctrl
        library = ctrl.library
        first, second = library.topics[0], library.topics[0].sections[1]
        tile, target = f"topic:{first.id}", f"section:{first.id}/{second.id}"
        self.keys("KP_2")
        yield from self.until(lambda: ctrl.state.focus == tile)
        yield 0.2
        obs.check("keypad", "focus after first Down", ctrl.state.focus, "==", tile)
        obs.check("keypad", "focused tile shows focus", self.button(tile).focused)
        obs.check("keypad", "first focus change spoken after how to start", self.last_spoken(),
                  "==", [library.text("screen.how_to_start"), first.title])
        self.keys("KP_2", "KP_8")
        yield from self.until(lambda: len(self.speaker.spoken) >= 3)
        yield 0.3
        obs.check("keypad", "focus after Down, Up", ctrl.state.focus, "==", tile)
        self.keys("KP_5")
        yield from self.until(lambda: self.screen().name == "topic")
        yield 0.3
        obs.check("keypad", "screen after 5", self.screen().name, "==", "topic")
        yield from self.shot("topic")
        obs.check("keypad", "topic clipping", self.clipping(), "==", [])
        self.keys("KP_2", "KP_2")
        yield from self.until(lambda: ctrl.state.focus == target)
        yield 0.3
        obs.check("keypad", "focus after Down, Down", ctrl.state.focus, "==", target)
        obs.check("keypad", "section button shows focus", self.button(target).focused)
        obs.check("keypad", "section title spoken", self.last_spoken(), "==", [second.title])
        self.keys("KP_Enter")
        yield from self.until(lambda: self.screen().name == "reader")
        yield 0.3
        obs.check("keypad", "screen after Enter", self.screen().name, "==", "reader")
        obs.check("keypad", "section shown", self.screen().title_text, "==", second.title)
        spoken = self.last_spoken()
        obs.check("keypad", "section read aloud", spoken[1:], "==", [s.text for s in second.sentences])
        self.speaker.hear_sentence(2)
        yield from self.until(lambda: ctrl.state.sentence == 1)
        yield 0.3
        widgets = self.screen().sentence_widgets()
        obs.check("keypad", "highlight follows the heard sentence",
                  [w.index for w in widgets if w.current], "==", [1])
        yield from self.shot("reader")
        obs.check("keypad", "reader clipping", self.clipping(), "==", [])
        self.speaker.play_to_end()
        last = len(second.sentences) - 1
        end_line = library.text("screen.end_of_section")
        yield from self.until(lambda: self.app.prompt_text == end_line)
        yield 0.3
        obs.check("keypad", "position at end of section", ctrl.state.sentence, "==", last)
        current = [w for w in self.screen().sentence_widgets() if w.current]
        obs.check("keypad", "last sentence highlighted", [w.index for w in current], "==", [last])
        obs.check("keypad", "highlighted sentence kept in view",
                  bool(current) and self.in_view(current[0]))
        obs.check("keypad", "end of section spoken", self.last_spoken(), "==", [end_line])
        obs.check("keypad", "end of section shown", self.app.prompt_text, "==", end_line)
        louder = self.settings.volume_db + self.settings.volume_step_db
        self.keys("KP_Add")
        yield from self.until(lambda: ctrl.state.volume_db == louder)
        obs.check("keypad", "+ raises the volume", ctrl.state.volume_db, "==", louder)
        self.keys("KP_Divide")
        yield from self.until(lambda: self.screen().name == "help")
        yield 0.3
        obs.check("keypad", "help key opens help", self.screen().name, "==", "help")
        obs.check("keypad", "help spoken", library.text("screen.help_voice") in self.last_spoken())
        yield from self.shot("help")
        obs.check("keypad", "help clipping", self.clipping(), "==", [])
        self.keys("KP_1")
        yield from self.until(lambda: self.screen().name == "welcome")
        obs.check("keypad", "1 goes home", self.screen().name, "==", "welcome")

    def touch_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        ctrl.end_visit()  # a new visitor, not in speech mode
        yield 0.2
        obs.check("touch", "speech mode off for a new visit", ctrl.state.speech_mode, "==", False)
        yield from self.press("topic:second-opinions")
        obs.check("touch", "tile opens the topic", (self.screen().name, ctrl.state.topic), "==",
                  ["topic", "second-opinions"])
        section = ctrl.library.topic("second-opinions").sections[0]
        yield from self.press(f"section:second-opinions/{section.id}")
        obs.check("touch", "section button opens the reader", self.screen().name, "==", "reader")
        yield from self.press("listen")
        obs.check("touch", "Pause pauses", str(ctrl.state.speech), "==", "paused")
        obs.check("touch", "button now says Listen", self.button("listen").text, "==",
                  ctrl.text("button.listen"))
        yield from self.press("listen")
        obs.check("touch", "Listen resumes", str(ctrl.state.speech), "==", "speaking")
        yield from self.press("adjust")
        obs.check("touch", "Adjust opens its panel", self.app.root.adjust.shown, "==", True)
        speed_before = self.app.root.adjust.speed
        yield from self.press("faster")
        obs.check("touch", "Faster", ctrl.state.rate_wpm, "==",
                  self.settings.rate_wpm + self.settings.rate_step_wpm)
        obs.check("touch", "the panel shows the new speed", (speed_before,
                  self.app.root.adjust.speed), "==",
                  [ctrl.text("adjust.speed", value=ctrl.text("adjust.speed_normal")),
                   ctrl.text("adjust.speed", value=ctrl.text("adjust.speed_faster", steps=1))])
        yield from self.press("adjust")  # Done
        obs.check("touch", "Done closes the panel", self.app.root.adjust.shown, "==", False)
        obs.check("touch", "the reading goes on", [self.screen().name, str(ctrl.state.speech)],
                  "==", ["reader", "speaking"])
        yield from self.press("next")
        obs.check("touch", "Next section", ctrl.state.section, "==",
                  ctrl.library.topic("second-opinions").sections[1].id)
        yield from self.press("sections")
        obs.check("touch", "Sections lists the topic's sections", self.screen().name, "==",
                  "topic")
        yield from self.press("home")
        obs.check("touch", "Home", self.screen().name, "==", "welcome")

    def touch_to_hear_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        yield from self.press("listen_screen")
        yield from self.until(lambda: ctrl.text("screen.welcome") in self.last_spoken())
        obs.check("touch_to_hear", "Listen to this screen reads the screen",
                  ctrl.text("screen.welcome") in self.last_spoken())
        obs.check("touch_to_hear", "speech mode on", ctrl.state.speech_mode)
        tile = self.button("topic:calcifications")
        yield from self.press(tile, wait=1.0)  # longer than a double tap
        obs.check("touch_to_hear", "one touch speaks the tile", self.last_spoken(), "==",
                  [ctrl.library.topic("calcifications").title])
        obs.check("touch_to_hear", "one touch does not activate", self.screen().name, "==", "welcome")
        obs.check("touch_to_hear", "touched tile shows focus", tile.focused)
        notice = next(w for w in self.visible_texts() if w.text == ctrl.text("screen.notice"))
        yield from self.press(notice, wait=1.0)
        obs.check("touch_to_hear", "touching text speaks it", self.last_spoken(), "==",
                  [ctrl.text("screen.notice")])
        yield from self.press(tile, wait=0.1)
        yield from self.press(tile)
        obs.check("touch_to_hear", "double tap activates", self.screen().name, "==", "topic")

    def voice_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        listener = self.listeners[-1]
        yield from self.press("talk", wait=0.1)  # speech mode is on: a double tap activates
        yield from self.press("talk")
        yield from self.until(lambda: listener.open)
        obs.check("voice", "Talk opens the microphone", listener.open)
        obs.check("voice", "listening shown", self.app.prompt_text, "==", ctrl.text("prompt.listening"))
        listener.hear(Intent(IntentName.SECTION, topic="calcifications", section="causes"))
        yield from self.until(lambda: self.screen().name == "reader")
        obs.check("voice", "spoken section opens", (self.screen().name, ctrl.state.section), "==",
                  ["reader", "causes"])
        for name in ("louder", "slower", "pause", "resume", "repeat", "next", "previous", "help",
                     "home", "none"):
            ctrl.handle(Intent(IntentName(name)))
            yield 0.1
        obs.check("voice", "none: only a prompt", self.last_spoken(), "==",
                  [ctrl.text("prompt.out_of_scope")])
        obs.check("voice", "screen after the intents", self.screen().name, "==", "welcome")

    def did_you_mean_flow(self) -> Step:
        """Not sure what was said, the kiosk asks; yes and no work by touch, keypad and voice."""
        obs, ctrl = self.obs, self.ctrl
        question = self.app.root.question
        listener = self.listeners[-1]
        maybe = Intent(IntentName.TOPIC, topic="second-opinions")
        asked = ctrl.text("prompt.did_you_mean", meaning="Second opinions")

        def ask() -> Step:
            self.speaker.play_to_end()
            listener.hear(Intent(IntentName.NONE, confidence=0.0, maybe=maybe))
            yield from self.until(lambda: question.shown and question.message == asked)

        yield from ask()
        obs.check("did you mean", "question shown", (question.shown, question.message), "==",
                  [True, asked])
        obs.check("did you mean", "question spoken", self.last_spoken(), "==", [asked])
        self.speaker.play_to_end()
        yield from self.until(lambda: listener.open)
        obs.check("did you mean", "listens for the answer once asked", listener.open)
        yield from self.shot("did_you_mean")
        obs.check("did you mean", "question clipping", self.clipping(), "==", [])
        yield from self.press("yes", wait=0.1)  # speech mode: a double tap activates
        yield from self.press("yes")
        yield from self.until(lambda: self.screen().name == "topic")
        obs.check("did you mean", "touch Yes opens the topic",
                  (question.shown, self.screen().name, ctrl.state.topic), "==",
                  [False, "topic", "second-opinions"])
        ctrl.handle(Intent(IntentName.HOME))
        yield from ask()
        self.keys("KP_7")
        yield from self.until(lambda: not question.shown)
        obs.check("did you mean", "keypad 7 says no", (question.shown, self.screen().name,
                  self.last_spoken()), "==", [False, "welcome", [ctrl.text("prompt.say_again")]])
        yield from ask()
        self.keys("KP_5")
        yield from self.until(lambda: self.screen().name == "topic")
        obs.check("did you mean", "keypad 5 says yes", self.screen().name, "==", "topic")
        ctrl.handle(Intent(IntentName.HOME))
        yield from ask()
        listener.hear(Intent(IntentName.NONE, confidence=0.0, heard="yes please", reply="yes"))
        yield from self.until(lambda: self.screen().name == "topic")
        obs.check("did you mean", "yes by voice", (question.shown, self.screen().name), "==",
                  [False, "topic"])
        ctrl.handle(Intent(IntentName.HOME))
        yield 0.2

    def idle_flow(self) -> Step:
        obs, ctrl, s = self.obs, self.ctrl, self.settings
        ctrl.activate("topic:calcifications")
        ctrl.activate("text_size")
        ctrl.activate("high_contrast")
        ctrl.handle(Intent(IntentName.LOUDER))
        self.speaker.play_to_end()
        yield 0.3
        self.clock.offset += s.idle_timeout_s - s.idle_warning_s + 1
        yield 1.2  # the UI ticks the controller twice a second
        left = ctrl.state.idle_seconds_left
        obs.check("idle", "warning shown", self.app.root.idle.shown)
        obs.check("idle", "seconds given", left if left is not None else 0, ">=", 20)
        said = [ctrl.text("prompt.idle_warning", seconds=n) for n in range(20, 600)]
        obs.check("idle", "warning spoken with at least 20 s", self.last_spoken()[0] in said)
        # The controller counts down on its own clock tick; the overlay follows on the next
        # frame, so a check in between would compare two different seconds.
        def warning_now() -> str:
            return str(ctrl.text("prompt.idle_warning", seconds=ctrl.state.idle_seconds_left))

        yield from self.until(lambda: self.app.root.idle.message == warning_now(), timeout=1.0)
        obs.check("idle", "warning text on screen", self.app.root.idle.message, "==",
                  warning_now())
        yield from self.shot("idle_warning")
        obs.check("idle", "idle warning clipping", self.clipping(), "==", [])
        self.tap(self.button("continue"))
        yield 0.4
        obs.check("idle", "Continue keeps the visit", (self.screen().name, self.app.root.idle.shown),
                  "==", ["topic", False])
        self.speaker.play_to_end()
        self.clock.offset += s.idle_timeout_s - s.idle_warning_s + 1
        yield 1.2
        obs.check("idle", "warned again", self.app.root.idle.shown)
        self.speaker.play_to_end()
        self.clock.offset += s.idle_warning_s + 1
        yield 1.2
        state = ctrl.state
        obs.check("idle", "back to welcome", self.screen().name, "==", "welcome")
        obs.check("idle", "settings reset",
                  [state.volume_db, state.rate_wpm, state.text_scale, state.high_contrast], "==",
                  [s.volume_db, s.rate_wpm, 1.0, s.high_contrast])
        obs.check("idle", "theme reset", [self.app.theme.scale, self.app.theme.palette.background],
                  "==", [1.0, "#F6F4EF"])
        obs.check("idle", "visit forgotten", [state.topic, state.section, state.speech_mode], "==",
                  [None, None, False])
        obs.check("idle", "overlay gone", self.app.root.idle.shown, "==", False)

    def largest_text_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        steps = self.settings.text_scale_steps
        ctrl.activate("section:calcifications/two-types")
        yield 0.2
        yield from self.press("adjust")
        for _ in range(steps):
            yield from self.press("text_size")
        obs.check("largest_text", "text scale", ctrl.state.text_scale, "==", 2.0)
        yield 0.3
        obs.check("largest_text", "Adjust panel clipping", self.clipping(), "==", [])
        yield from self.shot("adjust_large_text")
        yield from self.press("adjust")  # Done
        base = 32 * max(1.0, min(self.size) / 1080)
        obs.check("largest_text", "body text px at the largest size", self.app.theme.body_px,
                  ">=", round(base * 2))
        self.speaker.hear_sentence(len(self.speaker.speaking) - 1)
        yield from self.until(lambda: ctrl.state.sentence == len(self.speaker.speaking) - 2)
        yield 0.5
        obs.check("largest_text", "reader clipping", self.clipping(), "==", [])
        yield from self.until(lambda: not self.unrendered())
        obs.check("largest_text", "reader text all rendered", self.unrendered(), "==", [])
        current = [w for w in self.screen().sentence_widgets() if w.current]
        obs.check("largest_text", "highlight in view at 2x",
                  bool(current) and self.in_view(current[0]))
        yield from self.shot("reader_large_text")
        # The reader scrolled to follow the highlight: Kivy's ScrollView binds its bar colour
        # again on every scroll, and a kiosk scrolls thousands of times a day.
        for _ in range(30):
            self.speaker.hear_sentence(0)
            yield 0.02
            self.speaker.hear_sentence(len(self.speaker.speaking) - 1)
            yield 0.02
        from kivy.uix.scrollview import ScrollView

        scrolls = [w for w in self.screen().walk() if isinstance(w, ScrollView)]
        # Two at most: the ScrollView's own canvas rule, and one while it scrolls.
        obs.check("largest_text", "bar colour observers per scroll view after 60 scrolls",
                  max(len(w.get_property_observers("bar_color")) for w in scrolls), "<=", 2)
        openers: tuple[tuple[Callable[[], None], str], ...] = (
            (lambda: ctrl.handle(Intent(IntentName.HOME)), "welcome"),
            (lambda: ctrl.activate("topic:calcifications"), "topic"),
            (lambda: ctrl.handle(Intent(IntentName.HELP)), "help"),
        )
        for opener, name in openers:
            opener()
            yield from self.until(lambda name=name: self.screen().name == name)
            yield 0.3
            obs.check("largest_text", f"{name} clipping", self.clipping(), "==", [])
            yield from self.until(lambda: not self.unrendered())
            obs.check("largest_text", f"{name} text all rendered", self.unrendered(), "==", [])
            obs.check("largest_text", f"{name}: every control reachable",
                      all(b.height >= self.app.theme.target_px for b in self.screen().buttons()))
        ctrl.handle(Intent(IntentName.HOME))
        yield 0.3
        yield from self.shot("welcome_large_text")

    def contrast_mode_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        ctrl.end_visit()
        ctrl.activate("section:calcifications/symptoms")
        yield 0.2
        yield from self.press("adjust")
        yield from self.press("high_contrast")
        obs.check("high_contrast", "mode on", ctrl.state.high_contrast)
        yield from self.press("adjust")  # Done
        self.speaker.hear_sentence(2)
        yield 0.3
        yield from self.shot("reader_high_contrast")
        ctrl.handle(Intent(IntentName.HOME))
        yield 0.3
        yield from self.shot("welcome_high_contrast")
        ctrl.end_visit()
        yield 0.2

    def status_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        sink = self.app.engine_sink
        sink(event(EventType.MICROPHONE_UNAVAILABLE, reason="unplugged"))
        yield from self.until(lambda: self.app.status_text != "")
        yield 0.2
        obs.check("status", "microphone banner", self.app.status_text, "==",
                  ctrl.text("status.microphone_unavailable"))
        obs.check("status", "microphone problem spoken", self.last_spoken(), "==",
                  [ctrl.text("status.microphone_unavailable")])
        yield from self.shot("microphone_unavailable")
        sink(event(EventType.SOUND_UNAVAILABLE, reason="no device"))
        sound = ctrl.text("status.sound_unavailable")
        yield from self.until(lambda: self.app.status_text == sound)
        obs.check("status", "sound banner", self.app.status_text, "==",
                  ctrl.text("status.sound_unavailable"))
        yield from self.shot("sound_unavailable")
        obs.check("status", "status clipping", self.clipping(), "==", [])
        sink(event(EventType.SOUND_AVAILABLE))
        sink(event(EventType.MICROPHONE_AVAILABLE))
        yield from self.until(lambda: self.app.status_text == "")
        obs.check("status", "banner cleared", self.app.status_text, "==", "")

    def content_reload_flow(self) -> Step:
        """Staff edit the content of a running kiosk: taken when the visit ends; a broken edit
        never is."""
        obs, ctrl, s = self.obs, self.ctrl, self.settings
        topic = self.content_dir / "en" / "topics" / "calcifications.md"
        good = topic.read_text()
        edited = good.replace('title = "Breast calcifications"', 'title = "Calcium spots"', 1)
        assert edited != good
        topic.write_text(edited)
        speakers = len(self.speakers)
        yield 1.0
        obs.check("content_reload", "nothing changes during a visit", self.ctrl is ctrl)
        ctrl.note_activity()
        self.clock.offset += s.idle_timeout_s + 1  # the visit ends
        yield from self.until(lambda: self.ctrl is not ctrl, timeout=10.0)
        obs.check("content_reload", "new content when the visit ended", self.ctrl is not ctrl)
        obs.check("content_reload", "engines of its own", len(self.speakers), "==", speakers + 1)
        obs.check("content_reload", "the old speaker closed",
                  ("close", None) in self.speakers[speakers - 1].calls)
        yield 0.5
        texts = [label.text for label in self.visible_texts()]
        obs.check("content_reload", "the new title on the welcome screen", "Calcium spots" in texts)
        reloaded = self.ctrl
        topic.write_text("a half-saved edit\n")
        reloaded.note_activity()
        self.clock.offset += s.idle_timeout_s + 1
        yield 3.0
        obs.check("content_reload", "a broken edit is not taken", self.ctrl is reloaded)
        texts = [label.text for label in self.visible_texts()]
        obs.check("content_reload", "the good content stays", "Calcium spots" in texts)
        topic.write_text(good)

    def lockdown_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        win = self.window()
        obs.check("lockdown", "cursor hidden", win.show_cursor, "==", False)
        self.keys("Escape", "ctrl+q", "ctrl+w", "alt+F4", "ctrl+c", "F11", "super")
        yield 0.4
        obs.check("lockdown", "still running after Escape and shortcuts", self.app.root is not None
                  and ctrl is self.app.controller and self.screen().name == "welcome")
        display = os.environ["DISPLAY"]
        send_close_request(display, window_ids(display, os.getpid())[-1])
        yield 0.5
        obs.check("lockdown", "window-close request refused", self.app.lock.blocked_closes, ">=", 1)
        win.dispatch("on_request_close")
        yield 0.2
        obs.check("lockdown", "close requests refused", self.app.lock.blocked_closes, ">=", 2)
        # Corner taps without a PIN panel opening: four taps are not the gesture.
        corner = self.app.theme.target_px / 2
        for _ in range(4):
            self.tap_at(corner, win.height - corner)
        yield 0.3
        obs.check("lockdown", "four corner taps do nothing", self.app.root.staff.open, "==", False)

    def staff_exit_flow(self) -> Step:
        obs = self.obs
        win = self.window()
        corner = self.app.theme.target_px / 2
        for _ in range(5):
            self.tap_at(corner, win.height - corner)
        yield 0.4
        obs.check("staff", "five corner taps open the PIN panel", self.app.root.staff.open)
        yield from self.shot("staff_pin")
        self.keys("1", "1", "1", "1", "Return")
        yield 0.4
        obs.check("staff", "wrong PIN refused", self.app.root.staff.message, "==",
                  self.ctrl.text("status.staff_wrong_pin"))
        self.keys(*PIN, "Return")
        yield 2.0
        obs.check("staff", "right PIN did not stop the app", False)  # only reached if still running

    def content_error_flow(self) -> Step:
        obs = self.obs
        obs.check("content_error", "screen", self.screen().name, "==", "content_error")
        obs.check("content_error", "message shown", self.screen().message.startswith("This kiosk"))
        obs.check("content_error", "problems listed for staff", "topics" in self.screen().detail)
        spoken = self.speakers[-1].spoken if self.speakers else []
        obs.check("content_error", "message spoken", spoken[:1], "==", [[self.screen().message]])
        yield from self.shot("content_error")
        obs.check("content_error", "clipping", self.clipping(), "==", [])
        self.keys("Escape")
        yield 0.3
        obs.check("content_error", "Escape does not leave", self.screen().name, "==", "content_error")
        self.app.lock.unlock()
        self.app.stop()
        yield 1.0


def _unit(colour: Any) -> tuple[float, float, float]:
    red, green, blue = colour[:3]
    return (red / 255, green / 255, blue / 255)


def _parents(widget: Any) -> Iterator[Any]:
    parent = widget.parent
    while parent is not None and parent is not parent.parent:
        yield parent
        parent = parent.parent


def _drawn(widget: Any) -> bool:
    """Whether `widget` is drawn at all (it and every parent not transparent)."""
    return widget.opacity > 0 and all(parent.opacity > 0 for parent in _parents(widget))


def _named(widget: Any) -> str:
    return f"{type(widget).__name__}({str(widget.text)[:30]!r})"


def _text_middle(widget: Any) -> tuple[float, float]:
    """The middle of the drawn text (for a PacedLabel, of the part of its texture with text),
    in the coordinates of the widget's position."""
    width = widget.texture_size[0]
    ink_x, ink_size = getattr(widget, "ink_x", 0), getattr(widget, "ink_size", None)
    if not ink_size or ink_size[0] <= 0:
        return float(widget.center_x), float(widget.center_y)
    return widget.center_x - width / 2 + ink_x + ink_size[0] / 2, float(widget.center_y)


def _is_text(instruction: Any, owner: Any) -> bool:
    """Whether a textured shape is a label drawing its text (rather than a textured fill)."""
    texture = getattr(instruction, "texture", None)
    return texture is not None and texture in (getattr(owner, "texture", None),
                                               getattr(owner, "ink_texture", None))


def _rgb(colour: Any) -> tuple[float, float, float]:
    return (float(colour[0]), float(colour[1]), float(colour[2]))


def _hex(colour: Any) -> str:
    return "#" + "".join(f"{round(float(c) * 255):02X}" for c in colour[:3])


def run(
    size: tuple[int, int], out: Path, content_dir: Path | None, start_only: bool = False
) -> dict[str, Any]:
    return drive(Driver(size, out, content_dir, start_only))


def drive(driver: Driver) -> dict[str, Any]:
    """Run the app with `driver`'s flows, then write and return its report (DIR/report.json)."""
    from kivy.clock import Clock

    steps = driver.flows()
    state = {"next_at": 0.0}

    def advance(_dt: float) -> None:
        if time.monotonic() < state["next_at"]:
            return
        try:
            wait = next(steps)
        except StopIteration:
            Clock.unschedule(advance)
            driver.app.lock.unlock()
            driver.app.stop()
            return
        except Exception:
            driver.error = traceback.format_exc()
            Clock.unschedule(advance)
            driver.app.lock.unlock()
            driver.app.stop()
            return
        state["next_at"] = time.monotonic() + wait

    Clock.schedule_interval(advance, 0)
    started = time.perf_counter()
    driver.app.run()
    report = {
        "size": list(driver.size),
        "checks": driver.obs.checks,
        "screenshots": driver.screenshots,
        "error": driver.error,
        "stopped_by_staff": driver.stopped_by_staff,
        "exit_code": driver.app.exit_code,
        "seconds": round(time.perf_counter() - started, 1),
        "content_root": str(driver.app.library.root) if driver.app.library else None,
    }
    (driver.out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--content-dir", type=Path)
    parser.add_argument("--start-only", action="store_true", help="stop after the start checks")
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__ or sys.stdout)  # a hung run says where it is
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    run((width, height), args.out, args.content_dir, args.start_only)
    return 0


if __name__ == "__main__":
    sys.exit(main())
