"""`kiosk run`: the app in a real window, with SDL's signal handling kept out of the way and
SIGTERM and SIGINT closing it as a staff exit does; and `create_app`, which configures Kivy for
a kiosk before the app's module (and with it Kivy's window) is imported."""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kiosk.config import Settings
from kiosk.startup import EngineFactory, default_engines
from kiosk.ui import display, lockdown
from kiosk.worker_memory import map_large_blocks

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp

log = logging.getLogger(__name__)

#: Blocks from this size up get a mapping of their own, given back to the system when freed.
LARGE_BLOCK_BYTES = 64 * 1024


def create_app(
    settings: Settings,
    *,
    engines: EngineFactory = default_engines,
    clock: Callable[[], float] = time.monotonic,
    size: tuple[int, int] | None = None,
) -> KioskApp:
    """Configure Kivy for a kiosk and build the app (not yet running)."""
    # glibc raises its mmap threshold each time a large block (a sentence's audio, a texture's
    # pixels) is freed, so later ones come from the heap, whose freed pieces were kept: over
    # 594 soak visits the kiosk grew 10.3 MB with it, 2.8 MB with a fixed 64 KB threshold
    # (docs/install.md, "Soak"). Such blocks are then mapped and unmapped whole.
    map_large_blocks(LARGE_BLOCK_BYTES)
    fill_screen = settings.fullscreen and size is None
    if fill_screen:
        size = display.desktop_size()
        log.info("ui: filling the display, %s", f"{size[0]}x{size[1]}" if size else "size unknown")
    lockdown.configure(fill_screen, size)
    from kiosk.ui.app import KioskApp  # Kivy's window is made as it is imported: only now

    return KioskApp(settings, engines=engines, clock=clock)


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
