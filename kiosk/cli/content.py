"""What the subcommands share: the configured content, or its problems on stderr."""

from __future__ import annotations

import sys

from kiosk.config import Settings
from kiosk.content_parser import load_library
from kiosk.library import ContentError, Library


def library_or_report(settings: Settings) -> Library | None:
    """The configured content for a subcommand, or None after printing each problem to stderr."""
    try:
        return load_library(settings.language_dir)
    except ContentError as error:
        for problem in error.problems:
            print(problem, file=sys.stderr)
        return None
