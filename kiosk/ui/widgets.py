"""Building blocks shared by the screens: text that wraps, buttons with a visible focus ring that
route every touch to the controller (so touch-to-hear works everywhere), and grids that reflow.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty
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


class BodyText(Label):  # type: ignore[misc]
    """A paragraph: wraps to its width and grows to its text; touch-to-hear speaks it."""

    role = StringProperty("body")  # body, muted, title, banner, prompt, overlay
    speak_text = StringProperty("")  # what touch-to-hear says ("" = the shown text)

    on_texture = sample_nearest

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


class KioskButton(Label):  # type: ignore[misc]
    """A control named by `target`; a touch goes to Controller.touch (which speaks or activates)."""

    target = StringProperty("")
    focused = BooleanProperty(False)
    primary = BooleanProperty(False)
    pressed = BooleanProperty(False)
    large = BooleanProperty(False)  # a topic tile: bigger text, twice the height
    ring = NumericProperty(3)  # outline width: thick when focused

    on_texture = sample_nearest

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
    """Spare widgets built ahead of need, a few per frame, and widgets given back for reuse.

    Building a label from its kv rules costs several milliseconds (two dozen property bindings
    each), so a screen that built its two dozen controls when it opened spent 150 ms or more on
    that one frame. Screens take ready widgets from here instead and give them back when they
    drop them.
    """

    def __init__(self, factory: Callable[[], W], spare: int, per_frame: int = 1) -> None:
        self.factory = factory
        self.spare = spare
        self.per_frame = per_frame
        self._free: list[W] = []
        self._filling: Any = None

    def take(self) -> W:
        """A widget with no parent: a spare one if there is one, else a new one."""
        widget = self._free.pop() if self._free else self.factory()
        self.fill_later()
        return widget

    def give_back(self, widgets: list[W]) -> None:
        """Widgets already removed from their parent, for reuse."""
        self._free.extend(w for w in widgets if w.parent is None)

    def fill_later(self) -> None:
        """Build spares in idle frames until there are `spare` of them."""
        if self._filling is None and len(self._free) < self.spare:
            self._filling = Clock.schedule_interval(self._fill, 0.05)

    def _fill(self, _dt: float) -> bool:
        for _ in range(self.per_frame):
            if len(self._free) >= self.spare:
                break
            self._free.append(self.factory())
        if len(self._free) >= self.spare:
            self._filling = None
            return False
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

#: Spare controls (a screen shows up to about 20) and reader sentences (a section has up to
#: about 30); the app starts filling them once the window is up.
BUTTONS: WidgetPool[KioskButton] = WidgetPool(KioskButton, spare=32)
SENTENCES: WidgetPool[SentenceText] = WidgetPool(SentenceText, spare=32)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
