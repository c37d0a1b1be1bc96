"""`kiosk metrics`: the kiosk's health and anonymous usage in Prometheus' text format.

For node_exporter's textfile collector, so that a hospital's existing monitoring sees every
kiosk with no server of ours (docs/fleet.md). Health is the doctor's checks, by default those
that neither open a sound device nor load a model (`--all` runs every one); usage is the counts
that `kiosk usage` shows, never anything a visitor said. `--out FILE` writes the file whole or
not at all (kiosk.files.write_atomically), as the collector requires.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.doctor import Finding, Status, run_checks
from kiosk.files import write_atomically
from kiosk.usage import CHANNELS, UsageError, read_days

#: The doctor's checks that take no device and load no model: quick enough for every scrape.
QUICK_CHECKS = ("configuration", "content", "fonts", "cache", "usage")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def health_lines(findings: Iterable[Finding]) -> list[str]:
    """One state-set metric per check (1 for its status, 0 for the others) and a summary."""
    lines = [
        "# HELP kiosk_check_status The kiosk doctor's checks: 1 for each check's status.",
        "# TYPE kiosk_check_status gauge",
    ]
    failed = 0
    for finding in findings:
        failed += finding.status is Status.FAIL
        for status in Status:
            lines.append(f'kiosk_check_status{{check="{_label(finding.check)}",'
                         f'status="{status.value}"}} {int(finding.status is status)}')
    lines += [
        "# HELP kiosk_checks_failed Checks that failed (0 for a healthy kiosk).",
        "# TYPE kiosk_checks_failed gauge",
        f"kiosk_checks_failed {failed}",
    ]
    return lines


def usage_lines(days: dict[str, Any], today: str) -> list[str]:
    """Visits and requests by way in and intent over the days kept, and today's visits."""
    visits = sum(day["visits"] for day in days.values())
    requests: dict[tuple[str, str], int] = {}
    for day in days.values():
        for channel, counts in day["intents"].items():
            for name, count in counts.items():
                requests[channel, name] = requests.get((channel, name), 0) + count
    lines = [
        "# HELP kiosk_visits_total Visits over the days the usage file keeps.",
        "# TYPE kiosk_visits_total counter",
        f"kiosk_visits_total {visits}",
        "# HELP kiosk_visits_today Visits since midnight.",
        "# TYPE kiosk_visits_today gauge",
        f"kiosk_visits_today {days.get(today, {}).get('visits', 0)}",
        "# HELP kiosk_requests_total Requests by way in and intent ('none': not understood).",
        "# TYPE kiosk_requests_total counter",
    ]
    for (channel, name), count in sorted(requests.items(), key=lambda item: (
            CHANNELS.index(item[0][0]) if item[0][0] in CHANNELS else 99, item[0][1])):
        lines.append(f'kiosk_requests_total{{channel="{_label(channel)}",'
                     f'intent="{_label(name)}"}} {count}')
    return lines


def render(settings: Settings, every_check: bool = False, config_problems: Any = ()) -> str:
    """The whole text file."""
    findings = list(run_checks(settings, config_problems,
                               only=None if every_check else QUICK_CHECKS))
    lines = health_lines(findings)
    path = settings.usage_file
    if path is not None:
        try:
            days = read_days(path, set_damaged_aside=False)
        except UsageError:
            days = {}  # the usage check above already says why
        lines += usage_lines(days, time.strftime("%Y-%m-%d"))
    lines += [
        "# HELP kiosk_metrics_timestamp_seconds When these figures were written.",
        "# TYPE kiosk_metrics_timestamp_seconds gauge",
        f"kiosk_metrics_timestamp_seconds {time.time():.0f}",
    ]
    return "\n".join(lines) + "\n"


def _metrics(args: argparse.Namespace, settings: Settings) -> int:
    text = render(settings, args.all, getattr(args, "config_problems", ()))
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        write_atomically(args.out, text.encode("utf-8"))
    except OSError as error:
        print(f"kiosk metrics: cannot write {args.out}: {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0


def register(subparsers: Any) -> None:
    """Add `kiosk metrics` to the command line."""
    parser = subparsers.add_parser(
        "metrics", help="health and anonymous usage for Prometheus (node_exporter textfile)"
    )
    parser.add_argument("--out", type=Path, metavar="FILE",
                        help="write here, atomically (e.g. .../textfile_collector/kiosk.prom)")
    parser.add_argument("--all", action="store_true",
                        help="every doctor check, including sound, microphone and models")
    parser.set_defaults(handler=_metrics, reports_config_problems=True)
