"""The Kivy touchscreen interface: app wiring, one .kv + .py per screen, keypad and touch-to-hear.

Importing this package stops Kivy from reading the kiosk's own command line (KIVY_NO_ARGS), so it
must be imported before anything from Kivy. It also keeps Kivy from writing its own log files
under ~/.kivy/logs (KIVY_NO_FILELOG): the kiosk logs to stderr only, and a clinic decides where
that goes.
"""

from __future__ import annotations

import os

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
