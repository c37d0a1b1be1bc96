"""Apply the content lexicon before synthesis, keeping a map back to the text.

A voice that reads phonemes (Piper) gets a word's `ipa` as a `[[ipa|word]]` block where the
lexicon has one (the word, so that Piper's worker phonemizes the words around it in context:
kiosk.piper_phonemes); espeak-ng, and Piper for words without `ipa`, get the `say` respelling.

The synthesiser reads the respelled text, so its word positions are positions in that text; the
screen highlights the original. `SpokenText.to_original` maps one onto the other.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

from kiosk.library import LexiconEntry
from kiosk.piper_phonemes import phoneme_block

_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]|[A-Za-z]")


@dataclass(frozen=True, slots=True)
class SpokenText:
    """`spoken` is what the synthesiser reads.

    `spans` pairs each respelled range (spoken start, end) with its (original start, end).
    """

    original: str
    spoken: str
    spans: tuple[tuple[int, int, int, int], ...]

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """Map a character range of `spoken` to the matching range of `original`."""
        shift = 0
        for spoken_start, spoken_end, original_start, original_end in self.spans:
            if end <= spoken_start:
                break
            if start < spoken_end:
                # The range touches a respelled word: highlight the whole original word.
                return original_start, original_end
            shift += (original_end - original_start) - (spoken_end - spoken_start)
        low = max(0, min(len(self.original), start + shift))
        high = max(low, min(len(self.original), end + shift))
        return low, high


def respell(
    text: str, lexicon: Mapping[str, LexiconEntry], phonemes: bool = False
) -> SpokenText:
    """Replace each whole word that has an entry (case-insensitively) by its respelling, or by
    its [[ipa|word]] block when the synthesiser reads `phonemes`."""
    sayings = {word: entry.say for word, entry in lexicon.items() if entry.say}
    ipa = {word: entry.ipa for word, entry in lexicon.items() if entry.ipa and phonemes}
    if not sayings and not ipa:
        return SpokenText(text, text, ())
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        said = ipa.get(word.lower())
        replacement = phoneme_block(said, word) if said else sayings.get(word.lower())
        if replacement is None:
            continue
        before = text[cursor:match.start()]
        parts.append(before)
        length += len(before)
        spans.append((length, length + len(replacement), match.start(), match.end()))
        parts.append(replacement)
        length += len(replacement)
        cursor = match.end()
    parts.append(text[cursor:])
    return SpokenText(text, "".join(parts), tuple(spans))


def lexicon_digest(lexicon: Mapping[str, LexiconEntry]) -> str:
    """A short fingerprint of every `say` and `ipa` entry, part of each cache key."""
    text = "\n".join(
        f"{word}={entry.say}|{entry.ipa}"
        for word, entry in sorted(lexicon.items()) if entry.say or entry.ipa
    )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
