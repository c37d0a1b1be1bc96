"""Pronunciations for the recogniser: CMUdict from the pocketsphinx model, plus the shared lexicon.

Only the words the search uses are loaded, into a small dictionary, so the decoder starts fast and
stays small. Words neither source knows are reported, so content cannot silently go unheard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from kiosk.library import Library


def cmudict_path() -> Path:
    """The pronunciation dictionary shipped inside the pocketsphinx wheel."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us" / "cmudict-en-us.dict"


def acoustic_model_path() -> Path:
    """The en-US acoustic model shipped inside the pocketsphinx wheel."""
    from pocketsphinx import get_model_path

    return Path(get_model_path()) / "en-us" / "en-us"


def pronunciations(words: Iterable[str], library: Library | None = None) -> dict[str, list[str]]:
    """word -> its phone strings, for the words either source knows (lexicon entries first)."""
    wanted = {word.lower() for word in words}
    found: dict[str, list[str]] = {}
    if library is not None:
        for word, entry in library.lexicon.items():
            if entry.phones and word.lower() in wanted:
                found.setdefault(word.lower(), []).append(" ".join(entry.phones.split()))
    from_lexicon = set(found)
    with cmudict_path().open(encoding="utf-8") as handle:
        for line in handle:
            head, _, phones = line.partition(" ")
            word = head.split("(", 1)[0]
            if word in wanted and word not in from_lexicon:
                # Drop any trailing comment ("# foreign") that some entries carry.
                found.setdefault(word, []).append(phones.split("#", 1)[0].strip())
    return found


def missing_words(words: Iterable[str], known: Mapping[str, list[str]]) -> list[str]:
    """The words with no pronunciation, sorted."""
    return sorted({word for word in words if word not in known})


def dictionary_text(known: Mapping[str, list[str]]) -> str:
    """A pocketsphinx dictionary (word, then phones; variants as word(2))."""
    lines: list[str] = []
    for word in sorted(known):
        for index, phones in enumerate(known[word], start=1):
            name = word if index == 1 else f"{word}({index})"
            lines.append(f"{name} {phones}")
    return "\n".join(lines) + "\n"
