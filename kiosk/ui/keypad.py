"""The EZ Access-style keypad: settings.keypad (action -> Kivy key names) resolved to key codes.

Kept free of windows so the mapping can be checked without a display.
"""

from __future__ import annotations

from collections.abc import Mapping

#: Kivy spells one numpad key differently from the name used in our settings.
ALIASES: Mapping[str, str] = {"numpadsubtract": "numpadsubstract", "return": "enter"}

#: Keys the kiosk swallows so they do nothing at all (Escape would otherwise leave the app).
SWALLOWED = frozenset({27})


def key_codes(
    keypad: Mapping[str, tuple[str, ...]], keycodes: Mapping[str, int]
) -> tuple[dict[int, str], list[str]]:
    """Key code -> action, and the names not understood ("action: name"), which are skipped.

    Names are Kivy key names (see kivy.core.window.Keyboard.keycodes) or one character ('+').
    """
    mapping: dict[int, str] = {}
    unknown: list[str] = []
    for action, names in keypad.items():
        for name in names:
            name = ALIASES.get(name, name)
            if name in keycodes:
                mapping[keycodes[name]] = action
            elif len(name) == 1:
                mapping[ord(name)] = action
            else:
                unknown.append(f"{action}: {name}")
    return mapping, unknown
