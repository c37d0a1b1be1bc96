"""Telling systemd how the kiosk is: ready, alive, stopping (the sd_notify protocol).

systemd passes a datagram socket in $NOTIFY_SOCKET to a `Type=notify` service, and the watchdog's
period in $WATCHDOG_USEC when the unit has `WatchdogSec=`. The kiosk says READY=1 once a visitor
can use it, and WATCHDOG=1 from the interface's own clock, so the heartbeat stops when the UI
thread stalls and systemd restarts the kiosk (docs/install.md). Outside systemd, or with the
socket gone, every message is silently dropped: the kiosk never depends on its supervisor.

The kiosk runs under a display server (xinit or cage is the unit's main process), so the unit
says `NotifyAccess=all`, and $WATCHDOG_PID, which names that main process, is not checked here.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

#: Heartbeats per watchdog period: systemd's own advice is to notify at half the period or more
#: often; a third leaves room for one late frame.
BEATS_PER_PERIOD = 3


class Notifier:
    """sd_notify messages to systemd's socket; does nothing when there is none."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET", "")
        # An address starting with "@" is in Linux's abstract namespace (a leading NUL byte).
        self.address = "\0" + address[1:] if address.startswith("@") else address
        self.watchdog_s = _watchdog_seconds(env.get("WATCHDOG_USEC", ""))
        self._socket: socket.socket | None = None
        self._failed = False

    @property
    def active(self) -> bool:
        """Whether systemd is listening at all."""
        return bool(self.address)

    @property
    def heartbeat_s(self) -> float | None:
        """How often to send WATCHDOG=1, or None when the unit has no watchdog."""
        return self.watchdog_s / BEATS_PER_PERIOD if self.watchdog_s else None

    def send(self, message: str) -> bool:
        """Send one message ("READY=1"); False when it could not go (logged once)."""
        if not self.address:
            return False
        try:
            if self._socket is None:
                # Never blocking: the heartbeat is sent from the UI thread, and a receiver that
                # stops reading would otherwise freeze the interface once its queue is full.
                kind = socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK
                self._socket = socket.socket(socket.AF_UNIX, kind)
            self._socket.sendto(message.encode(), self.address)
        except OSError as error:
            if not self._failed:  # once: a heartbeat every few seconds must not flood the log
                log.warning("systemd: cannot notify %s (%s)", self.address.lstrip("\0"), error)
                self._failed = True
            return False
        self._failed = False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.send("STOPPING=1")

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()
            self._socket = None


def _watchdog_seconds(value: str) -> float | None:
    try:
        microseconds = int(value)
    except ValueError:
        return None
    return microseconds / 1_000_000 if microseconds > 0 else None
