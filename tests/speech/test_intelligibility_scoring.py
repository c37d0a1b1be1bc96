"""The intelligibility benchmark's scoring (benchmarks/intelligibility.py): what counts as heard."""

from __future__ import annotations

from benchmarks.intelligibility import (
    Score,
    align,
    content_texts,
    domain_words,
    join_split_compounds,
    meaning_changes,
    normalise,
)
from kiosk.library import Library


def test_a_compound_heard_as_two_words_counts_as_heard() -> None:
    ref = normalise("Most calcifications are noncancerous, like microcalcifications.")
    hyp, joined = join_split_compounds(
        ref, normalise("Most calcifications are non-cancerous, like micro calcifications."))
    assert joined == 2
    assert align(ref, hyp) == (0, [True] * len(ref))


def test_only_pairs_the_text_spells_as_one_word_are_joined() -> None:
    # "may be" is two words in the text too: never joined, even where "maybe" was said.
    ref = normalise("Maybe it may be benign.")
    hyp, joined = join_split_compounds(ref, normalise("May be it may be benign."))
    assert joined == 0 and hyp == ["may", "be", "it", "may", "be", "benign"]
    # A word the text does not have stays two words, and counts as wrong.
    ref = normalise("A radiologist reads it.")
    hyp, joined = join_split_compounds(ref, normalise("A radio gist reads it."))
    assert joined == 0 and align(ref, hyp)[0] == 2


def test_meaning_changes_are_still_found_in_the_joined_words() -> None:
    ref = normalise("Macrocalcifications aren't usually biopsied.")
    hyp, _ = join_split_compounds(ref, normalise("Micro calcifications are usually biopsied."))
    assert sorted(meaning_changes(ref, hyp)) == ["micro heard for macro", "negation dropped"]


def test_the_domain_words_are_the_content_s_uncommon_words_not_every_lexicon_entry(
    library: Library,
) -> None:
    """An entry for how a voice says an everyday word ("benign", "aren't") leaves the domain
    words as they were measured (41 occurrences in the content)."""
    domain = domain_words(library)
    assert {"benign", "aren't"} <= set(library.lexicon)
    assert not {"benign", "aren't"} & domain
    assert {"noncancerous", "biopsied", "fibroadenoma", "macrocalcifications"} <= domain
    used = {word for text in content_texts(library) for word in normalise(text)}
    assert {"benign", "aren't"} <= used


def test_a_missed_domain_word_is_kept_with_what_was_heard() -> None:
    score = Score("Piper", 150)
    said = "A fibroadenoma is noncancerous."
    score.add(said, "A fibro and oma is noncancerous.", frozenset({"fibroadenoma", "noncancerous"}))
    assert (score.domain, score.domain_heard) == (2, 1)
    assert score.misheard == [("fibroadenoma", said, "A fibro and oma is noncancerous.")]
