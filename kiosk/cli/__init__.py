"""The `kiosk` command: run the kiosk, and the staff and install-time subcommands.

Each capability registers its own subcommands (see SUBCOMMAND_MODULES): a module with
`register(subparsers)` that adds parsers whose `handler(args, settings) -> int` does the work.
User mistakes (bad config, broken content, unreadable files) print one clear message per problem
on stderr and exit non-zero; they never show a traceback. The kiosk itself is the exception: a bad
setting is reported the same way, set aside, and the kiosk starts with the rest (a waiting room
must not lose its kiosk to a typo); `kiosk doctor` also runs on and lists it as a FAIL.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk import __version__
from kiosk.config import ConfigError, Settings, load_settings
from kiosk.content_parser import validate_tree

Handler = Callable[[argparse.Namespace, Settings], int]

#: Modules that add subcommands, each with `register(subparsers)`.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "kiosk.cli.speech",
    "kiosk.cli.listening",
    "kiosk.doctor",
    "kiosk.usage",
    "kiosk.install",
    "kiosk.metrics",
    "kiosk.content_install",
)

EXIT_OK = 0
EXIT_PROBLEM = 1
EXIT_USAGE = 2


def _validate(args: argparse.Namespace, settings: Settings) -> int:
    """`kiosk validate [DIR]`: check a content tree, one line per problem."""
    target = Path(args.dir) if args.dir else settings.content_dir
    # Accept either a content folder (holding en/, ...) or one language's folder.
    language_dirs = (
        [target]
        if (target / "topics").is_dir() or not target.is_dir()
        else sorted(p for p in target.iterdir() if p.is_dir())
    )
    if not language_dirs:
        print(f"{target}: no language folders (such as en/) found", file=sys.stderr)
        return EXIT_PROBLEM
    failed = False
    for language_dir in language_dirs:
        library, problems = validate_tree(language_dir)
        for problem in problems:
            print(problem, file=sys.stderr)
        if library is None:
            failed = True
        else:
            sections = sum(len(topic.sections) for topic in library.topics)
            print(f"{language_dir}: OK, {len(library.topics)} topics, {sections} sections")
    return EXIT_PROBLEM if failed else EXIT_OK


def _run(args: argparse.Namespace, settings: Settings) -> int:
    """`kiosk` / `kiosk run`: start the touchscreen kiosk."""
    from kiosk.ui.run import run_kiosk  # Kivy is imported only when a window is wanted

    status: int = run_kiosk(settings)
    return status


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Offline, voice-accessible information kiosk for breast-imaging waiting rooms.",
    )
    parser.add_argument("--version", action="version", version=f"kiosk {__version__}")
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="site settings (TOML); default $KIOSK_CONFIG, then /etc/kiosk/kiosk.toml",
    )
    parser.set_defaults(handler=_run)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    run = subparsers.add_parser("run", help="start the kiosk (the default)")
    run.set_defaults(handler=_run)
    validate = subparsers.add_parser("validate", help="check a content tree; one line per problem")
    validate.add_argument("dir", nargs="?", help="content folder (default: the configured one)")
    validate.set_defaults(handler=_validate)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    problems: list[ConfigError] = []
    keeps_going = args.handler is _run or getattr(args, "reports_config_problems", False)
    try:
        settings = load_settings(args.config, problems=problems if keeps_going else None)
    except ConfigError as error:
        print(f"kiosk: configuration error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for problem in problems:
        print(f"kiosk: configuration problem, ignored: {problem}", file=sys.stderr)
    args.config_problems = problems
    handler: Handler = args.handler
    try:
        return handler(args, settings)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
