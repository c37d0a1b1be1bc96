"""Content as data: content/<lang>/ -> Library of Topic -> Section -> Sentence, validated.

A content tree holds `topics/*.md` (TOML front matter between `+++` lines, then `## Title {#id}`
sections), `strings.toml` (interface wording), optionally `lexicon.toml` (pronunciations shared
by the speech and listening sides) and `commands.toml` (command phrasings, checked here by
kiosk.command_words). Every problem is reported as a ContentProblem (kiosk.problems) naming the file
and line; loading either returns a whole Library or raises ContentError with all problems found.
A topic's body is CommonMark, parsed by markdown-it-py, whose tokens (with their line ranges) give
the sections, paragraphs and list items; inline markup is reduced to its text.
"""

from __future__ import annotations

import logging
import re
import shutil
import string
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kiosk.command_words import COMMANDS_FILE, check_commands
from kiosk.files import TEXT_ENCODING
from kiosk.intents import COMMAND_INTENTS
from kiosk.problems import ContentProblem
from kiosk.sentences import split_sentences

log = logging.getLogger(__name__)
# markdown-it-py logs every block rule it tries at DEBUG (about 600 records for the bundled
# content): a kiosk set to log at DEBUG wants its own records, not those.
logging.getLogger("markdown_it").setLevel(logging.INFO)

#: A section longer than this is too long to listen to in one go (about 75 s at 150 wpm).
MAX_SECTION_WORDS = 190
#: Headings are read on buttons and said aloud: keep them short.
MAX_TITLE_CHARS = 40

TOPIC_KEYS = frozenset({"id", "title", "order", "aliases", "sections"})
SECTION_KEYS = frozenset({"aliases"})
LEXICON_KEYS = frozenset({"say", "ipa", "phones"})
#: ARPAbet phones known to the pocketsphinx en-US model.
ARPABET = frozenset({
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
})  # fmt: skip

#: Interface strings the kiosk needs, with the placeholders each must keep.
REQUIRED_STRINGS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "screen.app_title": frozenset(),
        "prompt.did_you_mean": frozenset({"meaning"}),
        "prompt.say_again": frozenset(),
        "button.yes": frozenset(),
        "button.no": frozenset(),
        **{f"meaning.{name}": frozenset() for name in sorted(COMMAND_INTENTS)},
        "screen.welcome": frozenset(),
        "screen.how_to_start": frozenset(),
        "screen.notice": frozenset(),
        "screen.topic_intro": frozenset({"topic"}),
        "screen.reader_intro": frozenset({"section"}),
        "screen.help_title": frozenset(),
        "screen.help_voice": frozenset(),
        "screen.help_keys": frozenset(),
        "screen.help_touch": frozenset(),
        "screen.end_of_section": frozenset(),
        "screen.end_of_topic": frozenset({"topic"}),
        "screen.answer_intro": frozenset({"section"}),
        "prompt.listening": frozenset(),
        "prompt.not_understood": frozenset(),
        "prompt.out_of_scope": frozenset(),
        "prompt.idle_warning": frozenset({"seconds"}),
        "prompt.visit_ended": frozenset(),
        "prompt.paused": frozenset(),
        "prompt.stopped": frozenset(),
    "prompt.continued": frozenset(),
    "prompt.at_fastest": frozenset(),
    "prompt.at_slowest": frozenset(),
    "prompt.at_loudest": frozenset(),
    "prompt.at_quietest": frozenset(),
    "prompt.text_size": frozenset({"step", "steps"}),
    "prompt.high_contrast_on": frozenset(),
    "prompt.high_contrast_off": frozenset(),
        "status.sound_unavailable": frozenset(),
        "status.sound_back": frozenset(),
        "status.microphone_unavailable": frozenset(),
        "status.microphone_back": frozenset(),
        "status.content_error": frozenset(),
        "status.staff_pin": frozenset(),
    "status.staff_wrong_pin": frozenset(),
    "status.content_error_detail": frozenset({"detail"}),
        "button.talk": frozenset(),
        "button.listen_screen": frozenset(),
        "button.read_all": frozenset(),
        "button.listen": frozenset(),
        "button.pause": frozenset(),
        "button.stop": frozenset(),
        "button.previous": frozenset(),
        "button.next": frozenset(),
        "button.repeat": frozenset(),
        "button.slower": frozenset(),
        "button.faster": frozenset(),
        "button.quieter": frozenset(),
        "button.louder": frozenset(),
        "button.text_size": frozenset(),
        "button.high_contrast": frozenset(),
        "button.home": frozenset(),
        "button.help": frozenset(),
        "button.back": frozenset(),
        "button.continue": frozenset(),
    }
)

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
#: CommonMark as written: the tokens are read, nothing is ever rendered as HTML.
_MARKDOWN = MarkdownIt("commonmark")
#: A heading's text: its title, then the project's optional `{#id}`.
_HEADING_TEXT = re.compile(r"(?P<title>.*?)\s*(?:\{#(?P<id>[^}]*)\})?\s*", re.DOTALL)
#: A word processor's bullet, which CommonMark does not know: read as "-" (one character for
#: one, so columns and line numbers stay).
_WORD_BULLET = re.compile(r"^([ \t]*)\u2022(?=[ \t])", re.MULTILINE)
_BAD_HEADING = "sections start with '## Title {#id}'; the topic title goes in front matter"
_UNDERLINED_HEADING = (
    "a line of '-' or '=' under text makes it a heading the kiosk does not use: start sections "
    "with '## Title {#id}', and leave a blank line above a '---' divider"
)
_FRONT = "+++"


