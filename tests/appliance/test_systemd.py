"""The kiosk's messages to systemd (kiosk.systemd) on a real datagram socket."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.systemd import Notifier


@pytest.fixture
def systemd_socket(tmp_path: Path) -> Iterator[tuple[socket.socket, Path]]:
    path = tmp_path / "notify"
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listening.bind(str(path))
    listening.settimeout(2)
    yield listening, path
    listening.close()


def test_ready_watchdog_and_stopping_reach_systemd(
    systemd_socket: tuple[socket.socket, Path],
) -> None:
    listening, path = systemd_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path), "WATCHDOG_USEC": "30000000"})
    assert notifier.active and notifier.heartbeat_s == pytest.approx(10.0)
    assert notifier.ready("serving visitors")
    assert listening.recv(256) == b"READY=1\nSTATUS=serving visitors"
    assert notifier.watchdog()
    assert listening.recv(256) == b"WATCHDOG=1"
    assert notifier.stopping()
    assert listening.recv(256) == b"STOPPING=1"
    notifier.close()


def test_an_abstract_socket_address_is_used_as_systemd_gives_it() -> None:
    name = f"kiosk-test-{os.getpid()}"
    listening = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listening.bind("\0" + name)
    listening.settimeout(2)
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).watchdog()
        assert listening.recv(64) == b"WATCHDOG=1"
    finally:
        listening.close()


@pytest.mark.parametrize("value", ["", "0", "soon", "-5"])
def test_no_watchdog_no_heartbeat(value: str) -> None:
    assert Notifier({"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": value}).heartbeat_s is None


def test_outside_systemd_nothing_is_sent_and_nothing_fails() -> None:
    notifier = Notifier({})
    assert not notifier.active
    assert not notifier.ready() and not notifier.watchdog()


def test_a_vanished_socket_is_logged_once_not_every_heartbeat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    notifier = Notifier({"NOTIFY_SOCKET": str(tmp_path / "gone")})
    with caplog.at_level(logging.WARNING, logger="kiosk.systemd"):
        results = [notifier.watchdog() for _ in range(20)]
    assert results == [False] * 20
    assert len(caplog.records) == 1
    assert "cannot notify" in caplog.records[0].getMessage()


def test_a_receiver_that_stops_reading_never_blocks_the_sender(
    systemd_socket: tuple[socket.socket, Path], caplog: pytest.LogCaptureFixture
) -> None:
    # Found in the window test: its socket, never drained, filled, and the heartbeat, sent from
    # the UI thread, blocked the interface for good.
    _listening, path = systemd_socket
    notifier = Notifier({"NOTIFY_SOCKET": str(path)})
    sent: list[bool] = []
    with caplog.at_level(logging.WARNING, logger="kiosk.systemd"):
        sender = threading.Thread(
            target=lambda: sent.extend(notifier.watchdog() for _ in range(5000)), daemon=True)
        sender.start()
        sender.join(timeout=20)
    assert not sender.is_alive(), "a send blocked on the full socket"
    assert sent[0] and not sent[-1], "the queue should have filled, and sends been dropped"
    assert len(caplog.records) == 1
