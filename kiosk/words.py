"""Words as the kiosk compares them: text -> lower-case words, contractions spelled out.

Utterances, command phrasings, topic names and the content's sentences all go through the same
`normalize`, so that what a visitor says and what the content writes meet as the same words. Its
own module because the command phrasings' loader (kiosk.command_words), the understanding and the
listening side all need it, and none of them should import another for it.
"""

from __future__ import annotations

import re

_CONTRACTIONS: tuple[tuple[str, str], ...] = (
    (r"\bcan't\b", "can not"), (r"\bcannot\b", "can not"), (r"\bwon't\b", "will not"),
    (r"\blet's\b", "let us"), (r"\bi'm\b", "i am"), (r"n't\b", " not"), (r"'re\b", " are"),
    (r"'ll\b", " will"), (r"'ve\b", " have"), (r"'d\b", " would"), (r"\b(\w+)'s\b", r"\1 is"),
)
_NUMBERS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty",
)
_NON_WORD = re.compile(r"[^a-z0-9' ]+")


def normalize(text: str) -> list[str]:
    """Lower-case words with contractions spelled out and small numbers as words."""
    text = text.lower().replace("’", "'").replace("‘", "'").replace("-", " ")
    text = _NON_WORD.sub(" ", text)
    for pattern, replacement in _CONTRACTIONS:
        text = re.sub(pattern, replacement, text)
    words: list[str] = []
    for word in text.replace("'", " ").split():
        if word.isdigit() and int(word) < len(_NUMBERS):
            words.append(_NUMBERS[int(word)])
        elif word:
            words.append(word)
    return words


def letter_trigrams(text: str) -> frozenset[str]:
    """The text's letter trigrams, with its edges marked: "lump" -> {" lu", "lum", "ump", "mp "}.

    For telling near-miss spellings apart: the understanding's unknown words
    (kiosk.passages) and the heard words' closest phrasings (kiosk.listening.phrasings).
    """
    padded = f" {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))
