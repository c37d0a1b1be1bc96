"""Lexicon phrases: an entry of several words is said where those words are written together."""

from __future__ import annotations

from kiosk.config import BUNDLED_CONTENT
from kiosk.content_parser import load_library
from kiosk.library import LexiconEntry
from kiosk.speech.lexicon import respell


def entry(word: str, say: str) -> LexiconEntry:
    return LexiconEntry(word, say, None, 1, None)


def test_a_phrase_that_adds_a_pause_adds_only_the_punctuation() -> None:
    lexicon = {"it is always": entry("it is always", "it is, always")}
    text = "It is always fine to ask. It’s always fine, and it is; always so, it is\nalways."
    spoken = respell(text, lexicon)
    # The words keep their own case; "It’s always" and words apart by a "; " are no match.
    assert spoken.spoken == (
        "It is, always fine to ask. It’s always fine, and it is; always so, it is,\nalways.")
    # Each word is still highlighted on its own.
    for word in ("It", "is", "always", "fine"):
        at = spoken.spoken.index(word + ("," if word == "is" else ""))
        assert text[slice(*spoken.to_original(at, at + len(word)))] == word


def test_a_phrase_said_otherwise_is_replaced_whole_and_highlighted_whole() -> None:
    lexicon = {"follow up": entry("follow up", "follow-up visit"),
               "aren't": entry("aren't", "are not")}
    text = "They aren’t a Follow up."
    spoken = respell(text, lexicon)
    assert spoken.spoken == "They are not a follow-up visit."
    at = spoken.spoken.index("follow-up")
    assert text[slice(*spoken.to_original(at, at + 6))] == "Follow up"
    assert text[slice(*spoken.to_original(0, 4))] == "They"


def test_a_phrase_applies_to_both_voices_and_keeps_the_number_pause() -> None:
    lexicon = {"it is always": entry("it is always", "it is, always")}
    assert respell("It is always 6", lexicon).spoken == "It is, always, 6"
    assert respell("It is always 6", lexicon, phonemes=True).spoken == "It is, always 6"


def test_the_bundled_title_gets_its_pause_for_espeak_ng() -> None:
    library = load_library(BUNDLED_CONTENT / "en")
    spoken = respell("It is always fine to ask", library.lexicon)
    assert spoken.spoken == "It is, always fine to ask"
    # The words on screen are the content's own: only what is said changes.
    assert spoken.original == "It is always fine to ask"
