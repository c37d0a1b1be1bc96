"""The last good copy of the content: kept whenever the content loads cleanly, and shown instead
of a broken edit, so a mistake never reaches visitors as an error screen."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from kiosk.content_parser import load_library
from kiosk.library import ContentError, Library

log = logging.getLogger(__name__)


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
