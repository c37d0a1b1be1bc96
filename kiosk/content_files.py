"""Reading a content file: its text (UTF-8) or its TOML, and each problem found, with its line.

Shared by the loaders of the content tree (kiosk.content_parser, kiosk.interface_strings,
kiosk.content_lexicon), which report every problem rather than stop at the first.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from kiosk.files import TEXT_ENCODING
from kiosk.problems import ContentProblem


class ProblemList:
    """Collects problems while a tree is read."""

    def __init__(self) -> None:
        self.items: list[ContentProblem] = []

    def add(self, path: Path, line: int, code: str, message: str) -> None:
        self.items.append(ContentProblem(path, line, code, message))


def read_text(path: Path, problems: ProblemList) -> str | None:
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


def toml_error_line(error: tomllib.TOMLDecodeError) -> int:
    match = re.search(r"line (\d+)", str(error))
    return int(match.group(1)) if match else 1


def key_line(lines: list[str], key: str, start: int = 0, default: int = 1) -> int:
    """The 1-based line on which `key` is first written in a TOML text, for error messages."""
    pattern = re.compile(rf"^\s*\[?\s*(?:[\w.-]*\.)?{re.escape(key)}\s*[=\].]")
    for number, text in enumerate(lines[start:], start=start + 1):
        if pattern.match(text):
            return number
    return default


def read_toml(path: Path, problems: ProblemList) -> tuple[dict[str, Any], list[str]] | None:
    """A content TOML file's data and its lines (for line numbers), or None after a problem."""
    text = read_text(path, problems)
    if text is None:
        return None
    try:
        return tomllib.loads(text), text.splitlines()
    except tomllib.TOMLDecodeError as error:
        problems.add(path, toml_error_line(error), "syntax", str(error).split(" (at")[0])
        return None
