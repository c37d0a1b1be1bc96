"""`kiosk run`: the app in a real window, with SDL's signal handling kept out of the way and
SIGTERM and SIGINT closing it as a staff exit does."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

from kiosk.config import Settings
from kiosk.ui import display
from kiosk.ui.app import create_app

log = logging.getLogger(__name__)


def run_kiosk(settings: Settings) -> int:
    """`kiosk run`: the touchscreen kiosk, until staff leave with the PIN or the system stops it
    (SIGTERM, Ctrl-C). Never raises."""
    # SDL turns SIGTERM into a request to close the window, which the lockdown refuses as it
    # should refuse a visitor's: `systemctl stop` then waited for SIGKILL. Kept from SDL here,
    # and taken by Python's handlers below once the window exists.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    try:
        app = create_app(settings)
        unseen = display.unseen_driver(os.environ.get("SDL_VIDEODRIVER", ""))
        if unseen:
            # SDL falls back to drawing into memory when no display answers (X not up yet, a
            # DISPLAY that names nothing, an SSH session): the kiosk would run on unseen.
            message = (
                f"no screen to show the kiosk on (SDL's video driver is '{unseen}'): start it "
                "in the kiosk's graphical session (DISPLAY set), or set "
                "SDL_VIDEODRIVER=kmsdrm to draw on the console"
            )
            if os.environ.get("WAYLAND_DISPLAY"):
                # Kivy's SDL2 has no Wayland driver: under cage it draws through Xwayland.
                message += ("; under Wayland (cage) the kiosk needs Xwayland: "
                            "apt-get install xwayland")
            # The process's own stderr: Kivy may have put a logger in place of sys.stderr.
            print(f"kiosk: {message}", file=sys.__stderr__ or sys.stderr, flush=True)
            return 1
        _stop_on_signals(app)
        app.run()
        return int(app.exit_code)
    except KeyboardInterrupt:
        return 130
    except Exception:
        log.exception("ui: the kiosk window failed")
        return 1


def _stop_on_signals(app: Any) -> None:
    """SIGTERM (exit 0) and SIGINT (exit 130) close the kiosk cleanly, as a staff exit does:
    the speech stops and the microphone is let go."""
    from kivy.clock import Clock

    def stop(number: int, _frame: object) -> None:
        log.info("ui: stopping on %s", signal.Signals(number).name)
        app.systemd.stopping()
        app.exit_code = 0 if number == signal.SIGTERM else 128 + number
        # Stopped from the next frame, not inside the handler, which may interrupt a frame.
        Clock.schedule_once(lambda _dt: app.leave(), 0)

    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, stop)
