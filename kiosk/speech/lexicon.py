"""Apply the content lexicon before synthesis, keeping a map back to the text.

A voice that reads phonemes (Piper) gets a word's `ipa` as a `[[ipa|word]]` block where the
lexicon has one (the word, so that Piper's worker phonemizes the words around it in context:
kiosk.piper_phonemes); espeak-ng, and Piper for words without `ipa`, get the `say` respelling.

espeak-ng also gets a short pause before each number that follows a word ("every, 6 to, 12
months"): run into the word before, it said "every 6 to 12" so that an independent listener heard
"never exists at 12" and "to twelve" as "turt-well", and "request 3" as "request free"; with the
pause it heard the numbers at 140 to 160 wpm (docs/speech.md). Piper says them clearly as they are.

An entry of several words (`[words."it is always"]`) is a phrase: its `say` is read for those
words written together, only spaces between them (case-insensitively, as a word's). Where the
`say` is the same words with punctuation added ("it is, always": a pause), only the punctuation
is added, so each word keeps its own highlight; otherwise the phrase is replaced whole.

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
RESPELLING = "number-pause1-phrases1"


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
    sayings = {_key(word): entry.say for word, entry in lexicon.items()
               if entry.say and " " not in word.strip()}
    ipa = {_key(word): entry.ipa for word, entry in lexicon.items() if entry.ipa and phonemes}
    pause_numbers = not phonemes and any(c.isdigit() for c in text)
    words = list(_WORD.finditer(text))
    replacements = _phrases(text, words, lexicon)
    if not sayings and not ipa and not pause_numbers and not replacements:
        return SpokenText(text, text, ())
    parts: list[str] = []
    spans: list[tuple[int, int, int, int]] = []
    cursor = 0
    length = 0
    for index, match in enumerate(words):
        if match.start() < cursor:
            continue  # inside a phrase replaced whole
        word = match.group(0)
        start, end = match.start(), match.end()
        replacement: str | None
        if index in replacements:
            end, replacement = replacements[index]
        else:
            said = ipa.get(_key(word))
            replacement = phoneme_block(said, word) if said else sayings.get(_key(word))
        if pause_numbers and _NUMBER_NEXT.match(text, end) and not (
                replacement or word).endswith(","):
            replacement = (replacement or word) + ","
        if replacement is None:
            continue
        before = text[cursor:start]
        parts.append(before)
        length += len(before)
        spans.append((length, length + len(replacement), start, end))
        parts.append(replacement)
        length += len(replacement)
        cursor = end
    parts.append(text[cursor:])
    return SpokenText(text, "".join(parts), tuple(spans))


def _phrases(text: str, words: list[re.Match[str]],
             lexicon: Mapping[str, LexiconEntry]) -> dict[int, tuple[int, str]]:
    """The lexicon's phrases found in `text`: {index of a word: (end in text, what is said)}.

    A phrase whose `say` is its own words with punctuation added gives each word its own
    replacement (the word as written, then the punctuation), so highlights stay word by word.
    """
    found: dict[int, tuple[int, str]] = {}
    keys = [_key(match.group(0)) for match in words]
    for phrase, entry in lexicon.items():
        wanted = [_key(word) for word in phrase.split()]
        if len(wanted) < 2 or not entry.say:
            continue
        said = entry.say.split()
        same_words = [_key(word.strip(",;:.")) for word in said] == wanted
        for at in range(len(keys) - len(wanted) + 1):
            if keys[at:at + len(wanted)] != wanted or any(
                    at + k in found for k in range(len(wanted))) or any(
                    text[words[at + k].end():words[at + k + 1].start()].strip()
                    for k in range(len(wanted) - 1)):
                continue  # not these words, already said otherwise, or apart (a comma)
            if not same_words:
                found[at] = (words[at + len(wanted) - 1].end(), entry.say)
                continue
            for k, spoken in enumerate(said):
                written = words[at + k].group(0)
                tail = spoken[len(spoken.rstrip(",;:.")):]
                if tail and not text.startswith(tail, words[at + k].end()):
                    found[at + k] = (words[at + k].end(), written + tail)
    return found


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
