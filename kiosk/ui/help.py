"""Help screen: the keypad drawn with what each key does, things you can say, and how touch
works in one line. What is spoken when it opens is the controller's (screen.help_voice,
help_keys, help_touch), as before.

Landscape puts the keypad beside the things to say; portrait stacks them, and so does a
small landscape window at a large text size rather than shrink the keypad's text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty

from kiosk.ui.keypad_view import KeypadView, text_width
from kiosk.ui.widgets import BodyText, KioskScreen

#: Between the examples in screen.help_say_examples.
EXAMPLE_SEPARATOR = "·"


class FittedText(BodyText):
    """A short text as wide as its words (at most its column): a heading, a chip.

    Its width is worked out from the font (nothing drawn), not from the column: when the
    text size changes and the column with it, the new width is known at once, and text
    rendered at the old size never stands wider than its box while it waits to be
    rendered again (widgets.TextPacer)."""

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


class HelpHeading(FittedText):
    """The heading of a part of the help screen."""


class SayExample(FittedText):
    """One thing you can say, drawn as a chip."""


def text_or_none(ctrl: Any, key: str) -> str | None:
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

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._examples: list[SayExample] = []

    def grid_for(self, target: str) -> str | None:
        return None if target == "continue" else "bar"

    @property
    def keypad(self) -> KeypadView:
        view: KeypadView = self.ids.keypad
        return view

    def say_examples(self) -> list[SayExample]:
        """The chips of things to say, in order."""
        return list(self._examples)

    def refresh_content(self, ctrl: Any) -> None:
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
            self._examples.append(chip)
            box.add_widget(chip)
        while len(self._examples) > len(items):
            box.remove_widget(self._examples.pop())
        for chip, item in zip(self._examples, items, strict=True):
            chip.text = item


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
