"""Help screen: the keypad drawn with what each key does, things you can say, and how touch
works in one line. What is spoken when it opens is the controller's (screen.help_voice,
help_keys, help_touch), as before.

Landscape puts the keypad beside the things to say; portrait stacks them, and so does a
small landscape window at a large text size rather than shrink the keypad's text.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.controller import Controller
from kiosk.ui.keypad_view import KeypadView, text_width
from kiosk.ui.widgets import BodyText, KioskScreen

#: Between the examples in screen.help_say_examples.
EXAMPLE_SEPARATOR = "·"


class MeasuredText(BodyText):
    """A text that knows how wide it is on one line, from the font (nothing drawn)."""

    natural_width = NumericProperty(0.0)  # the text on one line, padding included

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(text=self._measure, font_size=self._measure, padding=self._measure,
                  bold=self._measure)
        self._measure()

    def _measure(self, *_args: Any) -> None:
        left, _top, right, _bottom = self.padding
        self.natural_width = (text_width(self.text, self.font_size, self.bold) + left + right + 2
                              if self.text else 0.0)


class FittedText(MeasuredText):
    """A short text as wide as its words (at most its column): a heading, a chip.

    Its width is worked out from the font (nothing drawn), not from the column: when the
    text size changes and the column with it, the new width is known at once, and text
    rendered at the old size never stands wider than its box while it waits to be
    rendered again (widgets.TextPacer)."""


class BalancedText(MeasuredText):
    """A sentence too long for one line of `room`, wrapped into lines of about the same
    length: "... and touch it twice to choose" over a last line of "it." read as a mistake.
    `balanced_width` (its width, help.kv) is the narrowest at which it takes no more lines
    than at `room`, worked out from the font as FittedText's is."""

    room = NumericProperty(1.0)
    balanced_width = NumericProperty(1.0)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(natural_width=self._balance, room=self._balance)
        self._balance()

    def _balance(self, *_args: Any) -> None:
        room = max(1.0, self.room)
        if self.natural_width <= room:
            self.balanced_width = max(1.0, self.natural_width)
            return
        left, _top, right, _bottom = self.padding
        lines = math.ceil(self.natural_width / room)
        space = text_width(" ", self.font_size, self.bold)
        words = [text_width(word, self.font_size, self.bold) for word in self.text.split()]
        width = self.natural_width / lines
        while width < room and wrapped_lines(words, space, width - left - right - 2) > lines:
            width += space
        # A space's width to spare: Kivy's own wrapping need not round as this does.
        self.balanced_width = min(room, width + space)


def wrapped_lines(words: list[float], space: float, width: float) -> int:
    """How many lines words of these widths take, wrapped at `width` a word at a time."""
    lines, used = 1, 0.0
    for word in words:
        if used and used + space + word > width:
            lines, used = lines + 1, word
        else:
            used = used + space + word if used else word
    return lines


class HelpHeading(FittedText):
    """The heading of a part of the help screen."""


class SayExample(FittedText):
    """One thing you can say, drawn as a chip."""


def text_or_none(ctrl: Controller, key: str) -> str | None:
    """The interface string `key`, or None when the strings have none (a string only some
    versions of the strings have, or an action's legend that was never written)."""
    try:
        text = ctrl.text(key)
    except KeyError:
        return None
    return text if isinstance(text, str) and text.strip() and text != key else None


def examples(text: str) -> list[str]:
    """screen.help_say_examples as a list ("Next · Repeat" -> ["Next", "Repeat"])."""
    return [item.strip() for item in text.split(EXAMPLE_SEPARATOR) if item.strip()]


class HelpScreen(KioskScreen):
    """The keypad, what to say and how touch works; read aloud when the screen opens."""

    title_text = StringProperty("")
    keys_title = StringProperty("")
    say_title = StringProperty("")
    touch_text = StringProperty("")
    say_items = ListProperty([])
    #: The keypad beside the things to say (landscape), or above them (portrait); help.kv.
    wide = BooleanProperty(True)
    #: How wide the things to say are: the widest chip, or their heading (help.kv gives them
    #: this much beside the keypad).
    say_width = NumericProperty(0.0)

    def __init__(self, **kwargs: Any) -> None:
        self._examples: list[SayExample] = []
        super().__init__(**kwargs)

    def grid_for(self, target: str) -> str | None:
        return None if target == "continue" else "bar"

    @property
    def keypad(self) -> KeypadView:
        view: KeypadView = self.ids.keypad
        return view

    def say_examples(self) -> list[SayExample]:
        """The chips of things to say, in order."""
        return list(self._examples)

    def refresh_content(self, ctrl: Controller) -> None:
        def lookup(key: str) -> str | None:
            return text_or_none(ctrl, key)

        self.title_text = ctrl.text("screen.help_title")
        self.keys_title = lookup("screen.help_keys_title") or ""
        self.say_title = lookup("screen.help_say_title") or ""
        self.touch_text = ctrl.text("screen.help_touch")
        self.say_items = examples(lookup("screen.help_say_examples") or "")
        self.keypad.show(ctrl.settings.keypad, lookup)

    def on_say_items(self, _screen: Any, items: list[str]) -> None:
        """One chip per example; built again only when the examples change (new content)."""
        box = self.ids.examples
        while len(self._examples) < len(items):
            chip = SayExample()
            chip.bind(natural_width=self._measure_say)
            self._examples.append(chip)
            box.add_widget(chip)
        while len(self._examples) > len(items):
            chip = self._examples.pop()
            chip.unbind(natural_width=self._measure_say)
            box.remove_widget(chip)
        for chip, item in zip(self._examples, items, strict=True):
            chip.text = item
        self._measure_say()

    def on_kv_post(self, base_widget: Any) -> None:
        self.ids.say_heading.bind(natural_width=self._measure_say)
        self._measure_say()

    def _measure_say(self, *_args: Any) -> None:
        widths = [chip.natural_width for chip in self._examples]
        heading = self.ids.get("say_heading")
        if heading is not None:
            widths.append(heading.natural_width)
        self.say_width = max(widths, default=0.0)


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
