"""The pronunciation lexicon (lexicon.toml): how each word is said (`say`, `ipa`) and heard
(`phones`, ARPAbet, checked against the pocketsphinx model's phone set)."""

from __future__ import annotations

from pathlib import Path

from kiosk.content_files import ProblemList, key_line, read_toml
from kiosk.library import LexiconEntry

LEXICON_KEYS = frozenset({"say", "ipa", "phones"})
#: ARPAbet phones known to the pocketsphinx en-US model.
ARPABET = frozenset({
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
})  # fmt: skip


def load_lexicon(path: Path, problems: ProblemList) -> dict[str, LexiconEntry]:
    parsed = read_toml(path, problems)
    if parsed is None:
        return {}
    data, lines = parsed
    entries: dict[str, LexiconEntry] = {}
    words = data.get("words", {})
    for key in data:
        if key != "words":
            problems.add(
                path,
                key_line(lines, key),
                "unknown-key",
                f"unknown table {key!r}; use [words.WORD]",
            )
    if not isinstance(words, dict):
        return {}
    for word, entry in words.items():
        line = key_line(lines, word)
        if not isinstance(entry, dict) or not entry:
            problems.add(
                path, line, "bad-entry", f'{word!r} needs say, ipa and/or phones = "..."'
            )
            continue
        for key in entry:
            if key not in LEXICON_KEYS:
                problems.add(
                    path,
                    line,
                    "unknown-key",
                    f"unknown key {key!r} for {word!r}; known: say, ipa, phones",
                )
        say, ipa, phones = entry.get("say"), entry.get("ipa"), entry.get("phones")
        if say is not None and (not isinstance(say, str) or not say.strip()):
            problems.add(path, line, "bad-entry", f"say for {word!r} must be non-empty text")
            say = None
        if ipa is not None and (
            not isinstance(ipa, str) or not ipa.strip() or any(c in ipa for c in "[]")
        ):
            problems.add(
                path, line, "bad-entry",
                f"ipa for {word!r} must be phonemes such as 'bɪnˈaɪn', without brackets",
            )
            ipa = None
        if phones is not None:
            unknown = [p for p in str(phones).split() if p not in ARPABET]
            if not isinstance(phones, str) or not phones.split() or unknown:
                problems.add(
                    path,
                    line,
                    "bad-phones",
                    f"phones for {word!r} must be ARPAbet phones such as 'K AE L'; not {unknown}",
                )
                phones = None
        entries[word.lower()] = LexiconEntry(word.lower(), say, phones, line, ipa)
    return entries
