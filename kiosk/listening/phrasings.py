"""The kiosk's own phrasings, for the neural pass to score when what it heard meant nothing.

Whisper often writes a command it heard in a voice it finds hard as near-miss words ("Foam
screen please." for "home screen please"). Those words are compared with every phrasing the
kiosk listens for (the commands, the names alone and in their carriers, the commands in their
wrappers), and the closest few, by letter trigrams, go back to Whisper to be scored against the
audio (docs/voice.md, "Phrasings scored by Whisper").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from kiosk.listening.search import Phrases
from kiosk.words import letter_trigrams, normalize


def phrasings(phrases: Phrases) -> tuple[str, ...]:
    """Every whole request the kiosk's search is built from, as text."""
    found: dict[str, None] = {}
    for command in phrases.commands:
        found[" ".join(command)] = None
        for wrapper in phrases.wrappers:
            found[wrapper.replace("{}", " ".join(command))] = None
    for name in phrases.names:
        found[" ".join(name)] = None
        for carrier in phrases.carriers:
            found[carrier.replace("{}", " ".join(name))] = None
    return tuple(found)


class PhrasingIndex:
    """The phrasings, found by how many letter trigrams they share with some heard words."""

    def __init__(self, texts: Iterable[str]) -> None:
        self.texts = tuple(texts)
        self._sizes = [len(letter_trigrams(text)) for text in self.texts]
        self._postings: dict[str, list[int]] = defaultdict(list)
        for index, text in enumerate(self.texts):
            for gram in letter_trigrams(text):
                self._postings[gram].append(index)

    def closest(self, heard: Iterable[str], limit: int) -> list[str]:
        """The `limit` phrasings most like any of the heard texts (Jaccard over trigrams)."""
        best: dict[int, float] = {}
        for text in heard:
            grams = letter_trigrams(" ".join(normalize(text)))
            if len(grams) < 2:
                continue
            shared: dict[int, int] = defaultdict(int)
            for gram in grams:
                for index in self._postings.get(gram, ()):
                    shared[index] += 1
            for index, count in shared.items():
                similarity = count / (len(grams) + self._sizes[index] - count)
                if similarity > best.get(index, 0.0):
                    best[index] = similarity
        ranked = sorted(best, key=lambda index: (-best[index], index))
        return [self.texts[index] for index in ranked[:limit]]
