"""Building blocks shared by the screens: text that wraps, buttons with a visible focus ring that
route every touch to the controller (so touch-to-hear works everywhere), and grids that reflow.

What the widgets need from the app (the text pacer, where touches go, the pools of spare
widgets) is given to them as properties: by widgets.kv from the app for every label (as the
theme is), and by the app for the screens it builds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from kivy.lang import Builder
from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)
from kivy.uix.gridlayout import GridLayout
from kivy.uix.label import Label
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from kiosk.controller import Controller
from kiosk.ui.pool import WidgetPool

FONT_NAME = "AtkinsonHyperlegible"


class TouchRouter(Protocol):
    """Where a touch on a control or on text goes: the app, to its controller of the moment
    (None while content loads, a fresh one after new content)."""

    def touch_target(self, target: str) -> None:
        """A control was tapped."""

    def speaks_on_touch(self) -> bool:
        """Whether a touch on text reads it aloud (touch-to-hear is on)."""

    def hear(self, text: str) -> None:
        """Read `text` aloud (a touch on text while touch-to-hear is on)."""


def sample_nearest(_self: Any, _label: Any, texture: Any) -> None:
    """Text textures are drawn at their own size: nearest sampling gives the same pixels as
    linear (crisper ones at a fractional scroll offset) for a quarter of the texture reads,
    which software rendering pays for on every pixel of every label on every frame."""
    if texture is not None:
        texture.min_filter = "nearest"
        texture.mag_filter = "nearest"


def sample_fills_nearest() -> None:
    """Untextured shapes (button fills, the highlight, outlines, scroll bars) are drawn with
    Kivy's default texture, 64x64 white, sampled "linear". Nearest sampling gives the same
    white for far fewer texture reads: measured with Mesa llvmpipe at 1920x1080, four
    full-window fills took 64 ms with linear sampling and 34-37 ms with nearest.

    Call once the window exists (Kivy loaded the texture with it; this gets the same one
    from Kivy's image cache)."""
    from kivy import kivy_shader_dir
    from kivy.core.image import Image

    texture = Image(str(Path(kivy_shader_dir) / "default.png")).texture
    texture.min_filter = "nearest"
    texture.mag_filter = "nearest"


class PacedLabel(Label):  # type: ignore[misc]
    """A label whose re-rendering waits for its `pacer` (see TextPacer), and that draws only
    the columns of its texture that hold text.

    Kivy makes a wrapped label's texture as wide as the label, so a short line, a title or
    a centred button caption is mostly transparent texture, and software rendering pays for
    every transparent pixel it draws. `ink_texture` is the part from the left edge of the
    leftmost line to the right edge of the rightmost one (plus a margin for glyphs that
    overhang their advance width); widgets.kv draws it where the whole texture would be.
    """

    pacer = ObjectProperty(None, allownone=True)  # the app's TextPacer (widgets.kv)
    ink_texture = ObjectProperty(None, allownone=True)
    ink_x = NumericProperty(0)
    ink_size = ListProperty([0, 0])

    #: Pixels kept either side of the lines' advance widths (italic or kerned overhang).
    INK_MARGIN = 4

    def texture_update(self, *largs: Any) -> None:
        if largs and self.pacer is not None:  # called by Kivy's per-label trigger: take a turn
            self.pacer.queue(self)
        else:  # called directly: now
            super().texture_update()

    def render_now(self) -> None:
        """Lay out and draw the text into its texture now (Kivy would draw the glyphs when
        the texture is first drawn: binding it does that here, inside the pacer's budget),
        then trim what is drawn to the text."""
        super().texture_update()
        texture = self.texture
        if texture is None:
            return
        texture.bind()
        lines = [line for line in getattr(self._label, "_cached_lines", ()) if line.w > 0]
        if not lines:
            return
        left = max(0, int(min(line.x for line in lines)) - self.INK_MARGIN)
        right = min(texture.width, int(max(line.x + line.w for line in lines)) + self.INK_MARGIN)
        if left == 0 and right >= texture.width:
            return
        self.ink_texture = texture.get_region(left, 0, right - left, texture.height)
        self.ink_x = left
        self.ink_size = [right - left, texture.height]

    def on_texture(self, _label: Any, texture: Any) -> None:
        """Until the text is trimmed, draw the whole texture."""
        sample_nearest(self, _label, texture)
        self.ink_texture = texture
        self.ink_x = 0
        self.ink_size = list(texture.size) if texture is not None else [0, 0]


class BodyText(PacedLabel):
    """A paragraph: wraps to its width and grows to its text; touch-to-hear speaks it."""

    role = StringProperty("body")  # body, muted, title, banner, prompt, overlay
    speak_text = StringProperty("")  # what touch-to-hear says ("" = the shown text)
    router = ObjectProperty(None, allownone=True)  # a TouchRouter: the app (widgets.kv)

    def on_touch_down(self, touch: Any) -> bool:
        router: TouchRouter | None = self.router
        if (
            router is not None and router.speaks_on_touch() and self.text
            and self.collide_point(*touch.pos)
        ):
            touch.grab(self)  # only a touch that starts on the text may speak it
            return True
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return bool(super().on_touch_up(touch))
        touch.ungrab(self)
        router: TouchRouter | None = self.router
        if router is not None and self.collide_point(*touch.pos):
            router.hear(self.speak_text or self.text)
        return True


class SentenceText(BodyText):
    """One sentence in the reader; `current` draws the highlight behind it."""

    current = BooleanProperty(False)
    index = NumericProperty(0)
    bullet = BooleanProperty(False)


class KioskButton(PacedLabel):
    """A control named by `target`; a touch goes to the router, which hands it to
    Controller.touch (which speaks or activates)."""

    target = StringProperty("")
    focused = BooleanProperty(False)
    primary = BooleanProperty(False)
    pressed = BooleanProperty(False)
    large = BooleanProperty(False)  # a topic tile: bigger text, twice the height
    ring = NumericProperty(3)  # outline width: thick when focused
    #: The height its text and the touch-target size need (widgets.kv); it is drawn at least
    #: `row_height` tall, which a ButtonGrid sets to the tallest of its row.
    natural_height = NumericProperty(0)
    row_height = NumericProperty(0)
    router = ObjectProperty(None, allownone=True)  # a TouchRouter: the app (widgets.kv)

    def on_touch_down(self, touch: Any) -> bool:
        if self.disabled or not self.collide_point(*touch.pos):
            return bool(super().on_touch_down(touch))
        touch.grab(self)
        self.pressed = True
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is self:
            return True
        return bool(super().on_touch_move(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return bool(super().on_touch_up(touch))
        touch.ungrab(self)
        self.pressed = False
        router: TouchRouter | None = self.router
        if router is not None and self.parent is not None and self.collide_point(*touch.pos):
            router.touch_target(self.target)
        return True


class ButtonGrid(GridLayout):  # type: ignore[misc]
    """A grid whose column count follows its width, so buttons reflow when text grows.

    It has no more columns than buttons: an empty column still takes its spacing, so four
    buttons in a grid of seven columns stopped short of the grid's right edge. The buttons of
    a row are as tall as the tallest (a label that wraps to two lines makes the whole row
    taller, not one button)."""

    min_cell_em = NumericProperty(8.0)  # a column needs about this many body-text ems
    max_cols = NumericProperty(4)
    em = NumericProperty(32.0)  # the controls' text size in pixels (widgets.kv: the theme's)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(width=self._reflow, min_cell_em=self._reflow, max_cols=self._reflow,
                  em=self._reflow, children=self._reflow)

    def _reflow(self, *_args: Any) -> None:
        fits = int(max(1.0, self.width) // max(1.0, self.em * self.min_cell_em))
        self.cols = max(1, min(int(self.max_cols), fits, len(self.children) or 1))
        self._even_rows()

    def add_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        super().add_widget(widget, *args, **kwargs)
        if isinstance(widget, KioskButton):
            widget.bind(natural_height=self._even_rows)

    def remove_widget(self, widget: Widget, *args: Any, **kwargs: Any) -> None:
        super().remove_widget(widget, *args, **kwargs)
        if isinstance(widget, KioskButton):
            widget.unbind(natural_height=self._even_rows)
            widget.row_height = 0

    def _even_rows(self, *_args: Any) -> None:
        buttons = [c for c in reversed(self.children) if isinstance(c, KioskButton)]
        cols = max(1, int(self.cols or 1))
        for start in range(0, len(buttons), cols):
            row = buttons[start:start + cols]
            tallest = max(button.natural_height for button in row)
            for button in row:
                button.row_height = tallest


class ClipScroll(ScrollView):  # type: ignore[misc]
    """A ScrollView that clips with the scissor test instead of the stencil buffer: the stencil
    costs two extra fills of its area on every frame, which software rendering cannot afford."""

    def window_box(self) -> tuple[int, int, int, int]:
        x, y = self.to_window(self.x, self.y)
        return int(x), int(y), max(0, int(self.width)), max(0, int(self.height))

    def update_from_scroll(self, *args: Any) -> None:
        # Kivy 2.3's ScrollView binds its bar colour again on every scroll and unbinds it once
        # when the scrolling stops, so a reader following its highlight gathered a binding per
        # scroll, for ever (123 after 60 scrolls; tests/ui/driver.py checks it). One at most:
        self.funbind("bar_color", self._change_bar_color)
        super().update_from_scroll(*args)


class ControlBar(ClipScroll):
    """A bar of controls that takes at most `max_fraction` of the window and scrolls beyond it."""

    max_fraction = NumericProperty(0.45)
    grid = ObjectProperty(None)
    #: The grid's most columns, and the ems of control text a column needs.
    grid_max_cols = NumericProperty(7)
    grid_min_cell_em = NumericProperty(7)


class Spacer(Widget):  # type: ignore[misc]
    """Fixed-height space."""



class KioskScreen(Screen):  # type: ignore[misc]
    """A screen drawn from the controller's state; its controls come from Controller.focus_items.

    Subclasses name the grids that hold controls and say which grid each target goes in.
    `buttons_pool` (a WidgetPool of KioskButton) is the app's, given when it builds the screen.
    """

    def __init__(self, *, buttons_pool: WidgetPool[KioskButton], **kwargs: Any) -> None:
        self.buttons_pool = buttons_pool
        super().__init__(**kwargs)

    def grid_for(self, target: str) -> str | None:
        """The id of the ButtonGrid that shows `target` (None: not on this screen)."""
        return "bar"

    def large(self, target: str) -> bool:
        """Whether `target` is drawn as a large tile."""
        return False

    def refresh(self, ctrl: Controller) -> None:
        """Bring the widgets in line with the controller's state."""
        self.refresh_content(ctrl)
        if ctrl.state.adjusting:
            return  # the focus order is the Adjust panel's; this screen's controls stay
        wanted: dict[str, list[Any]] = {}
        for item in ctrl.focus_items():
            if item.target in OVERLAY_TARGETS:
                continue
            grid = self.grid_for(item.target)
            if grid is not None:
                wanted.setdefault(grid, []).append(item)
        for grid_id, grid in self.grids().items():
            self._sync(grid, wanted.get(grid_id, []), ctrl.state.focus)
        focused = self.button(ctrl.state.focus) if ctrl.state.focus else None
        if focused is not None:
            self.scroll_into_view(focused)

    def refresh_content(self, ctrl: Controller) -> None:
        """Update text that is not a control (titles, paragraphs)."""

    def grids(self) -> dict[str, ButtonGrid]:
        found: dict[str, ButtonGrid] = {}
        for key, widget in self.ids.items():
            if isinstance(widget, ButtonGrid):
                found[key] = widget
            elif isinstance(widget, ControlBar):
                found[key.removesuffix("_scroll")] = widget.grid
        return found

    def _sync(self, grid: ButtonGrid, items: list[Any], focus: str | None) -> None:
        buttons = [child for child in reversed(grid.children) if isinstance(child, KioskButton)]
        if [b.target for b in buttons] != [item.target for item in items]:
            grid.clear_widgets()
            for old in buttons:
                old.pressed = old.focused = False
            self.buttons_pool.give_back(buttons)
            buttons = []
            for item in items:
                button = self.buttons_pool.take()
                button.target = item.target
                button.text = item.label
                button.primary = item.primary
                button.large = self.large(item.target)
                grid.add_widget(button)
                buttons.append(button)
        for button, item in zip(buttons, items, strict=True):
            button.text = item.label
            button.primary = item.primary
            button.focused = item.target == focus

    def buttons(self) -> list[KioskButton]:
        """Every control on this screen, in focus order."""
        found: list[KioskButton] = []
        for grid in self.grids().values():
            found += [c for c in reversed(grid.children) if isinstance(c, KioskButton)]
        return found

    def button(self, target: str | None) -> KioskButton | None:
        for button in self.buttons():
            if button.target == target:
                return button
        return None

    def scroll_into_view(self, widget: Widget) -> None:
        """Scroll whichever ScrollView holds `widget` so that it is visible."""
        parent = widget.parent
        # The window is its own parent: stop there.
        while parent is not None and parent is not self and parent.parent is not parent:
            if isinstance(parent, ScrollView):
                parent.scroll_to(widget, padding=10, animate=False)
                parent.update_from_scroll()  # move the content now, not on the next frame
                return
            parent = parent.parent


#: Controls drawn by the overlays (the idle warning, "Did you mean ...?"), not by a screen.
OVERLAY_TARGETS = frozenset({"continue", "yes", "no"})

Builder.load_file(str(Path(__file__).with_suffix(".kv")))
