"""The looks rules as numbers: contrast of every palette pair, text sizes, touch-target size, and
the keypad mapping. No window needed (the window tests check the mapping against Kivy's keys)."""

from __future__ import annotations

import pytest

from kiosk.ui.keypad import key_codes
from kiosk.ui.theme import (
    HIGH_CONTRAST,
    STANDARD,
    Palette,
    body_px,
    contrast_ratio,
    hex_rgb,
    relative_luminance,
    target_px,
)


def test_contrast_ratio_known_values() -> None:
    assert contrast_ratio(hex_rgb("#000000"), hex_rgb("#FFFFFF")) == pytest.approx(21.0)
    assert contrast_ratio(hex_rgb("#777777"), hex_rgb("#FFFFFF")) == pytest.approx(4.48, abs=0.01)
    assert relative_luminance(hex_rgb("#FFFFFF")) == pytest.approx(1.0)


@pytest.mark.parametrize(("palette", "minimum"), [(STANDARD, 4.5), (HIGH_CONTRAST, 7.0)],
                         ids=["standard", "high-contrast"])
def test_every_text_pair_meets_its_contrast(palette: Palette, minimum: float) -> None:
    pairs = palette.text_pairs()
    assert len(pairs) >= 7
    for name, (ink, paper) in pairs.items():
        assert contrast_ratio(hex_rgb(ink), hex_rgb(paper)) >= minimum, name


@pytest.mark.parametrize("palette", [STANDARD, HIGH_CONTRAST], ids=["standard", "high-contrast"])
def test_the_focused_control_changes_by_at_least_3_to_1(palette: Palette) -> None:
    """WCAG's focus appearance: where a control is focused, its ring (drawn over its fill) or its
    fill changes by at least 3:1, for an ordinary control and a primary one; and the focused
    control stands out by 3:1 from the page and from the dark overlays it may sit on."""
    def ratio(first: str, second: str) -> float:
        return contrast_ratio(hex_rgb(first), hex_rgb(second))

    for fill in (palette.button, palette.primary):
        assert max(ratio(palette.focus_ring, fill), ratio(palette.focus, fill)) >= 3.0, fill
    for page in (palette.background, palette.overlay):
        assert max(ratio(palette.focus_ring, page), ratio(palette.focus, page)) >= 3.0, page


@pytest.mark.parametrize(("size", "expected"), [((1920, 1080), 32), ((1280, 800), 32),
                                                ((1080, 1920), 32), ((3840, 2160), 64)])
def test_body_text_is_32_px_per_1080(size: tuple[int, int], expected: int) -> None:
    assert body_px(*size, 1.0) == expected
    assert body_px(*size, 2.0) == 2 * expected


def test_targets_are_two_centimetres() -> None:
    assert target_px(96) == 76  # 2 cm at 96 DPI is 75.6 px
    assert target_px(254) == 200


def test_unknown_key_names_are_reported_not_fatal() -> None:
    mapping, unknown = key_codes({"help": ("f1", "nosuchkey")}, {"f1": 282})
    assert mapping == {282: "help"}
    assert unknown == ["help: nosuchkey"]
