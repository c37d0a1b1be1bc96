"""Text -> Intent: commands, topics and sections by name, questions answered from the content.

Everything the kiosk understands comes from content: command phrasings from `commands.toml`
(read by kiosk.command_words), topic and section names from the topics' titles and aliases,
answers from the sections' sentences (ranked with BM25). A clinic that adds a topic or an alias
gets it understood without code.

Matching works on "content tokens": the words left after normalising (lower case, contractions
spelled out, numbers as words), replacing synonyms by the words they stand for ("sound" ->
"volume", both from commands.toml) and dropping fillers ("please", "could you", "the"). A phrasing
matches when its content tokens appear in a row; its score is the share of the utterance's
informative tokens it explains, so "next" alone is sure but "is the bathroom next to the lift" is
not. Glue words (requests, common words) neither explain nor count against; a negation just
before a command ("do not stop") turns it down.

Spoken input arrives as the recogniser's words, and talk the kiosk does not know comes out as
garbled kiosk words ("is it are probably", "too to see you skip"). So a command's words must be
said in a row when anything is left over, two commands explained equally well are neither, a
command drowned in glue that no phrasing or politeness wrapper accounts for is none, and the
confidence (which the recogniser uses to accept doubtful audio) is below 0.99 whenever some of the
utterance is not explained: loose glue around a command, or an answer that rests on few or
unspecific words (idf).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from kiosk.command_words import CommandWords, load_commands
from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.passages import Passages, paraphrased, passage_text, root, standalone_passage
from kiosk.words import normalize

#: Re-exported: what an answer reads (kiosk.passages).
__all__ = ["Understanding", "passage_text", "standalone_passage", "stem", "understand"]

#: Share of an utterance's content words a command or name must explain to be taken.
COMMAND_THRESHOLD = 0.66
#: Words of command phrasings up to this long count as that command's keywords on their own.
KEYWORD_PHRASE_WORDS = 2
NAME_THRESHOLD = 0.66
#: How much a glue word that nothing accounts for ("too to see you skip") weighs against a
#: command's confidence, against 1 for each word a phrasing explains.
LOOSE_GLUE = 0.1
#: Most loose glue words a command may come with, per word a phrasing explains.
MAX_LOOSE_GLUE = 3


def stem(word: str) -> str:
    """A light suffix stripper: "calcifications" ~ "calcification", "speaking" ~ "speak"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 5 and word.endswith("ing"):
        word = word[:-3]
        # "getting" -> "get", "stopping" -> "stop", but "calling" stays "call".
        if len(word) > 2 and word[-1] == word[-2] and word[-1] not in "lsz":
            word = word[:-1]
        return word
    if len(word) > 5 and word.endswith("ly"):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True, slots=True)
class _Name:
    """A way of naming a topic or a section, as content tokens."""

    tokens: tuple[str, ...]
    topic: str
    section: str | None


@dataclass(frozen=True, slots=True)
class _Phrase:
    """A command phrasing as tokens; `exact` ones are matched with their filler words too."""

    intent: IntentName
    tokens: tuple[str, ...]
    exact: bool


def _find_run(needle: Sequence[str], haystack: Sequence[str]) -> int:
    """Index where `needle` occurs in a row inside `haystack`, or -1."""
    size = len(needle)
    for start in range(len(haystack) - size + 1):
        if tuple(haystack[start : start + size]) == tuple(needle):
            return start
    return -1


