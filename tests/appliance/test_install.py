"""`kiosk install`: the files it writes, checked by systemd's own `systemd-analyze verify`; what
it runs with and without a running systemd; and docs/install.md against both."""

from __future__ import annotations

import glob
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli import main
from kiosk.install import (
    METRICS_SERVICE,
    METRICS_TIMER,
    SESSION_SCRIPT,
    UNIT_DIR,
    UNIT_NAME,
    Plan,
    commands,
    install,
    missing_programs,
)
from kiosk.speech.player import AUDIO_PRIORITY

KIOSK = Path(sys.executable).with_name("kiosk")
INSTALL_DOC = Path(__file__).resolve().parents[2] / "docs" / "install.md"
MAKEFILE = INSTALL_DOC.parents[1] / "Makefile"


def _written(root: Path, session: str, capsys: pytest.CaptureFixture[str]) -> tuple[str, str]:
    assert main(["install", "--session", session, "--root", str(root)]) == 0
    capsys.readouterr()
    unit = (root / UNIT_DIR.relative_to("/") / UNIT_NAME).read_text()
    script = root / SESSION_SCRIPT.relative_to("/")
    assert script.stat().st_mode & 0o111, "the session script is executable"
    return unit, script.read_text()


@pytest.mark.parametrize("session", ["x11", "wayland"])
def test_systemd_analyze_verifies_the_unit(
    tmp_path: Path, session: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.fail("systemd-analyze is needed (Debian's systemd package)")
    program = "cage" if session == "wayland" else "xinit"
    if shutil.which(program) is None:
        pytest.fail(f"{program} is needed: `make test` installs it")
    root = tmp_path / "root"
    assert main(["install", "--session", session, "--root", str(root),
                 "--metrics-dir", "/var/lib/prometheus/node-exporter"]) == 0
    capsys.readouterr()
    units = root / UNIT_DIR.relative_to("/")
    names = sorted(path.name for path in units.iterdir())
    assert names == sorted([UNIT_NAME, METRICS_SERVICE, METRICS_TIMER])
    done = subprocess.run(["systemd-analyze", "verify", *(str(units / name) for name in names)],
                          capture_output=True, text=True, timeout=60)
    # verify exits 0 on an unknown key; it still says so, so any output is a problem.
    assert done.returncode == 0 and done.stdout + done.stderr == "", done.stdout + done.stderr


def test_the_unit_restarts_always_with_a_watchdog_on_the_console(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit, script = _written(tmp_path, "x11", capsys)
    lines = set(unit.splitlines())
    for line in ("Type=notify", "NotifyAccess=all", "Restart=always", "User=kiosk",
                 "StartLimitIntervalSec=0", "StandardOutput=journal", "TTYPath=/dev/tty1",
                 "Conflicts=getty@tty1.service", "WantedBy=multi-user.target",
                 f"LimitRTPRIO={AUDIO_PRIORITY}"):
        assert line in lines, line
    assert any(line.startswith("WatchdogSec=") for line in lines)
    start = next(line for line in lines if line.startswith("ExecStart="))
    assert f"/usr/bin/xinit {SESSION_SCRIPT} -- /usr/bin/Xorg :0 vt1" in start
    assert "-s 0 -dpms" in start, "the X server never blanks the screen"
    assert "xset s off" in script and "pulseaudio --check" in script
    assert script.rstrip().endswith(f"exec {KIOSK} run")


def test_wayland_runs_the_same_session_under_cage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    unit, script = _written(tmp_path, "wayland", capsys)
    assert f"ExecStart=/usr/bin/cage -s -- {SESSION_SCRIPT}" in unit.splitlines()
    assert "Environment=XDG_SESSION_TYPE=wayland" in unit.splitlines()
    assert "cage" in script


def test_the_wayland_session_needs_xwayland(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kivy's SDL2 has no Wayland driver: under cage the kiosk draws through Xwayland.
    monkeypatch.setattr(shutil, "which", lambda program: None if program == "Xwayland" else "/x")
    monkeypatch.setattr(glob, "glob", lambda pattern: [pattern])
    plan = Plan(kiosk=KIOSK, session="wayland")
    assert missing_programs(plan) == ["xwayland"]
    assert missing_programs(Plan(kiosk=KIOSK, session="x11")) == []


def test_the_metrics_timer_writes_the_textfile_as_the_kiosk_user(tmp_path: Path) -> None:
    plan = Plan(kiosk=Path("/opt/kiosk/.venv/bin/kiosk"), metrics_dir=Path("/srv/textfile"))
    service, timer = plan.metrics_units()
    assert ("ExecStart=/opt/kiosk/.venv/bin/kiosk metrics --out /srv/textfile/kiosk.prom"
            in service.splitlines())
    assert "User=kiosk" in service.splitlines() and "OnUnitActiveSec=5min" in timer
    steps = commands(plan)
    assert ["install", "-d", "-o", "kiosk", "-m", "0755", "/srv/textfile"] in steps
    assert steps[-1] == ["systemctl", "enable", METRICS_TIMER]


def test_a_site_config_is_passed_to_the_kiosk(tmp_path: Path) -> None:
    plan = Plan(kiosk=Path("/opt/kiosk/.venv/bin/kiosk"), config=Path("/etc/kiosk/site.toml"))
    assert plan.session_script().rstrip().endswith(
        "exec /opt/kiosk/.venv/bin/kiosk --config /etc/kiosk/site.toml run")


def test_a_dry_run_changes_nothing_and_says_what_it_would_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran: list[Any] = []
    assert install(Plan(kiosk=KIOSK, user="kiosk-test-nobody"), dry_run=True,
                   run=lambda *a, **k: ran.append(a)) == 0
    out = capsys.readouterr().out
    assert ran == []
    assert f"would write {UNIT_DIR / UNIT_NAME}" in out
    assert "would run: useradd --system" in out and "kiosk-test-nobody" in out
    assert "would run: systemctl enable kiosk.service" in out


def test_an_existing_user_is_not_added_again() -> None:
    steps = commands(Plan(kiosk=KIOSK, user="root"))
    assert not any(step[0] == "useradd" for step in steps)
    assert steps[-2:] == [["systemctl", "daemon-reload"], ["systemctl", "enable", UNIT_NAME]]


def test_a_failing_step_stops_the_install_with_its_reason(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files go under tmp_path; the steps "run" through a stand-in that fails the first one.
    monkeypatch.setattr("kiosk.install.UNIT_DIR", tmp_path / "units")
    monkeypatch.setattr("kiosk.install.SESSION_SCRIPT", tmp_path / "kiosk-session")

    class Failed:
        returncode = 9

    assert install(Plan(kiosk=KIOSK, user="kiosk-test-nobody"),
                   run=lambda *a, **k: Failed()) == 1
    assert "failed (exit 9)" in capsys.readouterr().out


def test_the_session_needs_pam_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    # PAMName=login opens a login session (seat, devices, runtime folder, PulseAudio) only with
    # pam_systemd; a Debian 12 debootstrap, like an install without "standard system utilities",
    # has no libpam-systemd (found in a chroot walk-through of docs/install.md).
    monkeypatch.setattr(shutil, "which", lambda program: "/x")
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    for session in ("x11", "wayland"):
        assert missing_programs(Plan(kiosk=KIOSK, session=session)) == ["libpam-systemd"]


def _install_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, booted: bool) -> list[list[str]]:
    """`kiosk install` with its files under tmp_path and its steps recorded, not run."""
    monkeypatch.setattr("kiosk.install.UNIT_DIR", tmp_path / "units")
    monkeypatch.setattr("kiosk.install.SESSION_SCRIPT", tmp_path / "kiosk-session")
    running = tmp_path / "run-systemd-system"
    if booted:
        running.mkdir()
    monkeypatch.setattr("kiosk.install.SYSTEMD_RUNNING", running)
    ran: list[list[str]] = []

    def run(step: list[str], check: bool) -> subprocess.CompletedProcess[str]:
        ran.append(step)
        return subprocess.CompletedProcess(step, 0)

    assert install(Plan(kiosk=KIOSK, user="root"), run=run) == 0
    return ran


def test_without_a_running_systemd_the_unit_is_still_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In a chroot or an image being built, `systemctl daemon-reload` fails ("System has not been
    # booted with systemd") and stopped the install before `enable`; enable works on files alone.
    ran = _install_here(tmp_path, monkeypatch, booted=False)
    assert ["systemctl", "daemon-reload"] not in ran
    assert ran[-1] == ["systemctl", "enable", UNIT_NAME]
    out = capsys.readouterr().out
    assert "starts at the next boot" in out and "systemctl start" not in out


def test_with_systemd_running_the_unit_is_reloaded_then_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran = _install_here(tmp_path, monkeypatch, booted=True)
    assert ran[-2:] == [["systemctl", "daemon-reload"], ["systemctl", "enable", UNIT_NAME]]
    assert f"systemctl start {UNIT_NAME}" in capsys.readouterr().out


def _doc_commands() -> list[str]:
    """The shell lines of docs/install.md's code blocks and table cells."""
    text = INSTALL_DOC.read_text(encoding="utf-8")
    blocks = re.findall(r"^```sh\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
    lines = [line.split("#")[0].strip() for block in blocks for line in block.splitlines()]
    cells = re.findall(r"^\| [^|]+ \| `([^`]+)` \|", text, flags=re.MULTILINE)
    return [line for line in lines + cells if line]


def test_the_install_doc_installs_what_kiosk_install_asks_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On a machine with nothing, every package `kiosk install` would ask for is in the doc's
    # apt-get lines or in what its `make venv` installs (the doc's promise: it works as written).
    monkeypatch.setattr(shutil, "which", lambda program: None)
    monkeypatch.setattr(glob, "glob", lambda pattern: [])
    lines = _doc_commands()
    installed = {word for line in lines if line.startswith("apt-get install")
                 for word in line.split()[2:] if not word.startswith("-")}
    if "make venv" in lines:
        listed = re.search(r"^APT_PACKAGES := (.*?[^\\])$", MAKEFILE.read_text(encoding="utf-8"),
                           flags=re.MULTILINE | re.DOTALL)
        assert listed is not None
        installed |= set(listed.group(1).replace("\\", " ").split())
    for session in ("x11", "wayland"):
        assert set(missing_programs(Plan(kiosk=KIOSK, session=session))) <= installed, session


def test_the_install_doc_installs_sudo_before_using_it() -> None:
    # Debian leaves sudo out when the installer is given a root password, and a minimal system
    # has none: the doc's `sudo -u kiosk` lines failed with "command not found".
    lines = _doc_commands()
    first_apt = next(line for line in lines if line.startswith("apt-get install"))
    assert any(line.startswith("sudo ") for line in lines)
    assert "sudo" in first_apt.split()
