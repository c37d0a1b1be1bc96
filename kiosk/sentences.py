"""Sentence splitting for content paragraphs.

Handles what the seed has (curly apostrophes, "6 to 12 months", parentheses) and what an editor may
add: abbreviations ("Dr.", "e.g."), initials, decimals ("2.5 cm"), and ellipses.
"""

from __future__ import annotations

import re

#: Abbreviations after which a full stop does not end a sentence (compared in lower case).
ABBREVIATIONS = frozenset(
    {
        "dr",
        "mr",
        "mrs",
        "ms",
        "prof",
        "st",
        "no",
        "vs",
        "approx",
        "dept",
        "fig",
        "jr",
        "sr",
        "e.g",
        "i.e",
        "cf",
        "mt",
        "tel",
        "ext",
        "min",
        "max",
        "appt",
        "est",
    }
)

# A sentence ends at . ! ? or an ellipsis, optionally followed by closing quotes or brackets,
# then whitespace, then something that can start a sentence.
_BOUNDARY = re.compile(r"""(?P<end>(?:\.\.\.|…|[.!?])+["'”’)\]]*)\s+(?=["'“‘(\[]?[A-Z0-9])""")
_LAST_WORD = re.compile(r"([A-Za-z][A-Za-z.]*)$")


def _ends_with_abbreviation(text: str) -> bool:
    """True when the full stop that ends `text` belongs to an abbreviation or an initial."""
    match = _LAST_WORD.search(text[:-1])
    if match is None:
        return False
    word = match.group(1)
    if len(word) == 1 and word.isupper():  # an initial, as in "J. Smith"
        return True
    return word.lower().rstrip(".") in ABBREVIATIONS


def split_sentences(paragraph: str) -> list[str]:
    """Split one paragraph (already joined onto one line) into sentences, whitespace normalised."""
    text = " ".join(paragraph.split())
    if not text:
        return []
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end_mark = match.group("end")
        candidate = text[start : match.start("end") + len(end_mark)]
        if end_mark == "." and _ends_with_abbreviation(candidate):
            continue
        sentences.append(candidate.strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences
