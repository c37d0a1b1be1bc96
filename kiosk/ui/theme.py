"""Sizes and colours the screens bind to: text scale, contrast, touch-target size.

Kept free of widgets so the rules can be tested: body text is at least 32 px on a 1080 px-high
screen (scaled up on larger ones, never below 32 px), touch targets are at least 2 cm at the
configured screen DPI, and every text/background pair meets 4.5:1 (7:1 in high contrast).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from kivy.event import EventDispatcher
from kivy.properties import ColorProperty, NumericProperty

#: Body text height at 1080 px screen height (the short side in portrait).
BASE_BODY_PX = 32.0
REFERENCE_PX = 1080.0
#: Touch targets: at least 2 cm (ADA 707 / EN 301 549 advice on large controls).
TARGET_CM = 2.0
#: Characters in a line of reading text, at most (GOV.UK and NHS keep body text near 75).
MEASURE_CHARS = 70
#: The mean advance of a character of Atkinson Hyperlegible in running English text, in ems
#: (in a reader screenshot at 1920x1080, a 64-character sentence took 979 px at 32 px: 0.48).
CHAR_EM = 0.48

RGB = tuple[float, float, float]


def hex_rgb(code: str) -> RGB:
    """'#RRGGBB' -> (r, g, b) in 0..1."""
    code = code.lstrip("#")
    return (int(code[0:2], 16) / 255, int(code[2:4], 16) / 255, int(code[4:6], 16) / 255)


def relative_luminance(rgb: RGB) -> float:
    """WCAG 2.x relative luminance of an sRGB colour (components 0..1)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: RGB, second: RGB) -> float:
    """WCAG contrast ratio between two colours (1 .. 21)."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@dataclass(frozen=True, slots=True)
class Palette:
    """Every colour the screens use; each text colour is checked against its background."""

    background: str
    text: str
    muted: str  # secondary lines (notice, details): still well above 4.5:1
    button: str
    button_text: str
    button_border: str
    primary: str  # Talk, Read all, Listen: the main action on a screen
    primary_text: str
    # The keypad's focus, as GOV.UK draws it: the focused control takes a fill of its own with
    # dark text and a thick dark ring, a change that stands out from any control's own colours
    # (an outline of one colour alone was 1.6:1 against the primary fill).
    focus: str
    focus_text: str
    focus_ring: str
    highlight: str  # the sentence being heard
    highlight_text: str
    banner: str  # sound / microphone problems
    banner_text: str
    overlay: str  # idle warning and staff panel
    overlay_text: str

    def text_pairs(self) -> dict[str, tuple[str, str]]:
        """(foreground, background) pairs that carry text."""
        return {
            "body": (self.text, self.background),
            "muted": (self.muted, self.background),
            "button": (self.button_text, self.button),
            "primary": (self.primary_text, self.primary),
            "focus": (self.focus_text, self.focus),
            "highlight": (self.highlight_text, self.highlight),
            "banner": (self.banner_text, self.banner),
            "overlay": (self.overlay_text, self.overlay),
        }


STANDARD = Palette(
    background="#F6F4EF", text="#161616", muted="#333333",
    button="#FFFFFF", button_text="#0B2E59", button_border="#0B2E59",
    primary="#0B4F8A", primary_text="#FFFFFF",
    focus="#FFDD00", focus_text="#0B0C0C", focus_ring="#0B0C0C",
    highlight="#FFE066", highlight_text="#111111",
    banner="#7A1C1C", banner_text="#FFFFFF",
    overlay="#10243F", overlay_text="#FFFFFF",
)
HIGH_CONTRAST = Palette(
    background="#000000", text="#FFFFFF", muted="#FFFFFF",
    button="#000000", button_text="#FFFF00", button_border="#FFFF00",
    primary="#FFFF00", primary_text="#000000",
    focus="#00FFFF", focus_text="#000000", focus_ring="#000000",
    highlight="#FFFF00", highlight_text="#000000",
    banner="#FFFFFF", banner_text="#000000",
    overlay="#000000", overlay_text="#FFFFFF",
)


def body_px(width: float, height: float, scale: float) -> float:
    """Body text: 32 px per 1080 px of the short side (never less), times the visitor's scale."""
    return round(BASE_BODY_PX * max(1.0, min(width, height) / REFERENCE_PX) * scale)


