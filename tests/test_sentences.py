"""Sentence splitting: what the seed has and what an editor may add."""

from __future__ import annotations

import pytest

from kiosk.sentences import split_sentences


@pytest.mark.parametrize(
    ("paragraph", "expected"),
    [
        (
            "Repeating mammograms every 6 to 12 months may be recommended. The radiologist will compare.",
            [
                "Repeating mammograms every 6 to 12 months may be recommended.",
                "The radiologist will compare.",
            ],
        ),
        (
            "Most breast calcifications are noncancerous (benign). Certain patterns may matter.",
            [
                "Most breast calcifications are noncancerous (benign).",
                "Certain patterns may matter.",
            ],
        ),
        ("It’s possible. They’re common.", ["It’s possible.", "They’re common."]),
        ("Ask Dr. Patel about it. Then rest.", ["Ask Dr. Patel about it.", "Then rest."]),
        (
            "Some tests, e.g. Ultrasound, help. Others do not.",
            ["Some tests, e.g. Ultrasound, help.", "Others do not."],
        ),
        ("A spot of 2.5 mm was seen. It is small.", ["A spot of 2.5 mm was seen.", "It is small."]),
        ("Wait... Then we look again.", ["Wait...", "Then we look again."]),
        ("She said “Come back.” Then she left.", ["She said “Come back.”", "Then she left."]),
        ("Is it fine? Yes! It is.", ["Is it fine?", "Yes!", "It is."]),
        ("Seen by J. Smith today. Fine.", ["Seen by J. Smith today.", "Fine."]),
        (
            "The facility may request 3 or more years. 3 years is common.",
            ["The facility may request 3 or more years.", "3 years is common."],
        ),
        ("  spaced   out\n text  ", ["spaced out text"]),
        ("", []),
    ],
)
def test_split(paragraph: str, expected: list[str]) -> None:
    assert split_sentences(paragraph) == expected
