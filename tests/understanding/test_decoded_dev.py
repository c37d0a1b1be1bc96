"""The understanding on decoded speech (tests/understanding/decoded_dev.py): garbled chatter must
come out `none`, garbled in-scope speech must still be understood where its words allow.

Two levels are measured: the understanding of the words the unwarped decoder heard, and the
kiosk's answer (`Recognizer.intent_of`, which also weighs the decoders' posteriors and the warped
decoders' hearing) on the stored hearing. Floors sit just under the measured figures. Print the
figures and every miss with:
    .venv/bin/python -m tests.understanding.test_decoded_dev
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening.decoder import Heard
from kiosk.listening.recognizer import Recognizer
from tests.understanding.decoded_dev import CLIPS, Clip

#: Share right per group, just under the measured figures.
FLOORS = {
    "understanding": {"in scope": 0.58, "chatter rejected": 0.82},
    "kiosk": {"in scope": 0.54, "chatter rejected": 0.90},
}


def is_right(clip: Clip, intent: Intent) -> bool:
    """Whether `intent` is what the clip's speaker wanted."""
    if clip.kind == "command":
        return str(intent.name) == clip.expected
    if clip.kind == "name":
        got = " ".join(str(p) for p in (intent.name, intent.topic, intent.section) if p)
        return got == clip.expected
    if clip.kind == "question":
        return (
            intent.name in (IntentName.ASK, IntentName.SECTION)
            and intent.section in clip.expected.split()
        )
    return intent.name is IntentName.NONE


def heard(clip: Clip) -> Heard:
    """The stored hearing of a clip, as the decoder reported it."""
    warped = tuple(Heard(text, confidence, 0) for text, confidence in clip.warped)
    return Heard(clip.heard, clip.confidence, 0, warped)


@dataclass
class Group:
    right: int = 0
    misses: list[tuple[Clip, Intent]] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.right / max(1, self.right + len(self.misses))


def measure(answer: Callable[[Clip], Intent]) -> dict[str, Group]:
    groups = {"in scope": Group(), "chatter rejected": Group()}
    for clip in CLIPS:
        intent = answer(clip)
        group = groups["chatter rejected" if clip.kind == "chatter" else "in scope"]
        if is_right(clip, intent):
            group.right += 1
        else:
            group.misses.append((clip, intent))
    return groups


def levels(recognizer: Recognizer) -> dict[str, dict[str, Group]]:
    return {
        "understanding": measure(lambda clip: recognizer.understanding.understand(clip.heard)),
        "kiosk": measure(lambda clip: recognizer.intent_of(heard(clip))),
    }


@pytest.fixture(scope="module")
def recognizer(library: Library) -> Recognizer:
    # No warped decoders are loaded: the warped hearing is the stored one.
    return Recognizer(library, warps=())


def test_the_decoded_set_covers_every_kind_voice_and_noise() -> None:
    kinds = {clip.kind for clip in CLIPS}
    assert kinds == {"command", "name", "question", "chatter"}
    assert sum(clip.kind == "chatter" for clip in CLIPS) >= 40
    assert sum(clip.kind != "chatter" for clip in CLIPS) >= 80
    assert len({clip.voice for clip in CLIPS}) == 4
    assert 0.15 <= sum(clip.noisy for clip in CLIPS) / len(CLIPS) <= 0.3


@pytest.mark.parametrize("level", sorted(FLOORS))
def test_accuracy_on_decoded_speech_stays_above_its_floors(
    recognizer: Recognizer, level: str
) -> None:
    groups = levels(recognizer)[level]
    shares = {name: round(group.share, 3) for name, group in groups.items()}
    assert all(shares[name] >= floor for name, floor in FLOORS[level].items()), shares


def _describe(intent: Intent) -> str:
    parts = (intent.name, intent.topic, intent.section)
    return " ".join(str(p) for p in parts if p) + f" ({intent.confidence:.2f})"


def _report() -> None:
    from pathlib import Path

    from kiosk.library import load_library

    root = Path(__file__).resolve().parents[2] / "content" / "en"
    results = levels(Recognizer(load_library(root), warps=()))
    for level, groups in results.items():
        print(f"{level}:")
        for name, group in groups.items():
            print(f"  {name}: {group.right}/{group.right + len(group.misses)} = {group.share:.1%}")
    for level, groups in results.items():
        for name, group in groups.items():
            for clip, intent in group.misses:
                print(f"  miss {level} [{name}] {clip.said!r} heard {clip.heard!r} "
                      f"({clip.confidence:.2g}) -> {_describe(intent)}")


if __name__ == "__main__":
    _report()