class Understanding:
    """Maps text to an Intent using one content Library and its command phrasings."""

    def __init__(self, library: Library, commands: CommandWords | None = None) -> None:
        self.library = library
        self.commands = commands if commands is not None else load_commands(library.root)
        words = self.commands
        self._fillers = words.fillers
        self._synonyms = words.synonyms
        self._negations = frozenset(stem(w) for w in words.negations)
        self._glue = frozenset(
            stem(w) for w in (*words.requests, *words.stopwords, *words.question_words)
        )
        # Words that do not count when ranking answers (see `_ranked`), as said and stemmed.
        unranked = words.fillers | words.requests | words.stopwords
        self._unranked = frozenset(unranked | {stem(w) for w in unranked})
        # Words of the politeness wrappers ("can we {}", "let us {}"): expected around a command.
        self._frame = frozenset(
            stem(w) for wrapper in words.wrappers for w in wrapper.replace("{}", " ").split()
        )
        self._hesitation_stems = frozenset(stem(w) for w in words.hesitations)
        self._command_phrases: list[_Phrase] = []
        for intent, phrasings in words.commands.items():
            for phrasing in phrasings:
                said = self._canonical(phrasing.split())
                tokens = self._content(said)
                # "what can I do" is fillers and glue words only: matched word for word, or
                # "what" alone would be a command.
                exact = set(tokens) <= self._glue and len(said) > len(tokens)
                if exact or not tokens:
                    tokens, exact = tuple(stem(w) for w in said), True
                self._command_phrases.append(_Phrase(intent, tokens, exact))
        self._phrases_of: dict[IntentName, list[_Phrase]] = {}
        for phrase in self._command_phrases:
            self._phrases_of.setdefault(phrase.intent, []).append(phrase)
        # How specific each word is to each command: 1 / number of commands using it.
        # Only short phrasings lend their words as keywords: every word of "too loud" carries
        # the wish, but "time" in "one more time" does not ("what time is it").
        users: dict[str, set[IntentName]] = {}
        for phrase in self._command_phrases:
            if phrase.exact or len(phrase.tokens) > KEYWORD_PHRASE_WORDS:
                continue
            for token in phrase.tokens:
                users.setdefault(token, set()).add(phrase.intent)
        self._command_words = tuple(words.commands)
        self._keyword_weight = {
            (token, intent): 1.0 / len(owners)
            for token, owners in users.items() for intent in owners
        }
        # "yes please", "um no": fillers that are no reply word of their own are dropped, and
        # what is left must be a reply word for word ("no more" is still a stop).
        reply_words = {w for phrasings in (*words.replies.values(), *words.actions.values())
                       for p in phrasings for w in self._canonical(p.split())}
        reply_words |= set(words.action_synonyms)  # "we" in "where are we" is no filler
        self._reply_ignored = (self._fillers - reply_words) | {"please", "thank", "thanks", "you"}
        self._reply_of = {
            tuple(self._reply_core(p.split())): name
            for name, phrasings in words.replies.items() for p in phrasings
        }
        self._reply_of.pop((), None)
        self._action_synonyms = words.action_synonyms
        self._action_of = {
            self._action_key(p.split()): action
            for action, phrasings in words.actions.items() for p in phrasings
        }
        self._action_of.pop((), None)
        self._names: list[_Name] = []
        for topic in library.topics:
            for label in (topic.title, topic.id.replace("-", " "), *topic.aliases):
                self._add_name(label, topic.id, None)
            for section in topic.sections:
                for label in (section.title, section.id.replace("-", " "), *section.aliases):
                    self._add_name(label, topic.id, section.id)
        # A patient's phrases for the content's words, compared by stem ("doctors disagreeing").
        self._paraphrases = {
            tuple(stem(w) for w in said): meant for said, meant in words.paraphrases.items()
        }
        self._forms = {
            tuple(stem(w) for w in said): meant for said, meant in words.question_forms.items()
        }
        self._passages = Passages(library, self._index_tokens)
        self._everyday = frozenset(
            token for phrase in words.background
            for token in self._ranked(self._canonical(phrase.split()))
        )

    def _add_name(self, label: str, topic: str, section: str | None) -> None:
        tokens = self._content(self._canonical(normalize(label)))
        if tokens:
            self._names.append(_Name(tokens, topic, section))

    def _reply_core(self, words: Sequence[str]) -> list[str]:
        return [w for w in self._canonical(words) if w not in self._reply_ignored]

    def _action_key(self, words: Sequence[str]) -> tuple[str, ...]:
        """A phrasing or an utterance as the actions are matched: a reply's core, with the
        [words] action_synonyms in place ("which page am i on" as "what section am i in")."""
        return tuple(token for word in self._reply_core(words)
                     for token in self._action_synonyms.get(word, (word,)))

    def reply(self, text: str) -> str | None:
        """ "yes" or "no" when the text is one of the [replies] in commands.toml, else None."""
        return self._reply_of.get(tuple(self._reply_core(normalize(text))))

    def _canonical(self, words: Sequence[str]) -> list[str]:
        """Synonyms (from commands.toml) replaced by the words they stand for; a word said
        twice in a row ("wait wait") counted once."""
        result: list[str] = []
        for word in words:
            meant = self._synonyms.get(word) or self._synonyms.get(stem(word)) or (word,)
            for token in meant:
                if not result or result[-1] != token:
                    result.append(token)
        return result

    def _content(self, words: Sequence[str]) -> tuple[str, ...]:
        return tuple(stem(w) for w in words if w not in self._fillers)

    def _index_tokens(self, text: str) -> list[str]:
        return self._ranked(self._canonical(self._paraphrased(normalize(text))))

    def _paraphrased(self, words: Sequence[str]) -> list[str]:
        return paraphrased(words, self._paraphrases, stem)

    def _ranked(self, words: Sequence[str]) -> list[str]:
        """Tokens that count when ranking answers: no fillers, requests or common words."""
        tokens = (root(stem(w)) for w in words if w not in self._unranked)
        # Also when only the stem is a common word: "ones", "getting", "wants", "looked".
        return [token for token in tokens if token not in self._unranked]

    def understand(self, text: str) -> Intent:
        """The intent of one utterance or typed line; `none` when it is not for the kiosk."""
        said = normalize(text)
        heard = " ".join(said) or None
        words = self._canonical(said)
        reply = self._reply_of.get(tuple(self._reply_core(said)))
        if reply is not None:
            return Intent(IntentName.NONE, confidence=0.0, heard=heard, reply=reply)
        action = self._action_of.get(self._action_key(said))
        if action is not None:
            return Intent(IntentName.HELP, heard=heard, action=action)
        if not words:
            return Intent(IntentName.NONE, confidence=0.0, heard=heard)
        for intent in (self._command(words), self._name(words), self._question(said)):
            if intent is not None:
                return Intent(
                    intent.name, intent.topic, intent.section, intent.answer,
                    intent.confidence, heard,
                )
        return Intent(IntentName.NONE, confidence=0.0, heard=heard)

    def _placed(self, words: Sequence[str]) -> tuple[list[str], list[int | None], list[str]]:
        """(every word's stem, where each word sits among the content tokens (None for a
        filler), the content tokens): worked out once per utterance for all commands."""
        stems = [stem(w) for w in words]
        position: list[int | None] = []
        count = 0
        for word in words:
            if word in self._fillers:
                position.append(None)
            else:
                position.append(count)
                count += 1
        tokens = [stems[i] for i, at in enumerate(position) if at is not None]
        return stems, position, tokens

    def _explained(
        self, intent: IntentName, placed: tuple[list[str], list[int | None], list[str]]
    ) -> tuple[set[int], set[int], bool]:
        """(positions of content tokens that `intent`'s phrasings explain, positions their runs
        cover, whether a negation comes just before a run).

        A run of a phrasing explains its words that are not glue ("go home" explains "home"),
        or all of them when every one is glue ("go on").
        """
        stems, position, tokens = placed
        covered: set[int] = set()
        explained: set[int] = set()
        starts: list[int] = []
        # Where each word not a hesitation sits: "what did it just say" says "what did it say".
        spoken = [index for index, word in enumerate(stems) if word not in self._hesitation_stems]
        for phrase in self._phrases_of.get(intent, ()):
            if phrase.exact:
                start = _find_run(phrase.tokens, stems)
                if start >= 0:
                    indices = list(range(start, start + len(phrase.tokens)))
                else:
                    start = _find_run(phrase.tokens, [stems[index] for index in spoken])
                    indices = spoken[start:start + len(phrase.tokens)] if start >= 0 else []
                if not indices:
                    continue
                run = [at for at in (position[index] for index in indices) if at is not None]
            else:
                start = _find_run(phrase.tokens, tokens)
                if start < 0:
                    continue
                run = list(range(start, start + len(phrase.tokens)))
            informative = [at for at in run if tokens[at] not in self._glue]
            covered.update(run)
            # A run of glue words alone ("go on") is one piece of evidence, not one per word,
            # unless the phrasing is said word for word ("i did not hear").
            explained.update(informative or (run if phrase.exact else run[:1]))
            starts += run[:1]
        negated = any(
            at > 0 and at - 1 not in covered and tokens[at - 1] in self._negations
            for at in starts
        )
        return explained, covered, negated

    def _command(self, words: Sequence[str]) -> Intent | None:
        """The command whose phrasings best explain the utterance, if they explain enough of it.

        A token counts fully for an intent when a run of one of that intent's phrasings
        explains it ("too slow"), and partly when it is merely one of its words ("slow", shared
        with other intents). Glue words ("take", "go", "too") neither explain nor count against
        unless a phrasing is made of them alone: "go home" explains "go home after this" only by
        half. Any other word not explained counts against.
        """
        tokens = self._content(words)
        if not tokens:
            # A phrasing of fillers alone ("that will do") can only be matched word for word,
            # hesitations aside: "what did it just say" is "what did it say".
            stems = [stem(w) for w in words]
            spoken = [s for s in stems if s not in self._hesitation_stems]
            for phrase in self._command_phrases:
                if phrase.exact and (_find_run(phrase.tokens, stems) >= 0
                                     or _find_run(phrase.tokens, spoken) >= 0):
                    return Intent(phrase.intent, confidence=1.0)
            return None
        best: tuple[float, float, float, IntentName] | None = None
        tied = False
        placed = self._placed(words)
        for intent in self._command_words:
            runs, covered, negated = self._explained(intent, placed)
            if negated:  # "please do not stop": not a wish for this command
                continue
            score = float(len(covered))
            # A word this intent shares with others explains it only in part ("up" of "shut
            # up" is one of many intents' words): it counts by its weight.
            explained, unexplained = float(len(runs)), 0
            for index, token in enumerate(tokens):
                if index in runs or token in self._glue:
                    continue
                weight = self._keyword_weight.get((token, intent), 0.0)
                if weight:
                    score += weight
                    explained += weight
                else:
                    unexplained += 1
            if score < 0.9 or not explained:
                continue
            # Keywords scattered among other words ("how menu keep are ahead") are not a
            # command: with a word left unexplained, a phrasing must be said in a row.
            if unexplained and not covered:
                continue
            share = explained / (explained + unexplained)
            # Glue words that no phrasing or politeness wrapper accounts for ("too to see you
            # skip") leave the utterance less than wholly explained.
            loose = sum(
                1 for index, token in enumerate(tokens)
                if token in self._glue and index not in covered and token not in self._frame
            )
            # ...and when they far outnumber what is explained ("is there what are stop please
            # the you"), the command word is more likely a mishearing inside other talk.
            if loose > MAX_LOOSE_GLUE * explained:
                continue
            certainty = share * min(1.0, score) * explained / (explained + LOOSE_GLUE * loose)
            rank = (score * share, share, certainty, intent)
            if best is None or rank[:2] > best[:2]:
                best, tied = rank, False
            elif rank[:2] == best[:2]:
                tied = True
        # Words that two commands explain equally well ("keep ahead": keep going or keep
        # reading, skip ahead or go ahead) do not say which one is meant.
        if best is None or best[1] < COMMAND_THRESHOLD or tied:
            return None
        _, _, certainty, intent = best
        return Intent(intent, confidence=certainty)

    def _opening(self, words: Sequence[str]) -> bool | None:
        """True for a question opening ("i was wondering if"), False for a request opening
        ("could you tell me about"), None for neither; openings count after fillers and
        question words ("um could you ...")."""
        skippable = self._fillers | self.commands.question_words
        commands = self.commands
        for openings, verdict in ((commands.request_openings, False),
                                  (commands.question_openings, True)):
            for index, word in enumerate(words):
                rest = " ".join(words[index:]) + " "
                if any(rest.startswith(f"{opening} ") for opening in openings):
                    return verdict
                if word not in skippable:
                    break
        return None

    def _is_question(self, words: Sequence[str]) -> bool:
        """Starts with a question word or an indirect one ("i was wondering if"), or asks one
        after a statement ("..., so could i ..."); and is not a request put as a question
        ("could you tell me about ...")."""
        opening = self._opening(words)
        if opening is not None:
            return opening
        # "um, what are ...": the first word that is not a hesitation ("i am ..." is not asked).
        hesitations = self.commands.hesitations
        first = next((word for word in words if word not in hesitations), "")
        if first in self.commands.question_words:
            return True
        # A question asked after a statement ("i have no symptoms so could i still have
        # cancer"): an auxiliary before its subject.
        return any(
            word in self.commands.auxiliaries and after in self.commands.subjects
            for word, after in itertools.pairwise(words)
        )

    def _name(self, words: Sequence[str]) -> Intent | None:
        """The topic or section the utterance names.

        All of a target's names count together ("insurance coverage" names one section twice),
        and a section's topic's names count for the section ("types of calcifications"). Request
        words around the names ("tell me about ...") and glue words do not count against; any
        other word does. A question is taken as a name only when it is one, word for word
        ("when opinions differ").
        """
        tokens = self._content(words)
        if not tokens:
            return None
        question = self._is_question(words)
        targets: dict[tuple[str, str | None], set[int]] = {}
        topics: dict[str, set[int]] = {}
        for name in self._names:
            start = _find_run(name.tokens, tokens)
            if start < 0 or (question and len(name.tokens) != len(tokens)):
                continue
            run = range(start, start + len(name.tokens))
            targets.setdefault((name.topic, name.section), set()).update(run)
            if name.section is None:
                topics.setdefault(name.topic, set()).update(run)
        best: tuple[float, int, tuple[str, str | None]] | None = None
        for target, covered in targets.items():
            topic, section = target
            if section is not None:
                covered = covered | topics.get(topic, set())
            rest = [
                token for index, token in enumerate(tokens)
                if index not in covered and token not in self._glue
            ]
            score = len(covered) / (len(covered) + len(rest))
            # A section name is more specific than a topic alias that says the same words.
            rank = (score, 1 if section else 0, target)
            if best is None or rank[:2] > best[:2]:
                best = rank
        if best is None or best[0] < NAME_THRESHOLD:
            return None
        score, _, (topic, section) = best
        if section is None:
            return Intent(IntentName.TOPIC, topic=topic, confidence=score)
        return Intent(IntentName.SECTION, topic=topic, section=section, confidence=score)

    def _question(self, said: Sequence[str]) -> Intent | None:
        """The passage that answers a question (or a statement about the content), if any."""
        words = self._canonical(said)
        query = self._passages.corrected(self._index_tokens(" ".join(said)))
        # A question, or a request for something the content tells ("tell me about menopause").
        question = self._is_question(words) or self._opening(words) is False
        # One content word of a statement ("let me think") is too little to answer, and so is
        # one of a question when everyday talk uses it too ("what time is it").
        if len(query) < 2 and (not query or not question or query[0] in self._everyday):
            return None
        hints = [
            token for token in paraphrased(said, self._forms, stem)
            if token not in said and token in self._passages.vocabulary
        ]
        return self._passages.answer(query, question, hints)


def understand(text: str, understanding: Understanding) -> Intent:
    """Functional shorthand for `understanding.understand(text)`."""
    return understanding.understand(text)
