"""Questions -> the passage of the content that answers them.

The content's sentences are ranked with BM25 (bm25s) on their own words plus their section's
title and aliases; the answer read is the sentence's whole passage (`standalone_passage`), never a
fragment. Before ranking, question and content meet on the same words:
- a patient's paraphrases become the content's words ("change of life" -> menopause, "another
  doctor" -> second opinion), from `paraphrases` in commands.toml, in the question and in the
  content alike;
- endings are stripped a little further than for commands ("looked" ~ "look");
- a word the content never uses but nearly spells ("calcifcations", "mamogram", as a recogniser
  writes a word it half knows) is read as that word when their letter trigrams mostly agree.

The understanding (kiosk.understanding) decides whether an utterance is a question at all and
hands over its ranking tokens; this module says which passage answers it and how surely.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kiosk.intents import Intent, IntentName
from kiosk.library import Library, Section
from kiosk.words import letter_trigrams

#: Share of a question's content words that must occur in the passage that answers it.
ANSWER_THRESHOLD = 0.6
STATEMENT_THRESHOLD = 0.75
#: How much a word the content never uses counts against a question that names at least
#: UNKNOWN_EXCUSED_AFTER of the content's words, against 1 for a word of the content.
UNKNOWN_WEIGHT = 0.3
UNKNOWN_EXCUSED_AFTER = 3
#: Sentences ranked at least this share of the best one's score (BM25) compete for a question
#: on how much of it their passage explains.
CLOSE_RANK = 0.5
#: An answer from the content is sure when the words it rests on are as specific as this many
#: words of the content's average specificity (idf).
QUESTION_WORDS = 2.0
#: A word the content never uses is read as a content word whose letter trigrams agree this
#: much (Dice coefficient), if it is at least NEAR_MISS_LENGTH letters long.
NEAR_MISS_SIMILARITY = 0.7
NEAR_MISS_LENGTH = 6


def root(token: str) -> str:
    """A further ending stripped from a stemmed token, for ranking only: "looked" ~ "look",
    "referred" ~ "refer", "suspected" ~ "suspect" (commands keep the lighter kiosk stem)."""
    if len(token) > 5 and token.endswith("ied"):
        return token[:-3] + "y"
    if len(token) > 4 and token.endswith("ed") and not token.endswith("eed"):
        token = token[:-2]
        if len(token) > 2 and token[-1] == token[-2] and token[-1] not in "lsz":
            token = token[:-1]  # "referred" -> "refer", "planned" -> "plan"
        return token
    return token


def similarity(one: frozenset[str], other: frozenset[str]) -> float:
    """Dice coefficient of two trigram sets."""
    return 2 * len(one & other) / (len(one) + len(other)) if one or other else 0.0


def paraphrased(
    words: Sequence[str], table: Mapping[tuple[str, ...], tuple[str, ...]],
    key: Callable[[str], str],
) -> list[str]:
    """`words` with each phrase of `table` (compared by `key`, longest first) replaced by the
    words it stands for."""
    if not table:
        return list(words)
    longest = max(len(said) for said in table)
    keys = [key(word) for word in words]
    result: list[str] = []
    index = 0
    while index < len(words):
        for size in range(min(longest, len(words) - index), 0, -1):
            meant = table.get(tuple(keys[index : index + size]))
            if meant is not None:
                result.extend(meant)
                index += size
                break
        else:
            result.append(words[index])
            index += 1
    return result


def standalone_passage(section: Section, index: int) -> range:
    """The sentences to read as the answer that sentence `index` of `section` gives: never a
    fragment whose meaning changes out of context.

    A sentence is read with its whole paragraph ("Most breast calcifications are noncancerous"
    comes before "Certain patterns ... may be an indication of breast cancer"); a list item with
    the paragraph that introduces its list and the whole list ("Calcification may also occur
    due to:" and every cause, not "injury to your breast" alone); a paragraph that introduces a
    list, with the list.
    """
    sentences = section.sentences
    start = index
    while start > 0 and sentences[start].is_list_item and sentences[start - 1].is_list_item:
        start -= 1
    if sentences[start].is_list_item and start > 0:
        start -= 1  # the sentence that introduces the list
    line = sentences[start].line
    while start > 0 and not sentences[start - 1].is_list_item and sentences[start - 1].line == line:
        start -= 1
    end = index + 1
    while end < len(sentences) and not sentences[end].is_list_item and sentences[end].line == line:
        end += 1
    if sentences[end - 1].is_list_item or sentences[end - 1].text.rstrip().endswith(":"):
        while end < len(sentences) and sentences[end].is_list_item:
            end += 1
    return range(start, end)


def passage_text(section: Section, indices: range) -> str:
    """The sentences as one answer: a paragraph's sentences on one line, each list item on a line
    of its own (so it is spoken and highlighted as the item it is, not run into the next)."""
    lines: list[str] = []
    for index in indices:
        sentence = section.sentences[index]
        if lines and not sentence.is_list_item and not section.sentences[index - 1].is_list_item:
            lines[-1] += f" {sentence.text}"
        else:
            lines.append(sentence.text)
    return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class Passage:
    """One answer the content can give, and the words it covers."""

    topic: str
    section: str
    text: str
    #: The tokens of the text and of its section's names.
    words: frozenset[str] = frozenset()


class Passages:
    """The content's passages, ranked for a question.

    `tokens` turns text into ranking tokens (the understanding's own: normalised, synonyms
    applied, common words dropped, stemmed).
    """

    def __init__(self, library: Library, tokens: Callable[[str], list[str]]) -> None:
        self.passages: list[Passage] = []
        corpus: list[list[str]] = []
        for section in library.sections():
            names = " ".join((section.title, *section.aliases))
            for index, sentence in enumerate(section.sentences):
                text = passage_text(section, standalone_passage(section, index))
                words = frozenset(tokens(f"{text} {names}"))
                self.passages.append(Passage(section.topic_id, section.id, text, words))
                # Ranked on the sentence itself (plus its section's names), so the answer starts
                # with the sentence that matches rather than with the one before it.
                corpus.append(tokens(f"{sentence.text} {names}"))
        self.vocabulary = frozenset(token for doc in corpus for token in doc)
        self._trigrams = {
            token: letter_trigrams(token)
            for token in self.vocabulary if len(token) >= NEAR_MISS_LENGTH
        }
        # How specific each word is to a few passages (BM25's idf): "suspicious" says more
        # about which passage is meant than "calcification", and a word the content never
        # uses says most of all about the question being about something else.
        counts: dict[str, int] = {}
        for doc in corpus:
            for token in set(doc):
                counts[token] = counts.get(token, 0) + 1
        self.idf = {
            token: math.log(1.0 + (len(corpus) - count + 0.5) / (count + 0.5))
            for token, count in counts.items()
        }
        # An answer is sure when it rests on as much as QUESTION_WORDS words of the content's
        # average specificity.
        self._enough_evidence = QUESTION_WORDS * (
            sum(self.idf.values()) / len(self.idf) if self.idf else 1.0
        )
        self._ranker: Any = None
        if corpus:
            import bm25s  # imported here: it is heavy and only questions need it

            self._ranker = bm25s.BM25()
            self._ranker.index(corpus, show_progress=False)

    def near_miss(self, token: str) -> str | None:
        """The content word `token` nearly spells, if one clearly does."""
        if len(token) < NEAR_MISS_LENGTH or token in self.vocabulary:
            return None
        mine = letter_trigrams(token)
        scored = sorted(
            ((similarity(mine, theirs), word) for word, theirs in self._trigrams.items()),
            reverse=True,
        )
        if not scored or scored[0][0] < NEAR_MISS_SIMILARITY:
            return None
        if len(scored) > 1 and scored[1][0] == scored[0][0]:
            return None  # two words spelt as nearly: neither is meant
        return scored[0][1]

    def corrected(self, query: Iterable[str]) -> list[str]:
        """The query with near-misses read as the content words they nearly spell."""
        return list(dict.fromkeys(self.near_miss(token) or token for token in query))

    def _found(self, query: Sequence[str], passage: Passage) -> list[str]:
        """The query's tokens found in a passage or its section's names."""
        return [token for token in query if token in passage.words]

    def _evidence(self, query: Sequence[str], index: int) -> float:
        """How much of the query passage `index` explains: the idf of the words it has."""
        return round(sum(self.idf[t] for t in self._found(query, self.passages[index])), 6)

    def answer(
        self, query: Sequence[str], question: bool, hints: Sequence[str] = ()
    ) -> Intent | None:
        """The passage that answers `query` (ranking tokens, each once), or None.

        `question` says the utterance asks (or requests) something; a statement ("my back
        hurts") must be about the content as a whole to be answered. `hints` (what the
        question's form asks after: "where" -> place) choose between passages that explain
        the query equally well, and count for nothing else.
        """
        if self._ranker is None:
            return None
        known = [token for token in query if token in self.vocabulary]
        # Words the content never uses say the utterance is about something else; less so in a
        # question that names several things the content does ("can I still ask for a second
        # opinion once treatment has started").
        unknown = (len(query) - len(known)) * (
            UNKNOWN_WEIGHT if question and len(known) >= UNKNOWN_EXCUSED_AFTER else 1.0
        )
        size = len(known) + unknown
        if not known or len(known) / size < ANSWER_THRESHOLD:
            return None
        scores = np.asarray(self._ranker.get_scores(known), dtype=float)
        # A question's words may be spread over the sentences of one passage ("do the large
        # ones need more tests": one sentence says large, the next testing): among sentences
        # ranked close to the best, the one whose passage explains most of the question wins.
        top = float(scores.max())
        best = max(
            (index for index in range(len(scores)) if scores[index] >= CLOSE_RANK * top > 0.0),
            key=lambda index: (
                self._evidence(query, index), self._evidence(hints, index), scores[index],
            ),
            default=int(scores.argmax()),
        )
        if scores[best] <= 0.0:
            return None
        passage = self.passages[best]
        found = self._found(query, passage)
        share = len(found) / size
        if share < (ANSWER_THRESHOLD if question else STATEMENT_THRESHOLD):
            return None
        # How sure the answer is: the share of the question's words it explains, weighted by
        # how specific each is ("is it cancer to area open": 'area' says more than 'cancer'),
        # and whether the words it rests on are specific enough to pick one passage (one
        # common word, as a misheard question often has, is not).
        evidence = sum(self.idf[token] for token in found)
        specific = evidence / sum(self.idf[token] for token in known)
        return Intent(
            IntentName.ASK, topic=passage.topic, section=passage.section, answer=passage.text,
            confidence=min(share, specific) * min(1.0, evidence / self._enough_evidence),
        )
