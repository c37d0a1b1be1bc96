"""The recogniser's search, built at start-up from content and command phrasings.

Three kinds are supported so they can be measured against each other (docs/voice.md):
- "lm": a small trigram language model over commands, names in carrier phrasings, the content's
  own sentences (so questions about it are heard) and everyday background talk (so chatter is
  heard as chatter, not forced onto a command);
- "jsgf": a JSGF grammar of commands and carrier + name, validated here before pocketsphinx sees it
  (a malformed grammar can crash the process);
- "kws": keyphrase spotting of commands and names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from kiosk.command_words import CommandWords
from kiosk.library import Library
from kiosk.listening.language_model import build_arpa
from kiosk.words import normalize

SEARCH_KINDS = ("lm", "jsgf", "kws")
_WORD = re.compile(r"^[a-z0-9']+$")


class SearchError(ValueError):
    """A search that must not reach the decoder; `code` is stable."""

    code = "search"


@dataclass(frozen=True, slots=True)
class Phrases:
    """The word sequences the kiosk listens for, grouped by where they came from."""

    commands: tuple[tuple[str, ...], ...]
    names: tuple[tuple[str, ...], ...]
    carriers: tuple[str, ...]
    wrappers: tuple[str, ...]
    sentences: tuple[tuple[str, ...], ...]
    background: tuple[tuple[str, ...], ...]
    #: Asking for the kiosk's own actions ("where am i", "adjust"): commands, but in the language
    #: model at a weight of their own (their many phrasings would crowd out the short commands).
    actions: tuple[tuple[str, ...], ...] = ()

    def words(self) -> set[str]:
        """Every word any search may use."""
        groups = (self.commands, self.names, self.sentences, self.background, self.actions)
        found = {word for group in groups for phrase in group for word in phrase}
        for carrier in (*self.carriers, *self.wrappers):
            found.update(carrier.replace("{}", " ").split())
        return found

    def without(self, missing: Iterable[str]) -> Phrases:
        """The same phrases minus any that use a word with no pronunciation."""
        gone = set(missing)

        def keep(group: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
            return tuple(p for p in group if not gone.intersection(p))

        carriers = tuple(c for c in self.carriers if not gone.intersection(c.split()))
        wrappers = tuple(c for c in self.wrappers if not gone.intersection(c.split()))
        return Phrases(
            keep(self.commands), keep(self.names), carriers, wrappers, keep(self.sentences),
            keep(self.background), keep(self.actions),
        )


#: How people run words together when they speak. The phrases are written out in full (that is
#: how the understanding reads them); the recogniser also listens for the spoken form ("what's
#: next", "i didn't hear that"), which the understanding spells out again.
SPOKEN_CONTRACTIONS: dict[tuple[str, str], str] = {
    ("can", "not"): "can't", ("do", "not"): "don't", ("did", "not"): "didn't",
    ("does", "not"): "doesn't", ("is", "not"): "isn't", ("are", "not"): "aren't",
    ("was", "not"): "wasn't", ("will", "not"): "won't", ("could", "not"): "couldn't",
    ("would", "not"): "wouldn't", ("should", "not"): "shouldn't",
    ("i", "am"): "i'm", ("i", "have"): "i've", ("i", "would"): "i'd", ("i", "will"): "i'll",
    ("let", "us"): "let's", ("you", "are"): "you're", ("we", "are"): "we're",
    ("they", "are"): "they're", ("it", "is"): "it's", ("that", "is"): "that's",
    ("what", "is"): "what's", ("where", "is"): "where's", ("how", "is"): "how's",
    ("who", "is"): "who's", ("there", "is"): "there's", ("here", "is"): "here's",
}


def contracted(words: tuple[str, ...]) -> tuple[str, ...]:
    """The same words as they are usually spoken: "what is next" -> "what's next"."""
    spoken: list[str] = []
    for word in words:
        if spoken and (spoken[-1], word) in SPOKEN_CONTRACTIONS:
            spoken[-1] = SPOKEN_CONTRACTIONS[(spoken[-1], word)]
        else:
            spoken.append(word)
    return tuple(spoken)


def _with_spoken(phrases: Iterable[tuple[str, ...]]) -> tuple[tuple[str, ...], ...]:
    """Each phrase, followed by its contracted form when that differs."""
    return tuple(dict.fromkeys(form for p in phrases for form in (p, contracted(p)) if form))


def _templates_with_spoken(templates: Iterable[str]) -> tuple[str, ...]:
    """Templates ("let us {}") with their contracted forms ("let's {}")."""
    return tuple(" ".join(form) for form in _with_spoken(tuple(t.split()) for t in templates))


def collect_phrases(
    library: Library, commands: CommandWords, extra: Iterable[str] = ()
) -> Phrases:
    """Everything to listen for, from content (and `extra`, such as the wake phrase)."""
    names: list[tuple[str, ...]] = []
    for topic in library.topics:
        for label in (topic.title, *topic.aliases):
            names.append(tuple(normalize(label)))
        for section in topic.sections:
            for label in (section.title, *section.aliases):
                names.append(tuple(normalize(label)))
    sentences = [tuple(normalize(s.text)) for sec in library.sections() for s in sec.sentences]
    said = (*commands.commands.values(), *commands.replies.values())
    return Phrases(
        commands=_with_spoken(
            [tuple(p.split()) for phrasings in said for p in phrasings]
            + [tuple(normalize(p)) for p in extra if normalize(p)]
        ),
        names=_with_spoken(names),
        carriers=_templates_with_spoken(commands.carriers),
        wrappers=_templates_with_spoken(commands.wrappers),
        sentences=_with_spoken(sentences),
        background=_with_spoken(tuple(p.split()) for p in commands.background),
        actions=_with_spoken(
            tuple(p.split()) for phrasings in commands.actions.values() for p in phrasings),
    )


#: How much each kind of phrase counts in the language model (measured, see docs/voice.md).
LM_WEIGHTS = {
    "commands": 8.0, "names": 4.0, "carriers": 1.0, "wrappers": 1.0, "sentences": 0.3,
    "background": 1.0, "actions": 1.0,
}


def language_model(phrases: Phrases) -> str:
    """ARPA text; commands and names weigh more than the content's long sentences."""
    weights = LM_WEIGHTS
    weighted: list[tuple[tuple[str, ...], float]] = []
    weighted += [(p, weights["commands"]) for p in phrases.commands]
    weighted += [(n, weights["names"]) for n in phrases.names]
    weighted += [(p, weights["carriers"]) for p in _filled(phrases.carriers, phrases.names)]
    weighted += [(p, weights["wrappers"]) for p in _filled(phrases.wrappers, phrases.commands)]
    if weights["sentences"]:
        weighted += [(s, weights["sentences"]) for s in phrases.sentences]
    if weights["actions"]:
        weighted += [(a, weights["actions"]) for a in phrases.actions]
    if weights["background"]:
        weighted += [(b, weights["background"]) for b in phrases.background]
    return build_arpa(weighted)