@dataclass(frozen=True, slots=True)
class Sentence:
    """One sentence (or one list item) of a section: the unit that is spoken and highlighted."""

    id: str
    text: str
    line: int
    is_list_item: bool = False


@dataclass(frozen=True, slots=True)
class Section:
    """A titled part of a topic, short enough to listen to in one go."""

    id: str
    topic_id: str
    title: str
    sentences: tuple[Sentence, ...]
    aliases: tuple[str, ...]
    line: int

    @property
    def text(self) -> str:
        """The whole section as one string."""
        return " ".join(sentence.text for sentence in self.sentences)

    @property
    def word_count(self) -> int:
        return len(self.text.split())


@dataclass(frozen=True, slots=True)
class Topic:
    """One subject on the welcome screen, with its sections in reading order."""

    id: str
    title: str
    order: int
    aliases: tuple[str, ...]
    sections: tuple[Section, ...]
    source: Path

    def section(self, section_id: str) -> Section:
        for section in self.sections:
            if section.id == section_id:
                return section
        raise KeyError(f"{self.id}/{section_id}")


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """How to say a word (`say`, text for the synthesiser; `ipa`, phonemes for the natural
    voice) and hear it (`phones`, ARPAbet)."""

    word: str
    say: str | None
    phones: str | None
    line: int
    #: IPA as espeak-ng writes it (Piper's phoneme set), given to Piper as a [[ ]] block.
    ipa: str | None = None


