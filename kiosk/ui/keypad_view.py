"""A drawing of the numeric keypad for the help screen: the keys where they are on the real
keypad, each with its digit or symbol and, under it, what it does on this kiosk.

What a key does comes from the kiosk's keymap (settings.keypad), so a clinic that moves an
action to another key sees the drawing follow. Each key is a label (KeyCap, a BodyText), so
touch-to-hear reads it: "8: Up".
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.layout import Layout
from kivy.utils import escape_markup

from kiosk.ui.keypad_legend import (
    COLUMNS,
    KEY_SPOTS,
    ROWS,
    Lookup,
    legend,
    numpad_actions,
    spoken_name,
)
from kiosk.ui.widgets import FONT_NAME, BodyText


def text_width(text: str, font_size: float, bold: bool = False) -> float:
    """How wide `text` is set on one line in the kiosk's font (font metrics: nothing is
    drawn, so it costs little and needs no rendered texture)."""
    from kivy.core.text import Label as CoreLabel

    return float(CoreLabel(font_name=FONT_NAME, font_size=font_size, bold=bold)
                 .get_extents(text)[0])


class KeyCap(BodyText):
    """One key of the drawing: the digit or symbol, large, and under it what the key does.
    A key bound to nothing shows only its symbol, drawn plainly. Sized by the KeypadView."""

    cap = StringProperty("")
    legend = StringProperty("")
    name = StringProperty("")  # the Kivy key name (KeySpot.name)
    bound = BooleanProperty(False)
    cap_px = NumericProperty(40.0)  # the symbol's text size (the legend's is font_size)
    pad_x = NumericProperty(8.0)
    pad_y = NumericProperty(8.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(cap=self._compose, legend=self._compose, cap_px=self._compose,
                  bound=self._compose)
        self._compose()

    def _compose(self, *_args: Any) -> None:
        cap = escape_markup(self.cap)
        # A symbol is drawn large; a word (Enter, Num Lock) at the legend's size; a key
        # that does nothing here, not in bold.
        shown = f"[b]{cap}[/b]" if self.bound else cap
        if len(self.cap) == 1:
            shown = f"[size={int(self.cap_px)}]{shown}[/size]"
        self.text = f"{shown}\n{escape_markup(self.legend)}" if self.legend else shown


class KeypadView(Layout):  # type: ignore[misc]
    """The keypad drawn as a grid of KeyCaps, as wide as its legends need (at most its own
    width) and as tall as its keys' text needs; kv gives it the theme's sizes."""

    legend_px = NumericProperty(32.0)  # what a key does (the controls' text size)
    cap_px = NumericProperty(42.0)  # a key's digit or symbol
    gap = NumericProperty(12.0)  # between keys
    case_pad = NumericProperty(12.0)  # between the keys and the edge of the case
    key_pad = NumericProperty(10.0)  # inside a key, around its text
    #: The touch-target size (2 cm at the screen's DPI): a key is drawn at least 2.2 of it
    #: wide and 1.45 of it tall whatever its text, so the drawing stays large enough to
    #: take in at a glance at the usual text size.
    key_min = NumericProperty(76.0)
    #: The width at which every legend fits on one line of its key (or the widest word
    #: does, when a legend cannot): the help screen gives the view this much if it can.
    preferred_width = NumericProperty(0.0)
    #: The narrowest the view can be with its text at full size (each key as wide as its
    #: widest word); narrower, the text shrinks to fit.
    minimum_width = NumericProperty(0.0)
    keys_width = NumericProperty(0.0)  # the width the keys and case take

    def __init__(self, **kwargs: Any) -> None:
        self._caps: dict[str, KeyCap] = {}
        self._cell_need = 1.0  # the narrowest a one-column key may be at full text size
        self._cell_want = 1.0  # the width at which each legend fits on one line
        self._heights: dict[tuple[str, int, float, float, float], float] = {}
        super().__init__(**kwargs)
        for spot in KEY_SPOTS:
            cap = KeyCap(cap=spot.cap, name=spot.name, size_hint=(None, None))
            cap.bind(texture_size=self._check_fit)
            self._caps[spot.name] = cap
            self.add_widget(cap)
        self.bind(size=self._trigger_layout, pos=self._trigger_layout)
        self.bind(legend_px=self._measure, cap_px=self._measure, gap=self._measure,
                  case_pad=self._measure, key_pad=self._measure, key_min=self._measure)
        self._measure()

    def key(self, name: str) -> KeyCap:
        """The drawn key named `name` (a KeySpot name, e.g. "numpad8")."""
        return self._caps[name]

    def keycaps(self) -> list[KeyCap]:
        return [self._caps[spot.name] for spot in KEY_SPOTS]

    def show(self, keypad: Mapping[str, tuple[str, ...]], lookup: Lookup) -> None:
        """Label the keys from `keypad` (action -> key names), with strings from `lookup`."""
        actions = numpad_actions(keypad)
        before = [cap.legend for cap in self._caps.values()]
        for spot in KEY_SPOTS:
            cap = self._caps[spot.name]
            action = actions.get(spot.name)
            cap.bound = action is not None
            cap.legend = legend(action, lookup) if action is not None else ""
            name = spoken_name(spot, lookup)
            cap.speak_text = f"{name}: {cap.legend}" if cap.legend else name
        if [cap.legend for cap in self._caps.values()] != before:
            self._measure()

    # ----- sizes --------------------------------------------------------------------

    def _text_height(self, cap: KeyCap, width: float) -> float:
        """How tall `cap`'s text is, laid out at `width`, worked out without drawing it.

        The keys are sized from this rather than from their rendered textures, so that a
        key's text being rendered does not lay the keypad out again: the text pacer holds
        back every label under a layout that is about to run (its width might change), and
        sized from their textures the keys were rendered one a frame, the drawing taking a
        second or more to appear in full at a new text size."""
        key = (cap.text, int(width), float(cap.font_size), float(cap.pad_x), float(cap.pad_y))
        found = self._heights.get(key)
        if found is None:
            from kivy.core.text.markup import MarkupLabel

            if len(self._heights) > 400:  # many text sizes and window sizes ago
                self._heights.clear()
            label = MarkupLabel(
                text=cap.text, font_name=FONT_NAME, font_size=cap.font_size,
                padding=[cap.pad_x, cap.pad_y, cap.pad_x, cap.pad_y], text_size=(width, None),
                halign="center", line_height=cap.line_height,
            )
            found = self._heights[key] = float(label.render()[1])
        return found

    def _measure(self, *_args: Any) -> None:
        """Work out how wide a key must be (its widest word or symbol) and would like to be
        (its whole legend on one line), at the full text size."""
        words: list[float] = []
        lines: list[float] = []
        for cap in self._caps.values():
            if len(cap.cap) > 1:
                words += [text_width(word, self.legend_px, True) for word in cap.cap.split()]
            else:
                words.append(text_width(cap.cap, self.cap_px, True))
            if cap.legend:
                words += [text_width(word, self.legend_px, False) for word in cap.legend.split()]
                lines.append(text_width(cap.legend, self.legend_px, False))
        # The key's padding, and a little air so that no word touches a key's edge.
        inside = 2 * self.key_pad + 0.3 * self.legend_px
        self._cell_need = max(words, default=self.legend_px) + inside
        self._cell_want = max(self._cell_need, max(lines, default=0.0) + inside,
                              2.2 * self.key_min)
        edges = (COLUMNS - 1) * self.gap + 2 * self.case_pad
        self.minimum_width = COLUMNS * self._cell_need + edges
        self.preferred_width = COLUMNS * self._cell_want + edges
        self._trigger_layout()

    def _check_fit(self, cap: KeyCap, size: list[float]) -> None:
        """Text rendered taller than its key (text drawn at a larger size a moment ago, not
        yet rendered at the new one): the keys grow to hold it until it is."""
        if size[1] > cap.height + 1:
            self._trigger_layout()

    def do_layout(self, *_args: Any) -> None:
        inner = max(1.0, self.width - 2 * self.case_pad)
        cell_room = (inner - (COLUMNS - 1) * self.gap) / COLUMNS
        cell_w = max(1.0, min(self._cell_want, cell_room))
        # Only when even the widest word cannot fit does the text shrink (a very narrow
        # window at the largest text size); otherwise legends wrap between words.
        fit = min(1.0, cell_room / self._cell_need) if self._cell_need > 0 else 1.0
        for cap in self._caps.values():
            cap.font_size = self.legend_px * fit
            cap.cap_px = self.cap_px * fit
            cap.pad_x = self.key_pad
            cap.pad_y = self.key_pad * 0.6
        spots = {spot.name: spot for spot in KEY_SPOTS}
        # Every row as tall as the tallest one-row key (the keys look alike); a two-row key
        # gets two rows and the gap.
        row_h = min(cell_w * 0.75, 1.45 * self.key_min)
        for name, cap in self._caps.items():
            spot = spots[name]
            width = spot.cols * cell_w + (spot.cols - 1) * self.gap
            text_h = max(self._text_height(cap, width), cap.texture_size[1])
            row_h = max(row_h, (text_h - (spot.rows - 1) * self.gap) / spot.rows)
        row_h = float(int(row_h + 1))
        top = self.top - self.case_pad
        for name, cap in self._caps.items():
            spot = spots[name]
            cap.width = spot.cols * cell_w + (spot.cols - 1) * self.gap
            cap.height = spot.rows * row_h + (spot.rows - 1) * self.gap
            cap.x = self.x + self.case_pad + spot.col * (cell_w + self.gap)
            cap.top = top - spot.row * (row_h + self.gap)
        self.keys_width = COLUMNS * cell_w + (COLUMNS - 1) * self.gap + 2 * self.case_pad
        self.height = ROWS * row_h + (ROWS - 1) * self.gap + 2 * self.case_pad


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
