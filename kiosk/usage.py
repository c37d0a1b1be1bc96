"""Anonymous usage figures for clinic staff: visits, and intents by the way they came in, per day.

Only counts are kept, under the day's date: no time of day, no words heard, no question, no
answer, no audio. Staff see how the kiosk is used (how many visits, how many by voice, how often
it did not understand), never who used it or what they asked. `kiosk usage` prints them.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.files import write_atomically
from kiosk.intents import Action, IntentName

log = logging.getLogger(__name__)

#: The ways an intent comes in.
CHANNELS = ("touch", "keypad", "voice")
#: Days kept; older ones are dropped when the file is written.
KEEP_DAYS = 400
FORMAT_VERSION = 1
#: Counted beside the intents: a "Did you mean ...?" asked (its answers are actions).
DID_YOU_MEAN = "did_you_mean"
#: Every name counted: the intents, the kiosk's own actions (Talk, Back, a focus move ...;
#: yes and no among them) and the question.
INTENT_NAMES = (frozenset(name.value for name in IntentName)
                | frozenset(action.value for action in Action) | {DID_YOU_MEAN})

Day = dict[str, Any]  # {"visits": int, "intents": {channel: {intent name: int}}}


class UsageError(ValueError):
    """A usage file that cannot be read; `code` is stable."""

    code = "usage"


class UsageLog:
    """Counts in memory, written to `path` (atomically) when `save` is called.

    A damaged file is moved aside and counting starts afresh; a file that cannot be written is
    logged once and the kiosk goes on. `path` None keeps the counts in memory only.
    """

    def __init__(self, path: Path | None, today: Callable[[], date] = date.today) -> None:
        self.path = path
        self._today = today
        self._days: dict[str, Day] = read_days(path) if path is not None else {}
        self._unsaved = False
        self._write_failed = False

    def visit(self) -> None:
        """A visit started (the first touch, key or word after the kiosk was idle)."""
        self._day()["visits"] += 1
        self._unsaved = True

    def intent(self, name: str, channel: str) -> None:
        """One intent acted on; only its name and the way it came in are kept."""
        if name not in INTENT_NAMES or channel not in CHANNELS:
            return
        counts = self._day()["intents"].setdefault(channel, {})
        counts[name] = counts.get(name, 0) + 1
        self._unsaved = True

    def days(self) -> dict[str, Day]:
        """Every day kept, oldest first (a copy)."""
        return copy.deepcopy(dict(sorted(self._days.items())))

    def save(self) -> None:
        """Write the counts if anything changed since the last save."""
        if self.path is None or not self._unsaved:
            return
        kept = dict(sorted(self._days.items())[-KEEP_DAYS:])
        text = json.dumps({"version": FORMAT_VERSION, "days": kept}, indent=1, sort_keys=True)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(self.path, (text + "\n").encode("utf-8"))
        except OSError as error:
            if not self._write_failed:
                log.warning("usage figures: cannot write %s: %s", self.path, error)
            self._write_failed = True
            return
        self._days, self._unsaved, self._write_failed = kept, False, False

    def _day(self) -> Day:
        return self._days.setdefault(self._today().isoformat(), {"visits": 0, "intents": {}})


def read_days(path: Path, set_damaged_aside: bool = True) -> dict[str, Day]:
    """The days in a usage file; {} if there is none. A damaged one is moved aside, not lost
    (or, for a reader such as `kiosk usage`, UsageError)."""
    try:
        raw = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return {}  # nothing kept yet (a folder that cannot hold it is reported on writing)
    except OSError as error:
        if not set_damaged_aside:
            raise UsageError(f"{path} cannot be read: {error.strerror or error}") from None
        log.warning("usage figures: cannot read %s: %s", path, error)
        return {}
    try:
        return _checked(json.loads(raw.decode("utf-8")))
    except ValueError as error:
        if not set_damaged_aside:
            raise UsageError(f"{path} cannot be read: {error}") from None
        aside = path.with_name(path.name + ".damaged")
        with contextlib.suppress(OSError):
            os.replace(path, aside)
        log.warning("usage figures: %s could not be read (%s); moved to %s", path, error, aside)
        return {}


def _checked(data: Any) -> dict[str, Day]:
    """The file's days, each shaped as written; ValueError if anything is not."""
    if not isinstance(data, dict) or data.get("version") != FORMAT_VERSION:
        raise ValueError("not a usage file of this version")
    days = data.get("days")
    if not isinstance(days, dict):
        raise ValueError("no days")
    for day, figures in days.items():
        date.fromisoformat(day)
        if not isinstance(figures, dict) or not _count(figures.get("visits")):
            raise ValueError(f"{day}: no visit count")
        intents = figures.get("intents")
        if not isinstance(intents, dict) or not all(
            channel in CHANNELS and isinstance(counts, dict)
            and all(name in INTENT_NAMES and _count(n) for name, n in counts.items())
            for channel, counts in intents.items()
        ):
            raise ValueError(f"{day}: intents are not counts by channel")
    return days


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


# ----- `kiosk usage` ---------------------------------------------------------------------------


def totals(figures: Day) -> dict[str, int]:
    """A day's figures as one row: visits, intents by way in, and voice not understood."""
    intents = figures["intents"]
    row = {"visits": figures["visits"]}
    for channel in CHANNELS:
        counts = intents.get(channel, {})
        row[channel] = sum(n for name, n in counts.items() if name != IntentName.NONE.value)
    row["not understood"] = intents.get("voice", {}).get(IntentName.NONE.value, 0)
    return row


def _show(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.usage_file
    if path is None:
        print("kiosk: usage figures are off (usage_figures = false)", file=sys.stderr)
        return 1
    try:
        days = read_days(path, set_damaged_aside=False)
    except UsageError as error:
        print(f"kiosk: {error}", file=sys.stderr)
        return 1
    shown = dict(sorted(days.items())[-args.days :])
    if args.json:
        print(json.dumps({"file": str(path), "days": shown}, sort_keys=True))
        return 0
    if not shown:
        print(f"no usage figures yet ({path})")
        return 0
    columns = ("visits", *CHANNELS, "not understood")

    def line(first: str, values: dict[str, Any]) -> str:
        return f"{first:<12}" + "".join(f"{values[name]:>{len(name) + 3}}" for name in columns)

    print(line("day", {name: name for name in columns}))
    rows = {day: totals(figures) for day, figures in shown.items()}
    for day, row in rows.items():
        print(line(day, row))
    print(line("total", {name: sum(row[name] for row in rows.values()) for name in columns}))
    print("touch, keypad, voice: requests acted on, by way in; not understood: by voice")
    return 0


def register(subparsers: Any) -> None:
    """Add `kiosk usage` to the command line."""
    parser = subparsers.add_parser(
        "usage", help="anonymous usage figures: visits and requests per day, by way in"
    )
    parser.add_argument("--days", type=int, default=14, help="how many recent days (default 14)")
    parser.add_argument("--json", action="store_true", help="every count, as one JSON object")
    parser.set_defaults(handler=_show)
