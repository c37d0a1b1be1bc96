"""Keeping what the speaker says and the reading position in step.

The controller hands the speaker an Utterance; the speaker reports each sentence as it starts and
the end of what it was given. Reading maps those reports back to the utterance, and ignores the
late ones from speech that has since been replaced.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Utterance:
    """What was last handed to the speaker, so speaker events can be mapped back to content."""

    kind: str  # "section", "repeat", "answer", "prompt" or "question" (listens when done)
    texts: tuple[str, ...]
    #: For each spoken text, the section sentence it is (or -1 for an interface line).
    positions: tuple[int, ...]
    start: int = 0

    @classmethod
    def lines(cls, kind: str, *texts: str) -> Utterance:
        """Interface lines (no section sentence among them)."""
        return cls(kind, texts, tuple(-1 for _ in texts))


class Reading:
    """The utterance being spoken, which of its texts have been heard, and the last one heard."""

    def __init__(self) -> None:
        self.utterance: Utterance | None = None
        #: The last text heard (or handed over), for "repeat" outside the reader.
        self.last_spoken: tuple[str, ...] = ()
        self._started: set[int] = set()
        # Some speakers report each sentence; with them, an end is ours only once our last
        # sentence has started.
        self._reports_sentences = False

    def start(self, utterance: Utterance) -> None:
        self.utterance = utterance
        self._started = set()
        self.last_spoken = utterance.texts[utterance.start:]

    def stop(self) -> None:
        """Nothing of ours is being spoken any more."""
        self.utterance = None

    def forget(self) -> None:
        """The visit ended: nothing to repeat either."""
        self.utterance = None
        self.last_spoken = ()

    @property
    def speaking_a_prompt(self) -> bool:
        return self.utterance is not None and self.utterance.kind == "prompt"

    def sentence_started(self, index: int, text: str) -> tuple[str, int] | None:
        """A sentence started: (the utterance's kind, its section position or -1), or None
        when the report is not about what is being said now."""
        utterance = self.utterance
        if utterance is None:
            return None
        if not 0 <= index < len(utterance.texts):
            return None
        if text and text != utterance.texts[index]:
            return None  # a late event from speech that was replaced
        self._started.add(index)
        self._reports_sentences = True
        self.last_spoken = (utterance.texts[index],)
        return utterance.kind, utterance.positions[index]

    def finished(self) -> Utterance | None:
        """The speaker finished: the utterance that ended, or None if it was older speech."""
        utterance = self.utterance
        if utterance is None:
            return None
        if self._reports_sentences and len(utterance.texts) - 1 not in self._started:
            return None  # the end of older speech, not of what we asked for last
        self.utterance = None
        return utterance
