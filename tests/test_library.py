"""Content validation: every kind of mistake is reported with its file and line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.command_words import check_commands
from kiosk.config import BUNDLED_CONTENT
from kiosk.content_parser import load_library, validate_tree
from kiosk.library import MAX_SECTION_WORDS, ContentError, Library
from kiosk.ui.content_error import content_error_text

GOOD_TOPIC = """\
+++
id = "alpha"
title = "Alpha topic"
aliases = ["first thing"]

[sections.one]
aliases = ["number one"]
+++

## Section one {#one}

First sentence here. Second sentence here.

- an item
- another item

## Section two {#two}

Only sentence.
"""

OTHER_TOPIC = """\
+++
id = "beta"
title = "Beta topic"
aliases = ["second thing"]
+++

## Part {#part}

Some text.
"""


def make_tree(tmp_path: Path, topics: dict[str, str | bytes], strings: str | None = None) -> Path:
    """Write a language folder with the given topic files and the bundled strings."""
    root = tmp_path / "en"
    (root / "topics").mkdir(parents=True)
    for name, text in topics.items():
        target = root / "topics" / name
        if isinstance(text, bytes):
            target.write_bytes(text)
        else:
            target.write_text(text, encoding="utf-8")
    if strings is None:
        shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", root / "strings.toml")
    else:
        (root / "strings.toml").write_text(strings, encoding="utf-8")
    return root


def problems_of(root: Path) -> list[tuple[str, int, str]]:
    library, problems = validate_tree(root)
    assert library is None, "a broken tree must not load"
    return [(p.path.name, p.line, p.code) for p in problems]


def test_good_tree_loads(tmp_path: Path) -> None:
    library = load_library(make_tree(tmp_path, {"a.md": GOOD_TOPIC, "b.md": OTHER_TOPIC}))
    alpha = library.topic("alpha")
    assert [s.id for s in alpha.sections] == ["one", "two"]
    one = alpha.section("one")
    assert [s.text for s in one.sentences] == [
        "First sentence here.",
        "Second sentence here.",
        "an item",
        "another item",
    ]
    assert [s.line for s in one.sentences] == [12, 12, 14, 15]
    assert one.sentences[2].is_list_item and not one.sentences[0].is_list_item
    assert one.aliases == ("number one",)
    assert one.line == 10


def test_bundled_content_is_valid() -> None:
    library, problems = validate_tree(BUNDLED_CONTENT / "en")
    assert problems == []
    assert library is not None


@pytest.mark.parametrize(
    ("text", "line", "code"),
    [
        # Bad front matter: broken TOML on line 3 of the file.
        (
            GOOD_TOPIC.replace('title = "Alpha topic"', 'title = "Alpha topic'),
            3,
            "front-matter-syntax",
        ),
        ("## Section {#s}\n\nText.\n", 1, "front-matter-missing"),
        ('+++\nid = "x"\ntitle = "X"\n\n## S {#s}\n\nText.\n', 1, "front-matter-unclosed"),
        (GOOD_TOPIC.replace('id = "alpha"\n', ""), 1, "missing-id"),
        (GOOD_TOPIC.replace('title = "Alpha topic"\n', ""), 1, "missing-title"),
        (GOOD_TOPIC.replace('id = "alpha"', 'id = "Alpha Topic"'), 2, "bad-id"),
        (GOOD_TOPIC.replace('aliases = ["first thing"]', 'colour = "red"'), 4, "unknown-key"),
        (
            GOOD_TOPIC.replace('aliases = ["number one"]', 'alias = ["number one"]'),
            6,
            "unknown-key",
        ),
        (GOOD_TOPIC.replace("{#two}", "{#one}"), 17, "duplicate-id"),
        (GOOD_TOPIC.replace("Only sentence.\n", ""), 17, "empty-section"),
        (
            GOOD_TOPIC.replace("Only sentence.", "word " * (MAX_SECTION_WORDS + 1)),
            17,
            "section-too-long",
        ),
        (GOOD_TOPIC.replace("## Section two {#two}", "## {#two}"), 17, "missing-title"),
        (GOOD_TOPIC.replace("## Section two", "# Section two"), 17, "bad-heading"),
        (GOOD_TOPIC.replace("[sections.one]", "[sections.three]"), 6, "unknown-section"),
        (GOOD_TOPIC.replace('aliases = ["first thing"]', "aliases = 3"), 4, "bad-aliases"),
        (
            GOOD_TOPIC.replace("+++\n\n## Section one", "+++\nStray text.\n## Section one"),
            9,
            "text-outside-section",
        ),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else "",
)
def test_topic_problem_is_reported_at_file_and_line(
    tmp_path: Path, text: str, line: int, code: str
) -> None:
    root = make_tree(tmp_path, {"alpha.md": text, "beta.md": OTHER_TOPIC})
    assert ("alpha.md", line, code) in problems_of(root)


def test_duplicate_topic_ids_across_files(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC, "b.md": GOOD_TOPIC.replace("first thing", "x")})
    assert ("b.md", 1, "duplicate-id") in problems_of(root)


def test_alias_claimed_by_two_topics(tmp_path: Path) -> None:
    clash = OTHER_TOPIC.replace('"second thing"', '"first thing"')
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC, "b.md": clash})
    library, problems = validate_tree(root)
    assert library is None
    conflicts = [p for p in problems if p.code == "alias-conflict"]
    assert len(conflicts) == 1
    assert conflicts[0].path.name == "b.md" and "first thing" in conflicts[0].message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    latin1 = GOOD_TOPIC.replace("Only sentence.", "Café au lait.").encode("latin-1")
    root = make_tree(tmp_path, {"alpha.md": latin1})
    assert ("alpha.md", 19, "not-utf8") in problems_of(root)


def outline(library: Library) -> list[tuple[object, ...]]:
    """What a visitor gets from each topic: names, aliases and every sentence, by section."""
    return [
        (topic.id, topic.title, topic.aliases, [
            (section.id, section.title, section.aliases, [s.text for s in section.sentences])
            for section in topic.sections
        ])
        for topic in library.topics
    ]


def test_files_saved_by_a_windows_editor_load_as_the_originals(tmp_path: Path) -> None:
    """Notepad and others may write a byte-order mark and CRLF line ends: the same content."""
    tree = tmp_path / "en"
    shutil.copytree(BUNDLED_CONTENT / "en", tree)
    for path in tree.rglob("*"):
        if path.suffix in (".md", ".toml"):
            text = path.read_text(encoding="utf-8")
            path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    windows, problems = validate_tree(tree)
    assert windows is not None, [str(problem) for problem in problems]
    original = load_library(BUNDLED_CONTENT / "en")
    assert outline(windows) == outline(original)
    assert windows.lexicon == original.lexicon
    assert check_commands(tree)[0] == check_commands(BUNDLED_CONTENT / "en")[0]
    assert content_error_text(tree) == content_error_text(BUNDLED_CONTENT / "en")


MARKED_UP_TOPIC = GOOD_TOPIC.replace(
    "First sentence here. Second sentence here.",
    "First **sentence** here, see [the leaflet](https://example.org/a_b). Second _sentence_\n"
    "here with *stress* and `code`, 5 * 3 and snake_case kept.\n\n"
    "1. numbered item\n2) another numbered item\n+ plus item\n\n"
    "A paragraph wrapped at\n50. Then the paragraph goes on.",
)


def test_inline_markdown_is_shown_and_said_as_plain_text(tmp_path: Path) -> None:
    library = load_library(make_tree(tmp_path, {"alpha.md": MARKED_UP_TOPIC}))
    said = [(s.text, s.is_list_item) for s in library.topic("alpha").sections[0].sentences]
    assert said[:7] == [
        ("First sentence here, see the leaflet.", False),
        ("Second sentence here with stress and code, 5 * 3 and snake_case kept.", False),
        ("numbered item", True),
        ("another numbered item", True),
        ("plus item", True),
        ("A paragraph wrapped at 50.", False),
        ("Then the paragraph goes on.", False),
    ]


#: A topic whose body is given; its first body line is line 5 of the file.
BODY_TOPIC = '+++\nid = "alpha"\ntitle = "Alpha topic"\n+++\n'


@pytest.mark.parametrize(
    ("body", "said"),
    [
        # Any CommonMark list marker, and a word processor's bullet, as today.
        ("* star\n* two\n\n1) one\n2) two\n\n• word", [("star", 7, True), ("two", 8, True), ("one", 10, True), ("two", 11, True), ("word", 13, True)]),
        # A wrapped item (CommonMark's lazy continuation) and an item's second paragraph stay items.
        ("- wrapped\nitem\n- next\n\n  its more", [("wrapped item", 7, True), ("next", 9, True), ("its more", 11, True)]),
        ("- top\n  - nested", [("top", 7, True), ("nested", 8, True)]),
        # A block quote and a code block are shown as their text.
        ("> Quoted once.\n> Quoted twice.", [("Quoted once.", 7, False), ("Quoted twice.", 7, False)]),
        ("Text.\n\n    Indented by mistake.", [("Text.", 7, False), ("Indented by mistake.", 9, False)]),
        ("```\nFenced text.\n```", [("Fenced text.", 8, False)]),
        # A thematic break draws nothing and says nothing.
        ("Before.\n\n---\n\nAfter.", [("Before.", 7, False), ("After.", 11, False)]),
        # Entities and escapes are the characters they stand for; a reference link is its text.
        ("Fish &amp; chips, 2 \\* 3.", [("Fish & chips, 2 * 3.", 7, False)]),
        ("See [the leaflet][l].\n\n[l]: https://example.org", [("See the leaflet.", 7, False)]),
    ],
    ids=["markers", "wrapped-items", "nested", "quote", "indented", "fenced", "break", "escapes", "reference"],
)
def test_commonmark_blocks_are_read_as_a_visitor_would_want(
    tmp_path: Path, body: str, said: list[tuple[str, int, bool]]
) -> None:
    text = BODY_TOPIC + "## Part {#part}\n\n" + body + "\n"
    section = load_library(make_tree(tmp_path, {"alpha.md": text})).topic("alpha").sections[0]
    assert [(s.text, s.line, s.is_list_item) for s in section.sentences] == said


def test_a_heading_may_close_with_hashes(tmp_path: Path) -> None:
    text = BODY_TOPIC + "## Part one {#one} ##\n\nText.\n\n## Part two ###\n\nText.\n"
    topic = load_library(make_tree(tmp_path, {"alpha.md": text})).topic("alpha")
    assert [(s.id, s.title, s.line) for s in topic.sections] == [
        ("one", "Part one", 5),
        ("part-two", "Part two", 9),
    ]


@pytest.mark.parametrize(
    ("body", "line", "code"),
    [
        ("Intro\n---\n\nText.", 7, "bad-heading"),  # an underlined heading
        ("Text.\n##Risks {#risks}", 8, "bad-heading"),  # no space after ##
        ("Text.\n### Smaller", 8, "bad-heading"),
        ("Text.\n\n- ## In a list", 9, "bad-heading"),
        ("Text.\n\n> ## In a quote", 9, "bad-heading"),
        ("Text.\n\n<div>\nBlock\n</div>", 9, "html"),
        ("Text.\n\n<!-- a note -->", 9, "html"),
        ("Text with\na <b>bold</b> word.", 8, "html"),
    ],
    ids=["underlined", "no-space", "level-3", "in-list", "in-quote", "html-block", "comment", "html-inline"],
)
def test_markup_the_kiosk_cannot_show_is_a_problem_at_its_line(
    tmp_path: Path, body: str, line: int, code: str
) -> None:
    text = BODY_TOPIC + "## Part {#part}\n\n" + body + "\n"
    found = problems_of(make_tree(tmp_path, {"alpha.md": text}))
    assert ("alpha.md", line, code) in found
    assert len(found) == 1, found


def test_a_bare_heading_is_one_missing_title(tmp_path: Path) -> None:
    text = BODY_TOPIC + "## Part {#part}\n\nText.\n\n##\n\nMore.\n"
    assert problems_of(make_tree(tmp_path, {"alpha.md": text})) == [
        ("alpha.md", 9, "missing-title")
    ]


def test_no_topics_at_all(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {})
    assert ("topics", 0, "no-topics") in problems_of(root)


def test_missing_interface_string(tmp_path: Path) -> None:
    strings = (BUNDLED_CONTENT / "en" / "strings.toml").read_text(encoding="utf-8")
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC}, strings.replace('stop = "Stop"\n', ""))
    assert ("strings.toml", 1, "missing-string") in problems_of(root)


def test_interface_string_problems_name_their_line(tmp_path: Path) -> None:
    strings = (BUNDLED_CONTENT / "en" / "strings.toml").read_text(encoding="utf-8")
    lines = strings.splitlines()
    idle = next(i for i, text in enumerate(lines, 1) if text.startswith("idle_warning"))
    broken = strings.replace("in {seconds} seconds", "soon").replace(
        "[button]", '[button]\nbogus = "x"'
    )
    bogus = next(i for i, text in enumerate(broken.splitlines(), 1) if text.startswith("bogus"))
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC}, broken)
    found = problems_of(root)
    assert ("strings.toml", idle, "bad-placeholder") in found
    assert ("strings.toml", bogus, "unknown-key") in found


def test_lexicon_with_bad_phones(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC})
    (root / "lexicon.toml").write_text(
        '[words.good]\nphones = "G UH D"\n\n[words.bad]\nphones = "B XX D"\n', encoding="utf-8"
    )
    assert ("lexicon.toml", 4, "bad-phones") in problems_of(root)


def test_lexicon_ipa_is_kept_and_a_bracketed_one_refused(tmp_path: Path) -> None:
    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC})
    lexicon = root / "lexicon.toml"
    lexicon.write_text('[words.benign]\nsay = "be-nine"\nipa = "bɪnˈaɪn"\n', encoding="utf-8")
    entry = load_library(root).lexicon["benign"]
    assert (entry.say, entry.ipa) == ("be-nine", "bɪnˈaɪn")
    lexicon.write_text('[words.good]\nipa = "ɡˈʊd"\n\n[words.bad]\nipa = "[[bˈæd]]"\n',
                       encoding="utf-8")
    assert ("lexicon.toml", 4, "bad-entry") in problems_of(root)


def test_load_library_raises_with_every_problem(tmp_path: Path) -> None:
    broken = GOOD_TOPIC.replace('id = "alpha"\n', "").replace("Only sentence.\n", "")
    root = make_tree(tmp_path, {"alpha.md": broken})
    with pytest.raises(ContentError) as caught:
        load_library(root)
    codes = {p.code for p in caught.value.problems}
    assert {"missing-id", "empty-section"} <= codes
    assert "alpha.md:1: missing-id" in str(caught.value)


def test_a_broken_edit_leaves_visitors_the_last_good_content(tmp_path: Path) -> None:
    from kiosk.last_good import load_library_or_last_good

    root = make_tree(tmp_path / "site", {"a.md": GOOD_TOPIC, "b.md": OTHER_TOPIC})
    keep = tmp_path / "cache" / "content-last-good" / "en"
    # A good tree loads as it is, and a copy of it is kept.
    library, problems = load_library_or_last_good(root, keep)
    assert problems == () and library.root == root
    assert sorted(p.name for p in (keep / "topics").iterdir()) == ["a.md", "b.md"]
    # An edit that adds a topic is good too: the kept copy follows it.
    gamma = (
        GOOD_TOPIC.replace('id = "alpha"', 'id = "gamma"')
        .replace("Alpha topic", "Gamma")
        .replace("first thing", "third thing")
    )
    (root / "topics" / "c.md").write_text(gamma, encoding="utf-8")
    library, problems = load_library_or_last_good(root, keep)
    assert problems == ()
    assert {topic.id for topic in library.topics} == {"alpha", "beta", "gamma"}
    assert (keep / "topics" / "c.md").is_file()
    # A broken edit: the problems are reported and the last good copy is what loads.
    (root / "topics" / "c.md").write_text(gamma.replace('id = "gamma"\n', ""), "utf-8")
    library, problems = load_library_or_last_good(root, keep)
    assert library.root == keep
    assert library.topic("gamma").title == "Gamma"
    assert any("c.md:1: missing-id" in problem for problem in problems)
    # ... and the kept copy is not overwritten by the broken tree.
    assert 'id = "gamma"' in (keep / "topics" / "c.md").read_text(encoding="utf-8")
    assert not keep.with_name("en.new").exists() and not keep.with_name("en.old").exists()


def test_a_broken_tree_with_no_good_copy_kept_still_names_its_problems(tmp_path: Path) -> None:
    from kiosk.last_good import load_library_or_last_good
    from kiosk.library import ContentError

    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC.replace('id = "alpha"\n', "")})
    with pytest.raises(ContentError) as raised:
        load_library_or_last_good(root, tmp_path / "never-kept")
    assert any(problem.code == "missing-id" for problem in raised.value.problems)


def test_a_copy_that_cannot_be_kept_does_not_stop_the_content(tmp_path: Path) -> None:
    from kiosk.last_good import load_library_or_last_good

    root = make_tree(tmp_path, {"a.md": GOOD_TOPIC})
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    library, problems = load_library_or_last_good(root, blocked / "en")
    assert problems == () and library.topic("alpha").title == "Alpha topic"
