"""Arbitrary text and front matter thrown at the loader: it loads or reports problems, nothing else."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.config import BUNDLED_CONTENT
from kiosk.content_parser import load_library, validate_tree
from kiosk.library import ContentError
from kiosk.problems import ContentProblem
from tests.test_library import GOOD_TOPIC

toml_scalars = st.one_of(
    st.text(max_size=20),
    st.integers(),
    st.booleans(),
    st.floats(allow_nan=False),
    st.lists(st.text(max_size=10), max_size=3),
)
front_keys = st.sampled_from(["id", "title", "order", "aliases", "sections", "colour", "x-y"])


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def _check(files: dict[str, bytes]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "en"
        (root / "topics").mkdir(parents=True)
        shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", root / "strings.toml")
        for name, data in files.items():
            (root / "topics" / name).write_bytes(data)
        library, problems = validate_tree(root)
        assert (library is None) == bool(problems)
        assert all(isinstance(p, ContentProblem) and p.line >= 0 and p.code for p in problems)
        try:
            load_library(root)
        except ContentError as error:
            assert error.problems
        for problem in problems:
            str(problem)  # every problem can be printed


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_arbitrary_bytes(data: bytes) -> None:
    _check({"a.md": data})


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=600))
def test_arbitrary_text_after_front_matter(body: str) -> None:
    _check({"a.md": ('+++\nid = "a"\ntitle = "A"\n+++\n' + body).encode()})


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(front_keys, toml_scalars, max_size=6), st.text(max_size=200))
def test_arbitrary_front_matter(front: dict[str, object], body: str) -> None:
    lines = [f"{key} = {_toml_value(value)}" for key, value in front.items()]
    text = "+++\n" + "\n".join(lines) + "\n+++\n\n## Part {#part}\n\n" + body
    _check({"a.md": text.encode(), "b.md": GOOD_TOPIC.encode()})


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list('+#-*•{}[]="\n .!?abcAB12')), max_size=300))
def test_markup_soup(text: str) -> None:
    _check({"a.md": text.encode()})


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("#-*>`<=_()[]!&;\\~|.1 \nabAB")), max_size=300))
def test_commonmark_soup_keeps_every_sentence_on_a_line_of_its_section(body: str) -> None:
    """Quotes, code, HTML, breaks and underlines: what loads has each sentence on a real line
    at or after its section's heading, and no sentence is blank."""
    text = '+++\nid = "a"\ntitle = "A"\n+++\n## Part {#part}\n\n' + body
    _check({"a.md": text.encode()})
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "en"
        (root / "topics").mkdir(parents=True)
        shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", root / "strings.toml")
        (root / "topics" / "a.md").write_text(text, encoding="utf-8")
        library, _ = validate_tree(root)
        if library is None:
            return
        last = len(text.splitlines())
        for section in library.sections():
            for sentence in section.sentences:
                assert section.line < sentence.line <= last
                assert sentence.text.strip()