def target_px(dpi: float) -> float:
    """The smallest touch target, in pixels, at this screen's DPI."""
    return float(math.ceil(TARGET_CM / 2.54 * dpi))


def _rgba(code: str) -> list[float]:
    return [*hex_rgb(code), 1.0]


class Theme(EventDispatcher):  # type: ignore[misc]
    """The live values kv rules bind to; `update` recomputes them from window size and settings."""

    body_px = NumericProperty(BASE_BODY_PX)
    title_px = NumericProperty(BASE_BODY_PX * 1.3)
    control_px = NumericProperty(BASE_BODY_PX)
    target_px = NumericProperty(76.0)
    pad_px = NumericProperty(16.0)
    gap_px = NumericProperty(16.0)
    #: The widest a column of reading text may be: about MEASURE_CHARS characters of body text.
    measure_px = NumericProperty(1200.0)
    scale = NumericProperty(1.0)
    background = ColorProperty(_rgba(STANDARD.background))
    text = ColorProperty(_rgba(STANDARD.text))
    muted = ColorProperty(_rgba(STANDARD.muted))
    button = ColorProperty(_rgba(STANDARD.button))
    button_text = ColorProperty(_rgba(STANDARD.button_text))
    button_border = ColorProperty(_rgba(STANDARD.button_border))
    primary = ColorProperty(_rgba(STANDARD.primary))
    primary_text = ColorProperty(_rgba(STANDARD.primary_text))
    focus = ColorProperty(_rgba(STANDARD.focus))
    focus_text = ColorProperty(_rgba(STANDARD.focus_text))
    focus_ring = ColorProperty(_rgba(STANDARD.focus_ring))
    highlight = ColorProperty(_rgba(STANDARD.highlight))
    highlight_text = ColorProperty(_rgba(STANDARD.highlight_text))
    banner = ColorProperty(_rgba(STANDARD.banner))
    banner_text = ColorProperty(_rgba(STANDARD.banner_text))
    overlay = ColorProperty(_rgba(STANDARD.overlay))
    overlay_text = ColorProperty(_rgba(STANDARD.overlay_text))

    def __init__(self, dpi: float) -> None:
        super().__init__()
        self.dpi = dpi
        self.palette = STANDARD
        self.target_px = target_px(dpi)

    def update(self, width: float, height: float, scale: float, high_contrast: bool) -> None:
        """Recompute sizes and colours; bound widgets re-lay themselves out."""
        body = body_px(width, height, scale)
        unscaled = body_px(width, height, 1.0)
        self.scale = scale
        self.body_px = body
        # Headings and control labels grow more slowly than body text, so that at twice the
        # size the text being read still gets most of the screen.
        self.title_px = round(body + 0.3 * unscaled)
        self.control_px = round(unscaled * (1 + (scale - 1) / 2))
        self.pad_px = round(unscaled * 0.5)
        self.gap_px = round(max(12.0, unscaled * 0.4))
        # Long lines are hard to follow back to the next line's start: the text keeps to a
        # column of about 70 characters, at every text size, plus the sentences' own padding.
        self.measure_px = round(body * MEASURE_CHARS * CHAR_EM + self.pad_px * 2)
        palette = HIGH_CONTRAST if high_contrast else STANDARD
        if palette is not self.palette or self.background != _rgba(palette.background):
            self.palette = palette
            for name in Palette.__dataclass_fields__:
                setattr(self, name, _rgba(getattr(palette, name)))