@dataclass(frozen=True, slots=True)
class Library:
    """All content for one language, ready to show, speak and understand."""

    root: Path
    topics: tuple[Topic, ...]
    strings: Mapping[str, str]
    lexicon: Mapping[str, LexiconEntry] = field(default_factory=dict)

    def topic(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def find_topic(self, topic_id: str | None) -> Topic | None:
        """The topic with this id, or None (no id, or one the content does not have)."""
        return next((topic for topic in self.topics if topic.id == topic_id), None)

    def section(self, topic_id: str, section_id: str) -> Section:
        return self.topic(topic_id).section(section_id)

    def sections(self) -> Iterator[Section]:
        for topic in self.topics:
            yield from topic.sections

    def text(self, key: str, **values: object) -> str:
        """An interface string by its `group.name` key, with placeholders filled in."""
        template = self.strings[key]
        return template.format(**values) if values else template


class ContentError(Exception):
    """The content tree could not be loaded; `problems` says every reason."""

    code = "content"

    def __init__(self, problems: list[ContentProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in problems))


class _Problems:
    """Collects problems while a tree is read."""

    def __init__(self) -> None:
        self.items: list[ContentProblem] = []

    def add(self, path: Path, line: int, code: str, message: str) -> None:
        self.items.append(ContentProblem(path, line, code, message))


def _read_text(path: Path, problems: _Problems) -> str | None:
    try:
        raw = path.read_bytes()
    except OSError as error:
        problems.add(path, 0, "unreadable", f"cannot read: {error.strerror or error}")
        return None
    try:
        return raw.decode(TEXT_ENCODING)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        problems.add(path, line, "not-utf8", "file is not UTF-8 text; save it as UTF-8")
        return None


def _toml_error_line(error: tomllib.TOMLDecodeError) -> int:
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else 1


def _key_line(lines: list[str], key: str, start: int = 0, default: int = 1) -> int:
    """The 1-based line on which `key` is first written in a TOML text, for error messages."""
    pattern = re.compile(rf"^\s*\[?\s*(?:[\w.-]*\.)?{re.escape(key)}\s*[=\].]")
    for number, text in enumerate(lines[start:], start=start + 1):
        if pattern.match(text):
            return number
    return default


def _aliases(value: Any, path: Path, line: int, where: str, problems: _Problems) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        problems.add(
            path, line, "bad-aliases", f"{where} aliases must be a list of words in quotes"
        )
        return ()
    return tuple(" ".join(alias.lower().split()) for alias in value)


def _parse_front_matter(
    text: str, path: Path, problems: _Problems
) -> tuple[dict[str, Any], list[str], int] | None:
    """Return (front matter, body lines, line number of the first body line)."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != _FRONT:
        problems.add(path, 1, "front-matter-missing", f"the file must start with a '{_FRONT}' line")
        return None
    try:
        close = next(i for i in range(1, len(lines)) if lines[i].strip() == _FRONT)
    except StopIteration:
        problems.add(path, 1, "front-matter-unclosed", f"front matter has no closing '{_FRONT}'")
        return None
    try:
        data = tomllib.loads("\n".join(lines[1:close]))
    except tomllib.TOMLDecodeError as error:
        detail = str(error).split(" (at")[0]
        problems.add(path, 1 + _toml_error_line(error), "front-matter-syntax", detail)
        return None
    return data, lines[close + 1 :], close + 2


def _plain(tokens: Sequence[Token], line: int, on_html: Callable[[int, str], None]) -> str:
    """The text of inline tokens with their markup (emphasis, links, images, code) taken off:
    asterisks would be shown, and a web address read out, on a kiosk that cannot follow it. A
    link gives its text, an image its alt text; `on_html` is told the line of any raw HTML."""
    parts: list[str] = []
    for token in tokens:
        if token.type in ("text", "text_special", "code_inline"):
            parts.append(token.content)
        elif token.type in ("softbreak", "hardbreak"):
            parts.append(" ")
            line += 1
        elif token.type == "image":
            parts.append(_plain(token.children or (), line, on_html))
        elif token.type == "html_inline":
            on_html(line, token.content)
    return "".join(parts)


_Sections = list[tuple[str, str, int, list[tuple[str, int, bool]]]]


def _parse_body(
    body: list[str], first_line: int, path: Path, topic_id: str, problems: _Problems
) -> _Sections:
    """Split the Markdown body into (id, title, line, [(sentence, line, is_item)]).

    A paragraph gives its sentences, each at the paragraph's first line; a paragraph in a list
    item is one item. CommonMark blocks the kiosk cannot draw give their text as paragraphs (a
    block quote, a code block) or nothing (a thematic break); HTML is a problem.
    """
    sections: _Sections = []
    lines = _WORD_BULLET.sub(r"\1-", "\n".join(body)).split("\n")
    tokens = _MARKDOWN.parse("\n".join(lines))
    items = 0  # list items open around the current token
    html_lines: set[int] = set()

    def html(number: int, markup: str) -> None:
        if number not in html_lines:  # one problem a line is enough to find it
            html_lines.add(number)
            tag = markup.strip().split("\n")[0][:40]
            problems.add(
                path, number, "html", f"HTML {tag!r} is not shown on the kiosk; write plain text"
            )

    def check_lines(start: int, end: int, headings: bool) -> None:
        """Text before the first section, and lines opening with '#' that CommonMark reads as
        text ("##Title"): a heading gone wrong."""
        for offset in range(start, end):
            number = first_line + offset
            if headings and lines[offset].startswith("#"):
                problems.add(path, number, "bad-heading", _BAD_HEADING)
            elif not sections and lines[offset].strip():
                problems.add(
                    path, number, "text-outside-section", "text before the first '## ' heading"
                )

    for index, token in enumerate(tokens):
        if token.type == "list_item_open":
            items += 1
        elif token.type == "list_item_close":
            items -= 1
        if token.map is None or not token.block or token.type == "inline":
            continue
        start, end = token.map
        number = first_line + start
        if token.type == "heading_open":
            if token.markup in ("-", "="):
                problems.add(path, number, "bad-heading", _UNDERLINED_HEADING)
                continue
            if token.markup != "##" or token.level != 0:  # another level, or in a list or quote
                problems.add(path, number, "bad-heading", _BAD_HEADING)
                continue
            heading = _HEADING_TEXT.fullmatch(tokens[index + 1].content)
            assert heading is not None  # every text matches
            inline = _MARKDOWN.parseInline(heading.group("title"))
            title = _plain(inline[0].children or () if inline else (), number, html).strip()
            section_id = heading.group("id")
            if not title:
                problems.add(path, number, "missing-title", "section heading has no title")
            elif len(title) > MAX_TITLE_CHARS:
                problems.add(
                    path,
                    number,
                    "title-too-long",
                    f"section title is {len(title)} characters; keep it to {MAX_TITLE_CHARS}",
                )
            if section_id is None:
                section_id = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
            # With neither title nor id, "missing-title" has said it.
            if (title or heading.group("id") is not None) and not _ID.match(section_id):
                problems.add(
                    path,
                    number,
                    "bad-id",
                    f"section id {section_id!r} must be lower-case words joined by hyphens",
                )
            sections.append((section_id, title, number, []))
        elif token.type == "html_block":
            html(number, token.content)
        elif token.type in ("paragraph_open", "code_block", "fence"):
            paragraph = token.type == "paragraph_open"
            check_lines(start, end, headings=paragraph)
            if not sections:
                continue
            if paragraph:
                text = _plain(tokens[index + 1].children or (), number, html)
            else:
                text = token.content
                if token.type == "fence":
                    number += 1  # its text starts after the opening fence
            if items:
                item = " ".join(text.split())
                if item:
                    sections[-1][3].append((item, number, True))
                continue
            for sentence in split_sentences(text):
                sections[-1][3].append((sentence, number, False))
    return sections


def _load_topic(path: Path, problems: _Problems) -> Topic | None:
    text = _read_text(path, problems)
    if text is None:
        return None
    parsed = _parse_front_matter(text, path, problems)
    if parsed is None:
        return None
    front, body, first_line = parsed
    front_lines = text.splitlines()[1 : first_line - 2]

    def front_line(key: str) -> int:
        return 1 + _key_line(front_lines, key)

    before = len(problems.items)
    for key in front:
        if key not in TOPIC_KEYS:
            problems.add(
                path,
                front_line(key),
                "unknown-key",
                f"unknown front matter key {key!r}; known: {', '.join(sorted(TOPIC_KEYS))}",
            )
    topic_id = front.get("id")
    if not isinstance(topic_id, str) or not topic_id:
        problems.add(path, 1, "missing-id", 'front matter needs id = "..."')
        topic_id = path.stem
    elif not _ID.match(topic_id):
        problems.add(
            path,
            front_line("id"),
            "bad-id",
            f"topic id {topic_id!r} must be lower-case words joined by hyphens",
        )
    title = front.get("title")
    if not isinstance(title, str) or not title.strip():
        problems.add(path, 1, "missing-title", 'front matter needs title = "..."')
        title = topic_id
    order = front.get("order", 0)
    if not isinstance(order, int) or isinstance(order, bool):
        problems.add(path, front_line("order"), "bad-order", "order must be a whole number")
        order = 0
    aliases = _aliases(front.get("aliases"), path, front_line("aliases"), "topic", problems)
    section_meta = front.get("sections", {})
    if not isinstance(section_meta, dict):
        problems.add(path, front_line("sections"), "bad-sections", "sections must be a table")
        section_meta = {}

    raw_sections = _parse_body(body, first_line, path, topic_id, problems)
    if not raw_sections:
        problems.add(path, first_line, "no-sections", "the topic has no '## ' sections")
    seen: dict[str, int] = {}
    sections: list[Section] = []
    for section_id, section_title, line, sentences in raw_sections:
        if section_id in seen:
            problems.add(
                path,
                line,
                "duplicate-id",
                f"section id {section_id!r} is already used on line {seen[section_id]}",
            )
        seen.setdefault(section_id, line)
        if not sentences:
            problems.add(path, line, "empty-section", f"section {section_id!r} has no text")
        meta = section_meta.get(section_id, {})
        meta_line = front_line(section_id)
        if not isinstance(meta, dict):
            problems.add(path, meta_line, "bad-sections", f"sections.{section_id} must be a table")
            meta = {}
        for key in meta:
            if key not in SECTION_KEYS:
                problems.add(
                    path,
                    meta_line,
                    "unknown-key",
                    f"unknown key {key!r} in sections.{section_id}; known: aliases",
                )
        section = Section(
            id=section_id,
            topic_id=topic_id,
            title=section_title,
            sentences=tuple(
                Sentence(f"{topic_id}/{section_id}/{index}", sentence, sentence_line, is_item)
                for index, (sentence, sentence_line, is_item) in enumerate(sentences, start=1)
            ),
            aliases=_aliases(
                meta.get("aliases"), path, meta_line, f"section {section_id!r}", problems
            ),
            line=line,
        )
        if section.word_count > MAX_SECTION_WORDS:
            problems.add(
                path,
                line,
                "section-too-long",
                f"section {section_id!r} has {section.word_count} words; split it so each part "
                f"has at most {MAX_SECTION_WORDS}",
            )
        sections.append(section)
    for section_id in section_meta:
        if section_id not in seen:
            problems.add(
                path,
                front_line(section_id),
                "unknown-section",
                f"front matter describes section {section_id!r}, which is not in the text",
            )
    if len(problems.items) > before:
        return None
    return Topic(topic_id, title.strip(), order, aliases, tuple(sections), path)


def _read_toml(path: Path, problems: _Problems) -> tuple[dict[str, Any], list[str]] | None:
    """A content TOML file's data and its lines (for line numbers), or None after a problem."""
    text = _read_text(path, problems)
    if text is None:
        return None
    try:
        return tomllib.loads(text), text.splitlines()
    except tomllib.TOMLDecodeError as error:
        problems.add(path, _toml_error_line(error), "syntax", str(error).split(" (at")[0])
        return None


def _load_strings(path: Path, problems: _Problems) -> dict[str, str]:
    parsed = _read_toml(path, problems)
    if parsed is None:
        return {}
    data, lines = parsed
    strings: dict[str, str] = {}
    for group, table in data.items():
        if not isinstance(table, dict):
            problems.add(
                path, _key_line(lines, group), "bad-strings", f"{group!r} must be a [table]"
            )
            continue
        group_line = _key_line(lines, group)
        for name, value in table.items():
            key = f"{group}.{name}"
            line = _key_line(lines, name, start=group_line)
            if key not in REQUIRED_STRINGS:
                problems.add(path, line, "unknown-key", f"unknown interface string {key!r}")
            elif not isinstance(value, str) or not value.strip():
                problems.add(path, line, "empty-string", f"{key} must be non-empty text in quotes")
            else:
                fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
                if fields != REQUIRED_STRINGS[key]:
                    wanted = (
                        ", ".join("{" + f + "}" for f in sorted(REQUIRED_STRINGS[key])) or "none"
                    )
                    problems.add(
                        path,
                        line,
                        "bad-placeholder",
                        f"{key} must use exactly these placeholders: {wanted}",
                    )
                else:
                    strings[key] = value
    for key in REQUIRED_STRINGS:
        if key not in strings and not any(p.message.startswith(key) for p in problems.items):
            problems.add(path, 1, "missing-string", f"interface string {key!r} is missing")
    return strings


def _load_lexicon(path: Path, problems: _Problems) -> dict[str, LexiconEntry]:
    parsed = _read_toml(path, problems)
    if parsed is None:
        return {}
    data, lines = parsed
    entries: dict[str, LexiconEntry] = {}
    words = data.get("words", {})
    for key in data:
        if key != "words":
            problems.add(
                path,
                _key_line(lines, key),
                "unknown-key",
                f"unknown table {key!r}; use [words.WORD]",
            )
    if not isinstance(words, dict):
        return {}
    for word, entry in words.items():
        line = _key_line(lines, word)
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


def _check_aliases(topics: list[Topic], problems: _Problems) -> None:
    """A topic alias (or title) claimed by two topics would make voice requests ambiguous."""
    owners: dict[str, Topic] = {}
    for topic in topics:
        for alias in {*topic.aliases, " ".join(topic.title.lower().split())}:
            other = owners.get(alias)
            if other is not None and other.id != topic.id:
                problems.add(
                    topic.source,
                    1,
                    "alias-conflict",
                    f"alias {alias!r} is claimed by topics {other.id!r} and {topic.id!r}",
                )
            owners.setdefault(alias, topic)


def validate_tree(language_dir: Path) -> tuple[Library | None, list[ContentProblem]]:
    """Read one language's content; return the Library (if sound) and every problem found."""
    problems = _Problems()
    root = Path(language_dir)
    if not root.is_dir():
        problems.add(root, 0, "missing", "content folder not found")
        return None, problems.items
    topic_files = sorted((root / "topics").glob("*.md"))
    if not topic_files:
        problems.add(root / "topics", 0, "no-topics", "no topic files (topics/*.md) found")
    topics: list[Topic] = []
    seen: dict[str, Path] = {}
    for path in topic_files:
        topic = _load_topic(path, problems)
        if topic is None:
            continue
        if topic.id in seen:
            problems.add(
                path, 1, "duplicate-id", f"topic id {topic.id!r} is also used in {seen[topic.id]}"
            )
            continue
        seen[topic.id] = path
        topics.append(topic)
    _check_aliases(topics, problems)
    strings_path = root / "strings.toml"
    if strings_path.is_file():
        strings = _load_strings(strings_path, problems)
    else:
        problems.add(strings_path, 0, "missing", "interface strings file not found")
        strings = {}
    lexicon_path = root / "lexicon.toml"
    lexicon = _load_lexicon(lexicon_path, problems) if lexicon_path.is_file() else {}
    if (root / COMMANDS_FILE).is_file():
        problems.items.extend(check_commands(root)[1])
    if problems.items:
        return None, problems.items
    topics.sort(key=lambda topic: (topic.order, topic.id))
    return (
        Library(root, tuple(topics), MappingProxyType(strings), MappingProxyType(lexicon)),
        [],
    )


def load_library(language_dir: Path) -> Library:
    """Load and validate one language's content, or raise ContentError listing every problem."""
    library, problems = validate_tree(language_dir)
    if library is None:
        raise ContentError(problems)
    return library


def content_signature(language_dir: Path) -> tuple[tuple[str, int, int], ...]:
    """Every file under a language's folder with its size and modification time: it changes
    when staff edit or replace the content (cheap enough to take at the end of every visit)."""
    root = Path(language_dir)
    found = []
    try:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                stat = path.stat()
                found.append((str(path.relative_to(root)), stat.st_size, stat.st_mtime_ns))
    except OSError:
        return ()  # a folder being replaced: the next visit's end looks again
    return tuple(found)


def last_good_dir(cache_dir: Path, language: str) -> Path:
    """Where the last copy of a language's content that loaded cleanly is kept."""
    return Path(cache_dir) / "content-last-good" / language


def load_library_or_last_good(
    language_dir: Path, keep_dir: Path
) -> tuple[Library, tuple[str, ...]]:
    """The content, kept as the last good copy; or, if it is broken, that last good copy.

    Returns the library and the problems of the configured tree (empty when it loaded). A
    mistake in an edit then leaves visitors with the information as it was before it, not an
    error screen, while `kiosk validate` and `kiosk doctor` name the mistake for staff. Raises
    ContentError when the tree is broken and no good copy was ever kept.
    """
    try:
        library = load_library(language_dir)
    except ContentError as error:
        try:
            kept = load_library(keep_dir)
        except ContentError:
            raise error from None
        log.warning(
            "content in %s has %d problems (first: %s); showing the last good copy from %s",
            language_dir, len(error.problems), error.problems[0], keep_dir,
        )
        return kept, tuple(str(problem) for problem in error.problems)
    try:
        _keep_copy(Path(language_dir), Path(keep_dir))
    except OSError as error:  # the copy is a safety net; its loss must not stop the kiosk
        log.warning("could not keep a copy of the content in %s: %s", keep_dir, error)
    return library, ()


def _keep_copy(source: Path, target: Path) -> None:
    """Replace `target` with a copy of `source`, never leaving it half written."""
    if target.is_dir() and _same_files(source, target):
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = target.with_name(target.name + ".new")
    stale = target.with_name(target.name + ".old")
    for leftover in (fresh, stale):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(source, fresh)
    if target.exists():
        target.rename(stale)
    fresh.rename(target)
    shutil.rmtree(stale, ignore_errors=True)


def _same_files(one: Path, other: Path) -> bool:
    """Whether two folders hold the same files with the same bytes."""
    def files(root: Path) -> dict[Path, bytes]:
        return {p.relative_to(root): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    return files(one) == files(other)
