"""Accuracy of the understanding on the development phrasings (tests/understanding/dev_phrasings.py).

The floors sit just under what the understanding achieves, so a change that loses ground fails.
Print the figures and every miss with:
    .venv/bin/python -m tests.understanding.test_dev_phrasings
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.understanding import Understanding
from tests.understanding.dev_phrasings import CHATTER, COMMANDS, NAMES, QUESTIONS

#: Share right per group, just under the measured figures (see the module docstring).
FLOORS = {"commands": 0.95, "names": 0.98, "questions": 0.83, "chatter rejected": 0.98}


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


def measure(understanding: Understanding) -> dict[str, Group]:
    """Each group's result on the development set."""
    groups = {name: Group() for name in FLOORS}
    for text, expected in COMMANDS:
        intent = understanding.understand(text)
        groups["commands"].add(intent.name is expected, text, intent)
    for text, name, topic, section in NAMES:
        intent = understanding.understand(text)
        got = (intent.name, intent.topic, intent.section)
        groups["names"].add(got == (name, topic, section), text, intent)
    for text, sections in QUESTIONS:
        intent = understanding.understand(text)
        ok = intent.name in (IntentName.ASK, IntentName.SECTION) and intent.section in sections
        groups["questions"].add(ok, text, intent)
    for text in CHATTER:
        intent = understanding.understand(text)
        groups["chatter rejected"].add(intent.name is IntentName.NONE, text, intent)
    return groups


def test_the_development_set_is_big_and_covers_every_intent() -> None:
    assert len(COMMANDS) + len(NAMES) + len(QUESTIONS) >= 200 and len(CHATTER) >= 60
    named = {name for _, name in COMMANDS} | {name for _, name, *_ in NAMES} | {IntentName.ASK}
    assert named == set(IntentName) - {IntentName.NONE}
    texts = [text for text, *_ in (*COMMANDS, *NAMES, *QUESTIONS)] + list(CHATTER)
    assert len(set(texts)) == len(texts)


def test_accuracy_on_the_development_set_stays_above_its_floors(library: Library) -> None:
    groups = measure(Understanding(library))
    shares = {name: round(group.share, 3) for name, group in groups.items()}
    assert all(shares[name] >= floor for name, floor in FLOORS.items()), shares


def _report() -> None:
    from pathlib import Path

    from kiosk.library import load_library

    root = Path(__file__).resolve().parents[2] / "content" / "en"
    groups = measure(Understanding(load_library(root)))
    for name, group in groups.items():
        total = group.right + len(group.misses)
        print(f"{name}: {group.right}/{total} = {group.share:.1%}")
    for name, group in groups.items():
        for text, got in group.misses:
            print(f"  miss [{name}] {text!r} -> {got}")


if __name__ == "__main__":
    _report()
