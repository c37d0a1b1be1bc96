"""`make screenshots`: regenerate docs/screenshots/ from a real kiosk window under Xvfb.

Runs the same driver as the window tests at 1920x1080 and 1080x1920 (plus the content-error
screen) and copies the screenshots it took into docs/screenshots/.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from kiosk.config import BUNDLED_CONTENT
from tests.support.xvfb import XvfbDisplay
from tests.ui.runner import ROOT, run_driver

TARGET = ROOT / "docs" / "screenshots"
SIZES = ((1920, 1080), (1080, 1920))


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as scratch, XvfbDisplay() as display:
        work = Path(scratch)
        reports = [run_driver(display, size, work / f"{size[0]}x{size[1]}") for size in SIZES]
        broken = work / "broken" / "en"
        (broken / "topics").mkdir(parents=True)
        shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", broken / "strings.toml")
        reports.append(run_driver(display, SIZES[0], work / "content-error", broken.parent))
        copied = 0
        for report in reports:
            failed = [line for flow in {c["flow"] for c in report.data["checks"]}
                      for line in report.failures(flow)]
            if failed:
                print(f"warning: {report.size}: " + "; ".join(failed), file=sys.stderr)
            for path in report.data["screenshots"].values():
                shutil.copy(path, TARGET / Path(path).name)
                copied += 1
    print(f"{copied} screenshots written to {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
