"""The command phrasings: `commands.toml` -> CommandWords, with file:line problems.

Its own module so that both the library (which checks a content tree, commands.toml included)
and the understanding (which matches utterances against the phrasings) use it without importing
each other. The format: [commands] lists each command's phrasings; [words] the word lists that
shape matching (fillers, requests, synonyms, ...); [background] talk that is no command;
[replies] the ways of saying yes and no; [actions] the ways of asking for the kiosk's own actions
that have no intent of their own ("where am I", "adjust").
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.files import TEXT_ENCODING
from kiosk.intents import COMMAND_INTENTS, VOICE_ACTIONS, Action, IntentName
from kiosk.problems import ContentProblem
from kiosk.words import normalize

COMMANDS_FILE = "commands.toml"
#: The answers to "Did you mean ...?" ([replies] in commands.toml).
REPLIES = ("yes", "no")


@dataclass(frozen=True, slots=True)
class CommandWords:
    """The content of commands.toml: command phrasings and the word lists that shape matching."""

    commands: Mapping[IntentName, tuple[str, ...]]
    fillers: frozenset[str]
    requests: frozenset[str]
    question_words: frozenset[str]
    request_openings: tuple[str, ...]
    stopwords: frozenset[str]
    carriers: tuple[str, ...]
    wrappers: tuple[str, ...]
    background: tuple[str, ...]
    #: word -> the words it stands for here ("sound" -> ("volume",), "cant" -> ("can", "not")).
    synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: Words that, just before a command, turn it down ("do not stop").
    negations: frozenset[str] = frozenset()
    #: Openings that make a question of what follows ("i was wondering if ...").
    question_openings: tuple[str, ...] = ()
    #: Fillers that may come before a question word without making it a statement ("um what
    #: is"), unlike "i" in "i am here".
    hesitations: frozenset[str] = frozenset()
    #: An auxiliary just before one of the subjects asks a question anywhere in an utterance
    #: ("i have no symptoms so could i ...").
    auxiliaries: frozenset[str] = frozenset()
    subjects: frozenset[str] = frozenset()
    #: "yes" and "no" -> the ways of saying them, to answer "Did you mean ...?".
    replies: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: The kiosk's own actions asked for by voice -> the ways of saying them (word for word,
    #: as replies are matched).
    actions: Mapping[Action, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    #: Words that mean the same in those phrasings only, as `synonyms` ("on" in "what section
    #: am i on" as "in"): matching stays word for word, so "where is the toilet" stays apart.
    action_synonyms: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    #: How patients say the content's things, for answering questions: said phrase -> the
    #: content's words ("change of life" -> ("menopause",)).
    paraphrases: Mapping[tuple[str, ...], tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    #: What a question's form asks after ("where" -> ("place",)): a hint between passages
    #: that answer its words equally well, never evidence of its own.
    question_forms: Mapping[tuple[str, ...], tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))

    def phrases(self) -> Iterable[str]:
        """Every phrasing written here: commands, replies and actions, word for word."""
        for phrasings in (*self.commands.values(), *self.replies.values(),
                          *self.actions.values()):
            yield from phrasings


class CommandsError(ValueError):
    """commands.toml is missing or wrong; `problems` says where."""

    code = "commands"

    def __init__(self, problems: Sequence[ContentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


def _word_list(
    data: Mapping[str, Any], key: str, path: Path, problems: list[ContentProblem]
) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(
            ContentProblem(path, 1, "bad-list", f"{key} must be a list of words in quotes")
        )
        return ()
    return tuple(" ".join(normalize(v)) for v in value if normalize(v))


def _carriers(
    data: Mapping[str, Any], key: str, path: Path, problems: list[ContentProblem]
) -> tuple[str, ...]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(v, str) and v.count("{}") == 1 for v in value
    ):
        problems.append(ContentProblem(
            path, 1, f"bad-{key}", f"{key} must be a list of phrasings, each with one {{}}",
        ))
        return ()
    return tuple(
        " {} ".join(" ".join(normalize(part)) for part in v.split("{}")).strip() for v in value
    )


def _synonyms(
    data: Mapping[str, Any], path: Path, problems: list[ContentProblem], key: str = "synonyms"
) -> Mapping[str, tuple[str, ...]]:
    """ "volume = sound, loudness" -> {"sound": ("volume",), "loudness": ("volume",)}."""
    value = data.get(key, [])
    table: dict[str, tuple[str, ...]] = {}
    for entry in value if isinstance(value, list) else [None]:
        meant, equals, others = entry.partition("=") if isinstance(entry, str) else ("", "", "")
        words = [normalize(other) for other in others.split(",")]
        if not (equals and normalize(meant) and words and all(len(w) == 1 for w in words)):
            problems.append(ContentProblem(
                path, 1, f"bad-{key}".replace("_", "-"),
                f"{key} must be a list like \"volume = sound, loudness\" (one word after "
                f"=, each); got {entry!r}",
            ))
            continue
        for (word,) in words:
            table[word] = tuple(normalize(meant))
    return MappingProxyType(table)


def _paraphrases(
    data: Mapping[str, Any], key: str, path: Path, problems: list[ContentProblem]
) -> Mapping[tuple[str, ...], tuple[str, ...]]:
    """ "menopause = change of life, the change" -> {("change", "of", "life"): ("menopause",),
    ...}: like synonyms, but a phrase of any length on either side."""
    value = data.get(key, [])
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for entry in value if isinstance(value, list) else [None]:
        meant, equals, others = entry.partition("=") if isinstance(entry, str) else ("", "", "")
        said = [tuple(normalize(other)) for other in others.split(",")]
        if not (equals and normalize(meant) and said and all(said)):
            problems.append(ContentProblem(
                path, 1, f"bad-{key}".replace("_", "-"),
                f"{key} must be a list like \"menopause = change of life, the change\"; "
                f"got {entry!r}",
            ))
            continue
        for phrase in said:
            table[phrase] = tuple(normalize(meant))
    return MappingProxyType(table)


def check_commands(language_dir: Path) -> tuple[CommandWords | None, list[ContentProblem]]:
    """Read `commands.toml` from a content folder: (CommandWords or None, problems)."""
    path = Path(language_dir) / COMMANDS_FILE
    problems: list[ContentProblem] = []
    try:
        data = tomllib.loads(path.read_text(encoding=TEXT_ENCODING))
    except FileNotFoundError:
        return None, [ContentProblem(path, 0, "missing", "command phrasings file not found")]
    except (OSError, UnicodeDecodeError) as error:
        return None, [ContentProblem(path, 0, "unreadable", f"cannot read: {error}")]
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"line (\d+)", str(error))
        line = int(match.group(1)) if match else 1
        return None, [ContentProblem(path, line, "syntax", str(error).split(" (at")[0])]
    unknown = set(data) - {"commands", "words", "background", "replies", "actions"}
    for key in sorted(unknown):
        problems.append(ContentProblem(path, 1, "unknown-key", f"unknown table [{key}]"))
    table = data.get("commands", {})
    commands: dict[IntentName, tuple[str, ...]] = {}
    if not isinstance(table, dict):
        problems.append(ContentProblem(path, 1, "bad-commands", "[commands] must be a table"))
        table = {}
    known = {str(name) for name in COMMAND_INTENTS}
    for name, _phrasings in table.items():
        if name not in known:
            problems.append(ContentProblem(
                path, 1, "unknown-command",
                f"unknown command {name!r}; known: {', '.join(sorted(known))}",
            ))
            continue
        phrasings = _word_list(table, name, path, problems)
        commands[IntentName(name)] = phrasings
    for name in sorted(known - set(table)):
        problems.append(ContentProblem(path, 1, "missing-command", f"no phrasings for {name!r}"))
    words = data.get("words", {})
    background = data.get("background", {})
    replies = data.get("replies", {})
    actions = data.get("actions", {})
    if not all(isinstance(table, dict) for table in (words, background, replies, actions)):
        problems.append(ContentProblem(
            path, 1, "bad-table", "[words], [background], [replies] and [actions] are tables"))
        words, background, replies, actions = {}, {}, {}, {}
    for name in sorted(set(replies) - set(REPLIES)):
        problems.append(ContentProblem(
            path, 1, "unknown-reply", f"unknown reply {name!r}; known: {', '.join(REPLIES)}"))
    voice_actions = [str(action) for action in VOICE_ACTIONS]
    for name in sorted(set(actions) - set(voice_actions)):
        problems.append(ContentProblem(
            path, 1, "unknown-action",
            f"unknown action {name!r}; known: {', '.join(voice_actions)}"))
    result = CommandWords(
        commands=MappingProxyType(commands),
        fillers=frozenset(_word_list(words, "fillers", path, problems)),
        requests=frozenset(_word_list(words, "requests", path, problems)),
        question_words=frozenset(_word_list(words, "question_words", path, problems)),
        request_openings=_word_list(words, "request_openings", path, problems),
        stopwords=frozenset(_word_list(words, "stopwords", path, problems)),
        carriers=_carriers(words, "carriers", path, problems),
        wrappers=_carriers(words, "wrappers", path, problems),
        background=_word_list(background, "phrases", path, problems),
        synonyms=_synonyms(words, path, problems),
        negations=frozenset(_word_list(words, "negations", path, problems)),
        question_openings=_word_list(words, "question_openings", path, problems),
        hesitations=frozenset(_word_list(words, "hesitations", path, problems)),
        auxiliaries=frozenset(_word_list(words, "auxiliaries", path, problems)),
        subjects=frozenset(_word_list(words, "subjects", path, problems)),
        replies=MappingProxyType(
            {name: _word_list(replies, name, path, problems) for name in REPLIES if name in replies}
        ),
        actions=MappingProxyType({
            action: _word_list(actions, str(action), path, problems)
            for action in VOICE_ACTIONS if str(action) in actions
        }),
        action_synonyms=_synonyms(words, path, problems, "action_synonyms"),
        paraphrases=_paraphrases(words, "paraphrases", path, problems),
        question_forms=_paraphrases(words, "question_forms", path, problems),
    )
    return (None if problems else result), problems


def load_commands(language_dir: Path) -> CommandWords:
    """Read `commands.toml` or raise CommandsError naming every problem."""
    result, problems = check_commands(language_dir)
    if result is None:
        raise CommandsError(problems)
    return result
