"""A helper process of the kiosk's own (the neural recogniser, the recognition process), started
as `python -m MODULE FD ...` with one end of a socket pair, which carries pickled requests and
answers. Light on purpose: the processes' own modules import it before anything heavy.

The child says ("ready", "") or ("failed", reason) once it has loaded what it needs, then
answers requests until it gets None or the socket closes.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
from collections.abc import Iterator
from multiprocessing.connection import Connection
from typing import Any


class Child:
    """The parent's side of one helper process."""

    def __init__(self, module: str, *args: str) -> None:
        ours, theirs = socket.socketpair()
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-m", module, str(theirs.fileno()), *args],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self.connection = Connection(ours.detach())

    def failure(self, timeout_s: float) -> str | None:
        """None once the child says it is ready; its reason if it failed to load; "" if it said
        nothing in time. EOFError or OSError if it ended."""
        if not self.connection.poll(timeout_s):
            return ""
        status, detail = self.connection.recv()
        return None if status == "ready" else str(detail)

    def close(self, grace_s: float) -> None:
        """Ask the child to finish (None), give it `grace_s` to do so, then end it."""
        with contextlib.suppress(OSError):
            self.connection.send(None)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=grace_s)
        self.end()

    def end(self) -> None:
        """Close the socket and make sure the process is gone."""
        self.connection.close()
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=5)


def requests(connection: Connection) -> Iterator[Any]:
    """The child's side: each request, until None comes or the socket closes."""
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        yield request
