"""The looks rules as numbers: contrast of every palette pair, text sizes, touch-target size, and
the keypad mapping. No window needed (the window tests check the mapping against Kivy's keys)."""

from __future__ import annotations

import pytest

from kiosk.ui.keypad import key_codes
from kiosk.ui.theme import (
    HIGH_CONTRAST,
    STANDARD,
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
def test_every_text_pair_meets_its_contrast(palette: object, minimum: float) -> None:
    pairs = palette.text_pairs()  # type: ignore[attr-defined]
    assert len(pairs) >= 7
    for name, (ink, paper) in pairs.items():
        assert contrast_ratio(hex_rgb(ink), hex_rgb(paper)) >= minimum, name


def test_focus_ring_stands_out_from_the_background() -> None:
    for palette in (STANDARD, HIGH_CONTRAST):
        assert contrast_ratio(hex_rgb(palette.focus), hex_rgb(palette.background)) >= 3.0


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
