"""Apply the content lexicon before synthesis, keeping a map back to the text.

A voice that reads phonemes (Piper) gets a word's `ipa` as a `[[ipa|word]]` block where the
lexicon has one (the word, so that Piper's worker phonemizes the words around it in context:
kiosk.piper_phonemes); espeak-ng, and Piper for words without `ipa`, get the `say` respelling.

espeak-ng also gets a short pause before each number that follows a word ("every, 6 to, 12
months"): run into the word before, it said "every 6 to 12" so that an independent listener heard
"never exists at 12" and "to twelve" as "turt-well", and "request 3" as "request free"; with the
pause it heard the numbers at 140 to 160 wpm (docs/speech.md). Piper says them clearly as they are.

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
#: A number after a word and one space: espeak-ng gets a comma (a short pause) after that word.
_NUMBER_NEXT = re.compile(r" \d")
#: Part of every cache key: a new one when respelling says a text differently.
RESPELLING = "number-pause1"


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
    """Replace each whole word that has an entry (case-insensitively, either apostrophe) by its
    respelling, or by its [[ipa|word]] block when the synthesiser reads `phonemes`; for a voice
    that does not (espeak-ng), a word followed by a number ends with a comma (a short pause)."""
    sayings = {_key(word): entry.say for word, entry in lexicon.items() if entry.say}
    ipa = {_key(word): entry.ipa for word, entry in lexicon.items() if entry.ipa and phonemes}
    pause_numbers = not phonemes and any(c.isdigit() for c in text)
    if not sayings and not ipa and not pause_numbers:
        return SpokenText(text, text, ())
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for match in _WORD.finditer(text):
        word = match.group(0)
        said = ipa.get(_key(word))
        replacement = phoneme_block(said, word) if said else sayings.get(_key(word))
        if pause_numbers and _NUMBER_NEXT.match(text, match.end()):
            replacement = (replacement or word) + ","
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


def _key(word: str) -> str:
    """How a word is looked up: lower case, a typographic apostrophe as a straight one."""
    return word.lower().replace("’", "'")


def lexicon_digest(lexicon: Mapping[str, LexiconEntry]) -> str:
    """A short fingerprint of every `say` and `ipa` entry and of the respelling rules, part of
    each cache key."""
    text = "\n".join([RESPELLING, *(
        f"{word}={entry.say}|{entry.ipa}"
        for word, entry in sorted(lexicon.items()) if entry.say or entry.ipa
    )])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
