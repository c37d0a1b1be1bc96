"""The bundled content: valid, and the seed text carried over whole, each sentence exactly once."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from kiosk.library import MAX_SECTION_WORDS, Library
from kiosk.sentences import split_sentences
from tests.conftest import SEED


def _normalise(text: str) -> str:
    return " ".join(text.replace("•", " ").split())


def _seed_sentences() -> list[str]:
    """The seed's sentences: each paragraph split, each bullet line one item."""
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", SEED.read_text(encoding="utf-8")):
        lines = [line.strip() for line in block.splitlines() if line.strip()]
        prose = [line for line in lines if not line.startswith("•")]
        sentences += split_sentences(" ".join(prose))
        sentences += [_normalise(line) for line in lines if line.startswith("•")]
    return [_normalise(s) for s in sentences]


def test_seed_is_present() -> None:
    assert SEED.is_file(), f"the seed text is expected at {SEED}"
    assert len(_seed_sentences()) > 60


def test_every_seed_sentence_appears_exactly_once(library: Library) -> None:
    content = Counter(
        _normalise(sentence.text)
        for section in library.sections()
        for sentence in section.sentences
    )
    seed = Counter(_seed_sentences())
    missing = sorted(s for s in seed if content[s] == 0)
    repeated = sorted(s for s, n in content.items() if n > 1)
    extra = sorted(s for s in content if s not in seed)
    assert not missing, f"seed sentences missing from content: {missing}"
    assert not repeated, f"sentences that appear more than once: {repeated}"
    assert not extra, f"content sentences that are not in the seed: {extra}"
    assert sum(content.values()) == sum(seed.values())


def test_topics_are_the_two_named_ones(library: Library) -> None:
    assert [topic.id for topic in library.topics] == ["calcifications", "second-opinions"]


@pytest.mark.parametrize("limit_chars", [40])
def test_sections_fit_a_button_and_a_breath(library: Library, limit_chars: int) -> None:
    for section in library.sections():
        assert 0 < len(section.title) <= limit_chars
        assert 0 < section.word_count <= MAX_SECTION_WORDS
        assert section.sentences


def test_sentence_ids_are_unique_and_stable(library: Library) -> None:
    ids = [s.id for section in library.sections() for s in section.sentences]
    assert len(ids) == len(set(ids))
    first = library.topics[0].sections[0]
    assert first.sentences[0].id == f"{first.topic_id}/{first.id}/1"


def test_interface_strings_fill_their_placeholders(library: Library) -> None:
    assert "second opinions" in library.text("screen.welcome")
    assert library.text("prompt.idle_warning", seconds=20).count("20") == 1
    assert library.text("screen.topic_intro", topic="Insurance").startswith("Insurance")