def _halves(template: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words before and after the slot: "tell me about {} please" -> (tell me about, please)."""
    before, _, after = template.partition("{}")
    return tuple(before.split()), tuple(after.split())


def _filled(templates: Iterable[str], fillers: Iterable[tuple[str, ...]]) -> list[tuple[str, ...]]:
    """Every template with every filler in its slot."""
    fillers = tuple(fillers)
    filled: list[tuple[str, ...]] = []
    for template in templates:
        before, after = _halves(template)
        filled += [(*before, *filler, *after) for filler in fillers]
    return filled


def _edges(templates: Iterable[str]) -> tuple[set[tuple[str, ...]], set[tuple[str, ...]]]:
    """The distinct non-empty word runs before the slot, and after it."""
    halves = [_halves(template) for template in templates]
    return {b for b, _ in halves} - {()}, {a for _, a in halves} - {()}


def _alternatives(phrases: Iterable[tuple[str, ...]]) -> str:
    return " | ".join(" ".join(p) for p in sorted(set(phrases)) if p)


def jsgf_grammar(phrases: Phrases) -> str:
    """A JSGF grammar: a command, or a name alone or inside a carrier phrasing."""
    prefixes, suffixes = _edges(phrases.carriers)
    polite, thanks = _edges(phrases.wrappers)
    rules = [
        "#JSGF V1.0;",
        "grammar kiosk;",
        f"<command> = {_alternatives((*phrases.commands, *phrases.actions))};",
        f"<name> = {_alternatives(phrases.names)};",
    ]
    body = "<command> | <name>"
    optional = (
        ("before", prefixes, "<before> <name>"),
        ("after", suffixes, "<name> <after>"),
        ("polite", polite, "<polite> <command>"),
        ("thanks", thanks, "<command> <thanks>"),
    )
    for rule, alternatives, use in optional:
        if alternatives:
            rules.append(f"<{rule}> = {_alternatives(alternatives)};")
            body += f" | {use}"
    rules.append(f"public <utterance> = {body};")
    return "\n".join(rules) + "\n"


def keyphrases(phrases: Phrases) -> list[str]:
    """Phrases for keyphrase spotting: commands and names."""
    return sorted({" ".join(p) for p in (*phrases.commands, *phrases.actions, *phrases.names)
                   if p})


def validate_grammar(grammar: str, known: Mapping[str, object]) -> None:
    """Raise SearchError unless `grammar` is a JSGF text this module could have written.

    pocketsphinx may abort the process on a malformed grammar, so every rule, word and bracket is
    checked here first.
    """
    lines = grammar.strip().splitlines()
    if len(lines) < 3 or lines[0] != "#JSGF V1.0;" or not lines[1].startswith("grammar "):
        raise SearchError("grammar header is missing")
    defined: set[str] = set()
    used: set[str] = set()
    public = 0
    for line in lines[2:]:
        match = re.fullmatch(r"(public )?<([a-z]+)> = (.+);", line)
        if match is None:
            raise SearchError(f"malformed grammar rule: {line[:60]!r}")
        public += bool(match.group(1))
        defined.add(match.group(2))
        for alternative in match.group(3).split("|"):
            tokens = alternative.split()
            if not tokens:
                raise SearchError(f"empty alternative in rule <{match.group(2)}>")
            for token in tokens:
                if token.startswith("<"):
                    if not re.fullmatch(r"<[a-z]+>", token):
                        raise SearchError(f"bad rule reference {token!r}")
                    used.add(token[1:-1])
                elif not _WORD.match(token):
                    raise SearchError(f"bad word {token!r} in grammar")
                elif token not in known:
                    raise SearchError(f"grammar word {token!r} has no pronunciation")
    if public != 1:
        raise SearchError("grammar needs exactly one public rule")
    if used - defined:
        raise SearchError(f"grammar uses undefined rules: {', '.join(sorted(used - defined))}")
