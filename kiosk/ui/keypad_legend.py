"""The numeric keypad as the help screen draws it, without widgets (so it is tested without a
window): where each key is, and what it is labelled from the kiosk's keymap (settings.keypad)
and interface strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from kiosk.ui.keypad import ALIASES

#: An interface string by key, or None if the strings have no such key.
Lookup = Callable[[str], str | None]


@dataclass(frozen=True, slots=True)
class KeySpot:
    """One key of the keypad: its Kivy key name (as settings.keypad spells it), what is printed
    on it, what it is called aloud when that is not what is printed, and its place (column and
    row from the top left, and how many columns and rows it spans)."""

    name: str
    cap: str
    col: int
    row: int
    cols: int = 1
    rows: int = 1
    spoken: str = ""


#: A standard numeric keypad, as the kiosk's is laid out.
KEY_SPOTS: tuple[KeySpot, ...] = (
    KeySpot("numlock", "Num Lock", 0, 0),
    KeySpot("numpaddivide", "/", 1, 0, spoken="Slash"),
    KeySpot("numpadmul", "*", 2, 0, spoken="Star"),
    KeySpot("numpadsubtract", "\u2212", 3, 0, spoken="Minus"),
    KeySpot("numpad7", "7", 0, 1),
    KeySpot("numpad8", "8", 1, 1),
    KeySpot("numpad9", "9", 2, 1),
    KeySpot("numpadadd", "+", 3, 1, rows=2, spoken="Plus"),
    KeySpot("numpad4", "4", 0, 2),
    KeySpot("numpad5", "5", 1, 2),
    KeySpot("numpad6", "6", 2, 2),
    KeySpot("numpad1", "1", 0, 3),
    KeySpot("numpad2", "2", 1, 3),
    KeySpot("numpad3", "3", 2, 3),
    KeySpot("numpadenter", "Enter", 3, 3, rows=2),
    KeySpot("numpad0", "0", 0, 4, cols=2),
    KeySpot("numpaddecimal", ".", 2, 4, spoken="Dot"),
)
COLUMNS = 4
ROWS = 5


def _same_key(name: str) -> str:
    return ALIASES.get(name.lower(), name.lower())


def numpad_actions(keypad: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    """The action bound to each keypad key in `keypad` (action -> key names), by the key's
    name in KEY_SPOTS; keys bound to nothing are left out."""
    spots = {_same_key(spot.name): spot.name for spot in KEY_SPOTS}
    bound: dict[str, str] = {}
    for action, names in keypad.items():
        for name in names:
            spot = spots.get(_same_key(name))
            if spot is not None:
                bound.setdefault(spot, action)
    return bound


def legend(action: str, lookup: Lookup) -> str:
    """What a key bound to `action` is labelled: the key legend (key.<action>) if there is one,
    else the action's button label (button.<action>), else its name in words."""
    for key in (f"key.{action}", f"button.{action}"):
        text = lookup(key)
        if text:
            return text
    return action.replace("_", " ").strip().capitalize()


def spoken_name(spot: KeySpot, lookup: Lookup) -> str:
    """What a key is called aloud: keycap.<name> if the strings have it, else its own word."""
    return lookup(f"keycap.{spot.name}") or spot.spoken or spot.cap

