"""Accuracy of the understanding on the development phrasings (tests/understanding/dev_phrasings.py).

The floors sit just under what the understanding achieves, so a change that loses ground fails.
Print the figures and every miss with:
    .venv/bin/python -m tests.understanding.test_dev_phrasings
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.understanding import Understanding
from tests.understanding import dev_phrasings as dev

#: Share right per group, just under the measured figures (see the module docstring).
FLOORS = {"commands": 0.95, "names": 0.98, "questions": 0.94, "chatter rejected": 0.98}
#: The same for the second batch (dev_phrasings.FRESH_*).
FRESH_FLOORS = {"commands": 0.98, "names": 0.92, "questions": 0.6, "chatter rejected": 0.9}


@dataclass
class Group:
    """How many utterances of one group came out right, and the ones that did not."""

    right: int = 0
    misses: list[tuple[str, str]] = field(default_factory=list)

    def add(self, ok: bool, text: str, intent: Intent) -> None:
        if ok:
            self.right += 1
        else:
            got = " ".join(str(part) for part in (intent.name, intent.topic, intent.section) if part)
            self.misses.append((text, got))

    @property
    def share(self) -> float:
        return self.right / max(1, self.right + len(self.misses))


def measure(understanding: Understanding, fresh: bool = False) -> dict[str, Group]:
    """Each group's result on the development set (or on its second, `fresh` batch)."""
    commands, names, questions, chatter = (
        (dev.FRESH_COMMANDS, dev.FRESH_NAMES, dev.FRESH_QUESTIONS, dev.FRESH_CHATTER) if fresh
        else (dev.COMMANDS, dev.NAMES, dev.QUESTIONS, dev.CHATTER)
    )
    groups = {name: Group() for name in FLOORS}
    for text, expected in commands:
        intent = understanding.understand(text)
        groups["commands"].add(intent.name is expected, text, intent)
    for text, name, topic, section in names:
        intent = understanding.understand(text)
        got = (intent.name, intent.topic, intent.section)
        groups["names"].add(got == (name, topic, section), text, intent)
    for text, sections in questions:
        intent = understanding.understand(text)
        ok = intent.name in (IntentName.ASK, IntentName.SECTION) and intent.section in sections
        groups["questions"].add(ok, text, intent)
    for text in chatter:
        intent = understanding.understand(text)
        groups["chatter rejected"].add(intent.name is IntentName.NONE, text, intent)
    return groups


def test_the_development_set_is_big_and_covers_every_intent() -> None:
    assert len(dev.COMMANDS) + len(dev.NAMES) + len(dev.QUESTIONS) >= 200
    assert len(dev.CHATTER) >= 60
    named = {name for _, name in dev.COMMANDS} | {name for _, name, *_ in dev.NAMES}
    assert named | {IntentName.ASK} == set(IntentName) - {IntentName.NONE}
    said = [*dev.COMMANDS, *dev.NAMES, *dev.QUESTIONS, *dev.FRESH_COMMANDS, *dev.FRESH_NAMES,
            *dev.FRESH_QUESTIONS]
    texts = [text for text, *_ in said] + list(dev.CHATTER) + list(dev.FRESH_CHATTER)
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize(("fresh", "floors"), [(False, FLOORS), (True, FRESH_FLOORS)])
def test_accuracy_on_the_development_set_stays_above_its_floors(
    library: Library, fresh: bool, floors: dict[str, float]
) -> None:
    groups = measure(Understanding(library), fresh)
    shares = {name: round(group.share, 3) for name, group in groups.items()}
    assert all(shares[name] >= floor for name, floor in floors.items()), shares


def _report() -> None:
    from pathlib import Path

    from kiosk.content_parser import load_library

    root = Path(__file__).resolve().parents[2] / "content" / "en"
    understanding = Understanding(load_library(root))
    for title, fresh in (("development set", False), ("second batch", True)):
        groups = measure(understanding, fresh)
        print(f"{title}:")
        for name, group in groups.items():
            total = group.right + len(group.misses)
            print(f"  {name}: {group.right}/{total} = {group.share:.1%}")
        for name, group in groups.items():
            for text, got in group.misses:
                print(f"    miss [{name}] {text!r} -> {got}")


if __name__ == "__main__":
    _report()
