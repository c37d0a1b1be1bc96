"""`kiosk content install SOURCE`: new content, checked whole, then switched to in one step.

SOURCE is a content folder (one holding language folders such as en/), a checkout holding one as
content/, or a git repository's address, cloned first. Every language in it is validated as the
kiosk would; one problem and nothing changes. Otherwise the new content is copied beside the
configured content folder and the two are exchanged in one rename (Linux's renameat2 with
RENAME_EXCHANGE), so the kiosk never sees half of one and half of the other; the content it
replaced stays beside it as `<folder>.previous`, and installing that folder goes back to it.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import errno
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.content_parser import validate_tree

#: renameat2's flag: exchange the two paths atomically (Linux 3.15, glibc 2.28).
RENAME_EXCHANGE = 2
AT_FDCWD = -100
GIT_TIMEOUT_S = 300


class ContentInstallError(RuntimeError):
    """The source cannot be installed: said in a sentence (or one line per content problem)."""


def content_root(folder: Path) -> Path:
    """The content folder in `folder`: itself if it holds a language folder, else content/."""
    for candidate in (folder, folder / "content"):
        if candidate.is_dir() and any((child / "topics").is_dir()
                                      for child in candidate.iterdir() if child.is_dir()):
            return candidate
    raise ContentInstallError(
        f"{folder} holds no content: no language folder (such as en/ with topics/) in it or in "
        "its content/ folder")


def problems_of(root: Path, language: str) -> list[str]:
    """Every problem of every language in a content folder; the kiosk's language must be one."""
    languages = sorted(child for child in root.iterdir() if (child / "topics").is_dir())
    found: list[str] = []
    if not any(path.name == language for path in languages):
        found.append(f"{root}: no {language}/ folder, the language this kiosk shows")
    for language_dir in languages:
        found += [str(problem) for problem in validate_tree(language_dir)[1]]
    return found


def exchange(first: Path, second: Path) -> None:
    """Swap two folders in one step; OSError where the file system cannot."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    if renameat2(AT_FDCWD, os.fsencode(first), AT_FDCWD, os.fsencode(second),
                 RENAME_EXCHANGE) != 0:
        number = ctypes.get_errno()
        raise OSError(number, os.strerror(number), str(first))


def install_content(source: str, target: Path, language: str) -> Path:
    """Check `source` and switch `target` to it; returns where the replaced content now is."""
    with tempfile.TemporaryDirectory(prefix="kiosk-content-") as scratch:
        folder = Path(source)
        if not folder.is_dir():
            folder = _clone(source, Path(scratch) / "checkout")
        root = content_root(folder)
        problems = problems_of(root, language)
        if problems:
            raise ContentInstallError("\n".join(problems))
        target = target.absolute()
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming = target.with_name(f".{target.name}.incoming")
        previous = target.with_name(f"{target.name}.previous")
        shutil.rmtree(incoming, ignore_errors=True)
        shutil.copytree(root, incoming, ignore=shutil.ignore_patterns(".git"))
        copied = problems_of(incoming, language)  # the copy, as the kiosk will read it
        if copied:
            shutil.rmtree(incoming, ignore_errors=True)
            raise ContentInstallError("\n".join(copied))
        if not target.exists():
            incoming.rename(target)
            return previous
        exchange(incoming, target)
        # `incoming` now holds what the kiosk showed until now: kept, to go back to.
        shutil.rmtree(previous, ignore_errors=True)
        incoming.rename(previous)
        return previous


def _clone(address: str, into: Path) -> Path:
    if shutil.which("git") is None:
        raise ContentInstallError(f"{address} is not a folder, and git is not installed to "
                                  "fetch it")
    try:
        done = subprocess.run(["git", "clone", "--quiet", "--depth", "1", address, str(into)],
                              capture_output=True, text=True, timeout=GIT_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise ContentInstallError(f"fetching {address} took over {GIT_TIMEOUT_S} s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["git clone failed"])[-1]
        raise ContentInstallError(f"{address} is neither a folder nor a git repository that "
                                  f"can be cloned ({reason})")
    return into


def _install(args: argparse.Namespace, settings: Settings) -> int:
    target = Path(args.to) if args.to else Path(settings.content_dir)
    try:
        previous = install_content(args.source, target, settings.language)
    except ContentInstallError as error:
        print(f"kiosk content install: nothing changed:\n{error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"kiosk content install: nothing changed: {error}", file=sys.stderr)
        return 1
    print(f"{target}: new content installed; the content it replaced is in {previous}. "
          "A running kiosk shows it from its next start (systemctl restart kiosk).")
    return 0


def register(subparsers: Any) -> None:
    """Add `kiosk content install` to the command line."""
    content = subparsers.add_parser("content", help="install new content, checked first")
    commands = content.add_subparsers(title="content commands", metavar="COMMAND", required=True)
    install = commands.add_parser(
        "install", help="check SOURCE (a folder or a git repository) and switch to it in one step"
    )
    install.add_argument("source", help="a content folder, a checkout holding content/, or a "
                                        "git repository's address")
    install.add_argument("--to", metavar="DIR",
                         help="the content folder to replace (default: the configured one)")
    install.set_defaults(handler=_install)
