"""Runs tests/ui/driver.py in a child process on a private Xvfb display and reads its report.

Kivy allows one window per process, so each window size gets its own process.
"""

from __future__ import annotations

import json
import operator
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.xvfb import XvfbDisplay

ROOT = Path(__file__).resolve().parents[2]
#: One run walks every flow; on a loaded 2-core machine it takes well under a minute.
RUN_TIMEOUT_S = 240
OPERATORS = {"==": operator.eq, ">=": operator.ge, "<=": operator.le}


@dataclass
class Report:
    """What one driver run saw."""

    size: tuple[int, int]
    data: dict[str, Any]
    out: Path
    log: str

    def checks(self, flow: str) -> list[dict[str, Any]]:
        return [check for check in self.data.get("checks", []) if check["flow"] == flow]

    def failures(self, flow: str) -> list[str]:
        """Every check of `flow` that did not hold, as readable lines."""
        failed = []
        for check in self.checks(flow):
            if not OPERATORS[check["op"]](check["actual"], check["expected"]):
                failed.append(
                    f"{check['what']}: got {check['actual']!r}, wanted {check['op']} "
                    f"{check['expected']!r}"
                )
        return failed


def run_driver(
    display: XvfbDisplay,
    size: tuple[int, int],
    out: Path,
    content_dir: Path | None = None,
    start_only: bool = False,
) -> Report:
    """Run every flow at one window size; raises if the child crashed or wrote no report."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.ui.driver", "--size", f"{size[0]}x{size[1]}",
               "--out", str(out)]
    if content_dir is not None:
        command += ["--content-dir", str(content_dir)]
    if start_only:
        command.append("--start-only")
    result = subprocess.run(
        command, cwd=ROOT, env=display.env, capture_output=True, text=True,
        timeout=RUN_TIMEOUT_S, check=False,
    )
    log = result.stdout[-4000:] + result.stderr[-4000:]
    return read_report(size, out, f"the window driver (exit {result.returncode})", log)


def read_report(size: tuple[int, int], out: Path, driver: str, log: str) -> Report:
    """The report a driver child process wrote into `out`; raises if it wrote none or failed."""
    report_path = out / "report.json"
    if not report_path.is_file():
        raise RuntimeError(f"{driver} wrote no report:\n{log}")
    data = json.loads(report_path.read_text())
    if data.get("error"):
        raise RuntimeError(f"{driver} failed:\n{data['error']}\n{log}")
    return Report(size, data, out, log)
