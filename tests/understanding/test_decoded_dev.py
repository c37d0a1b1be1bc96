"""The understanding on decoded speech (tests/understanding/data/decoded_dev.jsonl): garbled
chatter must come out `none`, garbled in-scope speech must still be understood where its words
allow.

Two levels are measured: the understanding of the words the unwarped decoder heard, and the
kiosk's answer (`Recognizer.intent_of`, which also weighs the decoders' posteriors and the warped
decoders' hearing) on the stored hearing. Floors sit just under the measured figures. Print the
figures and every miss with:
    .venv/bin/python -m tests.understanding.test_decoded_dev
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening.decoder import Heard
from kiosk.listening.recognizer import Recognizer
from tests.understanding.decoded_dev import CLIPS, SECOND, Clip, clip_row, load

#: Share right per batch, level and group, just under the measured figures.
FLOORS = {
    "first": {
        "understanding": {"in scope": 0.58, "chatter rejected": 0.82},
        "kiosk": {"in scope": 0.54, "chatter rejected": 0.90},
    },
    "second": {
        "understanding": {"in scope": 0.56, "chatter rejected": 0.68},
        "kiosk": {"in scope": 0.56, "chatter rejected": 0.73},
    },
}
BATCHES = {"first": CLIPS, "second": SECOND}


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


def measure(answer: Callable[[Clip], Intent], clips: tuple[Clip, ...]) -> dict[str, Group]:
    groups = {"in scope": Group(), "chatter rejected": Group()}
    for clip in clips:
        intent = answer(clip)
        group = groups["chatter rejected" if clip.kind == "chatter" else "in scope"]
        if is_right(clip, intent):
            group.right += 1
        else:
            group.misses.append((clip, intent))
    return groups


def levels(recognizer: Recognizer, clips: tuple[Clip, ...]) -> dict[str, dict[str, Group]]:
    return {
        "understanding": measure(
            lambda clip: recognizer.understanding.understand(clip.heard), clips
        ),
        "kiosk": measure(lambda clip: recognizer.intent_of(heard(clip)), clips),
    }


@pytest.fixture(scope="module")
def recognizer(library: Library) -> Recognizer:
    # No warped decoders are loaded: the warped hearing is the stored one.
    return Recognizer(library, warps=())


@pytest.mark.parametrize("batch", sorted(BATCHES))
def test_the_decoded_set_covers_every_kind_voice_and_noise(batch: str) -> None:
    clips = BATCHES[batch]
    kinds = {clip.kind for clip in clips}
    assert kinds == {"command", "name", "question", "chatter"}
    assert sum(clip.kind == "chatter" for clip in clips) >= 30
    assert sum(clip.kind != "chatter" for clip in clips) >= 80
    assert len({clip.voice for clip in clips}) == 4
    assert 0.15 <= sum(clip.noisy for clip in clips) / len(clips) <= 0.3
    said = [clip.said for clip in clips if not clip.noisy]
    assert len(set(said)) == len(said)


@pytest.mark.parametrize("batch", sorted(BATCHES))
def test_accuracy_on_decoded_speech_stays_above_its_floors(
    recognizer: Recognizer, batch: str
) -> None:
    for level, groups in levels(recognizer, BATCHES[batch]).items():
        shares = {name: round(group.share, 3) for name, group in groups.items()}
        floors = FLOORS[batch][level]
        assert all(shares[name] >= floor for name, floor in floors.items()), (level, shares)


def _describe(intent: Intent) -> str:
    parts = (intent.name, intent.topic, intent.section)
    return " ".join(str(p) for p in parts if p) + f" ({intent.confidence:.2f})"


def _report() -> None:
    from pathlib import Path

    from kiosk.content_parser import load_library

    root = Path(__file__).resolve().parents[2] / "content" / "en"
    recognizer = Recognizer(load_library(root), warps=())
    results = {batch: levels(recognizer, clips) for batch, clips in BATCHES.items()}
    for batch, result in results.items():
        for level, groups in result.items():
            print(f"{batch} batch, {level}:")
            for name, group in groups.items():
                total = group.right + len(group.misses)
                print(f"  {name}: {group.right}/{total} = {group.share:.1%}")
    for batch, result in results.items():
        for level, groups in result.items():
            for name, group in groups.items():
                for clip, intent in group.misses:
                    print(f"  miss {batch} {level} [{name}] {clip.said!r} heard {clip.heard!r} "
                          f"({clip.confidence:.2g}) -> {_describe(intent)}")


if __name__ == "__main__":
    _report()


def test_the_generators_rows_read_back_as_the_same_clips(tmp_path: Path) -> None:
    """make_decoded_dev writes each clip with `clip_row`; the loader must read it back unchanged."""
    path = tmp_path / "decoded.jsonl"
    path.write_text("".join(clip_row(batch, clip) + "\n"
                            for batch, clips in BATCHES.items() for clip in clips[:5]),
                    encoding="utf-8")
    assert load(path) == {batch: clips[:5] for batch, clips in BATCHES.items()}
    path.write_text(clip_row("third", CLIPS[0]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown batch 'third'"):
        load(path)
