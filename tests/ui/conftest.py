"""Kivy reads its environment when first imported: keep it off our command line and out of ~."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-home-"))
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
