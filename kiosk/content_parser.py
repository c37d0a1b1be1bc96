"""Reading a content tree: content/<lang>/ -> a validated Library (kiosk.library).

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
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kiosk.command_words import COMMANDS_FILE, check_commands
from kiosk.content_files import ProblemList, key_line, read_text, toml_error_line
from kiosk.content_lexicon import load_lexicon
from kiosk.interface_strings import load_strings
from kiosk.library import (
    MAX_SECTION_WORDS,
    MAX_TITLE_CHARS,
    ContentError,
    Library,
    Section,
    Sentence,
    Topic,
)
from kiosk.problems import ContentProblem
from kiosk.sentences import split_sentences

log = logging.getLogger(__name__)
# markdown-it-py logs every block rule it tries at DEBUG (about 600 records for the bundled
# content): a kiosk set to log at DEBUG wants its own records, not those.
logging.getLogger("markdown_it").setLevel(logging.INFO)

TOPIC_KEYS = frozenset({"id", "title", "order", "aliases", "sections"})
SECTION_KEYS = frozenset({"aliases"})

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


def _aliases(
    value: Any, path: Path, line: int, where: str, problems: ProblemList
) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(a, str) and a.strip() for a in value):
        problems.add(
            path, line, "bad-aliases", f"{where} aliases must be a list of words in quotes"
        )
        return ()
    return tuple(" ".join(alias.lower().split()) for alias in value)


def _parse_front_matter(
    text: str, path: Path, problems: ProblemList
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
        problems.add(path, 1 + toml_error_line(error), "front-matter-syntax", detail)
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
    body: list[str], first_line: int, path: Path, topic_id: str, problems: ProblemList
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


def _load_topic(path: Path, problems: ProblemList) -> Topic | None:
    text = read_text(path, problems)
    if text is None:
        return None
    parsed = _parse_front_matter(text, path, problems)
    if parsed is None:
        return None
    front, body, first_line = parsed
    front_lines = text.splitlines()[1 : first_line - 2]

    def front_line(key: str) -> int:
        return 1 + key_line(front_lines, key)

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


def _check_aliases(topics: list[Topic], problems: ProblemList) -> None:
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
    problems = ProblemList()
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
        strings = load_strings(strings_path, problems)
    else:
        problems.add(strings_path, 0, "missing", "interface strings file not found")
        strings = {}
    lexicon_path = root / "lexicon.toml"
    lexicon = load_lexicon(lexicon_path, problems) if lexicon_path.is_file() else {}
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
