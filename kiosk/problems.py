"""ContentProblem: one thing wrong with a content file, at a line.

Its own module because two loaders report it: the library's (topics, strings, lexicon) and the
command phrasings' (kiosk.command_words), and neither should import the other to share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ContentProblem:
    """One thing wrong with a content tree, at a file and line."""

    path: Path
    line: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code}: {self.message}"
