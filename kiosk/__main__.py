"""`python -m kiosk`: the same entry point as the `kiosk` console script."""

from __future__ import annotations

import sys

from kiosk.cli import main

if __name__ == "__main__":
    sys.exit(main())
