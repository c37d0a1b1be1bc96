"""Building blocks shared by the screens: text that wraps, buttons with a visible focus ring that
route every touch to the controller (so touch-to-hear works everywhere), and grids that reflow.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from kivy.app import App
from kivy.clock import Clock
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

FONT_NAME = "AtkinsonHyperlegible"

W = TypeVar("W", bound=Widget)


def controller() -> Any:
    """The running app's controller (None while content loads)."""
    app = App.get_running_app()
    return getattr(app, "controller", None)


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


class PacedLabel(Label):  # type: ignore[misc]
    """A label whose re-rendering waits for TEXT_PACER (see TextPacer), and that draws only
    the columns of its texture that hold text.

    Kivy makes a wrapped label's texture as wide as the label, so a short line, a title or
    a centred button caption is mostly transparent texture, and software rendering pays for
    every transparent pixel it draws. `ink_texture` is the part from the left edge of the
    leftmost line to the right edge of the rightmost one (plus a margin for glyphs that
    overhang their advance width); widgets.kv draws it where the whole texture would be.
    """

    ink_texture = ObjectProperty(None, allownone=True)
    ink_x = NumericProperty(0)
    ink_size = ListProperty([0, 0])

    #: Pixels kept either side of the lines' advance widths (italic or kerned overhang).
    INK_MARGIN = 4

    def texture_update(self, *largs: Any) -> None:
        if largs:  # called by Kivy's per-label trigger: take a turn
            TEXT_PACER.queue(self)
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

    def on_touch_down(self, touch: Any) -> bool:
        ctrl = controller()
        if (
            ctrl is not None and ctrl.state.speech_mode and self.text
            and self.collide_point(*touch.pos)
        ):
            touch.grab(self)  # only a touch that starts on the text may speak it
            return True
        return bool(super().on_touch_down(touch))

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return bool(super().on_touch_up(touch))
        touch.ungrab(self)
        ctrl = controller()
        if ctrl is not None and self.collide_point(*touch.pos):
            ctrl.read_aloud(self.speak_text or self.text)
        return True


class SentenceText(BodyText):
    """One sentence in the reader; `current` draws the highlight behind it."""

    current = BooleanProperty(False)
    index = NumericProperty(0)
    bullet = BooleanProperty(False)


class KioskButton(PacedLabel):
    """A control named by `target`; a touch goes to Controller.touch (which speaks or activates)."""

    target = StringProperty("")
    focused = BooleanProperty(False)
    primary = BooleanProperty(False)
    pressed = BooleanProperty(False)
    large = BooleanProperty(False)  # a topic tile: bigger text, twice the height
    ring = NumericProperty(3)  # outline width: thick when focused

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
        if self.parent is not None and self.collide_point(*touch.pos):
            ctrl = controller()
            if ctrl is not None:
                ctrl.touch(self.target)
        return True


class WidgetPool(Generic[W]):
    """Spare widgets built ahead of need, one per frame, and widgets given back for reuse.

    Building a label from its kv rules costs several milliseconds (two dozen property bindings
    each), so a screen that built its two dozen controls when it opened spent 150 ms or more on
    that one frame. Screens take ready widgets from here instead and give them back when they
    drop them. All pools share one filler that builds a single widget per frame, and none in
    a frame that has text waiting to be rendered.
    """

    _pending: ClassVar[list[WidgetPool[Any]]] = []
    _filler: ClassVar[Any] = None

    def __init__(self, factory: Callable[[], W], spare: int) -> None:
        self.factory = factory
        self.spare = spare
        self._free: list[W] = []

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
        pending = WidgetPool._pending
        if len(self._free) < self.spare and self not in pending:
            pending.append(self)
        if WidgetPool._filler is None and pending:
            WidgetPool._filler = Clock.schedule_interval(WidgetPool._build_one, 0.05)

    @staticmethod
    def _build_one(_dt: float) -> bool:
        pending = WidgetPool._pending
        if TEXT_PACER.busy:
            return True  # this frame has text to render: build nothing
        if not pending:
            WidgetPool._filler = None
            gc.freeze()  # the spares are long-lived too (see KioskApp._ready)
            return False
        pool = pending.pop(0)
        pool._free.append(pool.factory())
        if len(pool._free) < pool.spare:
            pending.append(pool)  # the pools take turns
        return True

    def __len__(self) -> int:
        return len(self._free)


class ButtonGrid(GridLayout):  # type: ignore[misc]
    """A grid whose column count follows its width, so buttons reflow when text grows."""

    min_cell_em = NumericProperty(8.0)  # a column needs about this many body-text ems
    max_cols = NumericProperty(4)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(width=self._reflow, min_cell_em=self._reflow, max_cols=self._reflow)
        app = App.get_running_app()
        theme = getattr(app, "theme", None)
        if theme is not None:
            theme.bind(control_px=self._reflow)

    def _reflow(self, *_args: Any) -> None:
        app = App.get_running_app()
        theme = getattr(app, "theme", None)
        em = theme.control_px if theme is not None else 32.0
        fits = int(max(1.0, self.width) // max(1.0, em * self.min_cell_em))
        self.cols = max(1, min(int(self.max_cols), fits))


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


class Spacer(Widget):  # type: ignore[misc]
    """Fixed-height space."""



class KioskScreen(Screen):  # type: ignore[misc]
    """A screen drawn from the controller's state; its controls come from Controller.focus_items.

    Subclasses name the grids that hold controls and say which grid each target goes in.
    """

    def grid_for(self, target: str) -> str | None:
        """The id of the ButtonGrid that shows `target` (None: not on this screen)."""
        return "bar"

    def large(self, target: str) -> bool:
        """Whether `target` is drawn as a large tile."""
        return False

    def refresh(self, ctrl: Any) -> None:
        """Bring the widgets in line with the controller's state."""
        self.refresh_content(ctrl)
        wanted: dict[str, list[Any]] = {}
        for item in ctrl.focus_items():
            grid = self.grid_for(item.target)
            if grid is not None:
                wanted.setdefault(grid, []).append(item)
        for grid_id, grid in self.grids().items():
            self._sync(grid, wanted.get(grid_id, []), ctrl.state.focus)
        focused = self.button(ctrl.state.focus) if ctrl.state.focus else None
        if focused is not None:
            self.scroll_into_view(focused)

    def refresh_content(self, ctrl: Any) -> None:
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
            BUTTONS.give_back(buttons)
            buttons = []
            for item in items:
                button = BUTTONS.take()
                button.target = item.target
                button.text = item.label
                button.primary = item.target in PRIMARY_TARGETS
                button.large = self.large(item.target)
                grid.add_widget(button)
                buttons.append(button)
        for button, item in zip(buttons, items, strict=True):
            button.text = item.label
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


#: Controls drawn as the main action of their screen.
PRIMARY_TARGETS = frozenset({"talk", "read_all", "listen", "continue"})

#: A frame's work before drawing, text included: with software rendering the draw and buffer
#: swap of a text-heavy screen already take 15-40 ms of the 50 ms a frame may take.
TEXT_PACER = TextPacer(budget_ms=10.0)

#: Spare controls (a screen shows up to about 20) and reader sentences (a section has up to
#: about 30); the app starts filling them once the window is up.
BUTTONS: WidgetPool[KioskButton] = WidgetPool(KioskButton, spare=32)
SENTENCES: WidgetPool[SentenceText] = WidgetPool(SentenceText, spare=32)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
