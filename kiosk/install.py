"""`kiosk install`: the kiosk as an appliance, started at boot and restarted by systemd.

It sets up, on a Debian machine (docs/install.md walks through it):
- a dedicated system user, `kiosk`, with no password and no login shell, in the groups that
  may use the screen, the input devices and the sound card;
- a session script that keeps the screen on, makes sure the user's PulseAudio runs, and then
  becomes the kiosk;
- `kiosk.service`: the session on the first console, under Xorg (xinit) or, with `--session
  wayland`, under the cage compositor; `Restart=always`, and a watchdog that the interface's
  clock feeds (kiosk.systemd), so a stalled interface is restarted too. Everything the kiosk
  logs goes to the journal; it never logs what anyone said.

`--dry-run` prints what would be written and run, and changes nothing; `--root DIR` writes the
files under DIR instead of / (for a system image, and for the tests), without running anything.
Where systemd is not running (a chroot, an image being built), there is nothing to reload: the
unit is still enabled (`systemctl enable` works on the files alone) and starts at the next boot.
"""

from __future__ import annotations

import argparse
import glob
import grp
import os
import pwd
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kiosk.config import Settings
from kiosk.speech.player import AUDIO_PRIORITY

UNIT_NAME = "kiosk.service"
METRICS_SERVICE = "kiosk-metrics.service"
METRICS_TIMER = "kiosk-metrics.timer"
METRICS_EVERY = "5min"
UNIT_DIR = Path("/etc/systemd/system")
SESSION_SCRIPT = Path("/usr/local/lib/kiosk/kiosk-session")
#: Groups that give the screen (video, render), touch and keypad (input) and sound (audio);
#: those a machine lacks are left out.
GROUPS = ("audio", "video", "render", "input")
#: Seconds without a heartbeat before systemd restarts the kiosk. The interface beats three
#: times a period from its own clock; its slowest frames take well under a second.
WATCHDOG_S = 30
#: Seconds to the first interactive frame before systemd gives up on a start: the first start
#: on a slow machine includes building the speech cache's index and loading the models.
START_TIMEOUT_S = 90

X11_SERVER_OPTIONS = "-nolisten tcp -s 0 -dpms -keeptty"
#: Exists only while systemd runs as PID 1: the test of systemd's own sd_booted().
SYSTEMD_RUNNING = Path("/run/systemd/system")
#: pam_systemd, which `PAMName=login` needs to open a login session (seat, screen, input devices,
#: the user's runtime folder and PulseAudio); Debian's libpam-systemd, "standard" priority, so a
#: machine installed without "standard system utilities" lacks it.
PAM_SYSTEMD = ("/usr/lib/*/security/pam_systemd.so", "/lib/*/security/pam_systemd.so")


@dataclass(frozen=True, slots=True)
class Plan:
    """What `kiosk install` sets up."""

    #: The `kiosk` command to start (the console script in the kiosk's virtual environment).
    kiosk: Path
    session: str = "x11"
    user: str = "kiosk"
    home: Path = Path("/var/lib/kiosk")
    tty: int = 1
    config: Path | None = None
    #: node_exporter's textfile folder: `kiosk metrics` writes kiosk.prom there every 5 minutes.
    metrics_dir: Path | None = None

    def _kiosk_command(self) -> list[str]:
        command = [str(self.kiosk)]
        if self.config is not None:
            command += ["--config", str(self.config)]
        return command

    def unit(self) -> str:
        """kiosk.service."""
        tty = f"tty{self.tty}"
        if self.session == "wayland":
            # -s: staff may still switch consoles (Ctrl+Alt+F2) to repair the machine.
            start = f"/usr/bin/cage -s -- {SESSION_SCRIPT}"
        else:
            start = (f"/usr/bin/xinit {SESSION_SCRIPT} -- /usr/bin/Xorg :0 vt{self.tty} "
                     f"{X11_SERVER_OPTIONS}")
        return f"""\
# Written by `kiosk install` (docs/install.md); written again by the next install.
[Unit]
Description=Information kiosk for the waiting room
After=systemd-user-sessions.service getty@{tty}.service sound.target
Conflicts=getty@{tty}.service
# Never give up restarting: a kiosk that stops trying is a dark screen in a waiting room.
StartLimitIntervalSec=0

[Service]
Type=notify
# The kiosk is a child of the display server, which is the unit's main process.
NotifyAccess=all
User={self.user}
WorkingDirectory={self.home}
# A login session on the console: the display server gets the seat, the screen and the input
# devices, and the user's PulseAudio starts.
PAMName=login
TTYPath=/dev/{tty}
TTYReset=yes
TTYVHangup=yes
TTYVTDisallocate=yes
StandardInput=tty-fail
StandardOutput=journal
StandardError=journal
UtmpIdentifier={tty}
UtmpMode=user
Environment=XDG_SESSION_TYPE={self.session}
ExecStart={start}
Restart=always
RestartSec=2
TimeoutStartSec={START_TIMEOUT_S}
WatchdogSec={WATCHDOG_S}
TimeoutStopSec=10
# The audio callback's thread asks for this real-time priority, so the kiosk's own work never
# keeps it from a core long enough to stutter (kiosk/speech/player.py).
LimitRTPRIO={AUDIO_PRIORITY}

[Install]
WantedBy=multi-user.target
"""

    def session_script(self) -> str:
        """The session: screen kept on, the audio server running, then the kiosk itself."""
        command = [*self._kiosk_command(), "run"]
        return f"""\
#!/bin/sh
# Written by `kiosk install`. Started by {"cage" if self.session == "wayland" else "xinit"} \
for the {self.user} user from {UNIT_NAME}; when the
# kiosk ends, the display server ends with it and systemd starts both again.
# The screen never blanks (the X server is also started with -s 0 -dpms).
xset s off s noblank -dpms 2>/dev/null || true
# The user's PulseAudio normally starts with the login session; start it if it has not.
pulseaudio --check 2>/dev/null || pulseaudio --start --exit-idle-time=-1 2>/dev/null || true
exec {shlex.join(command)}
"""


    def metrics_units(self) -> tuple[str, str]:
        """kiosk-metrics.service and its timer: health and usage for node_exporter."""
        assert self.metrics_dir is not None
        out = self.metrics_dir / "kiosk.prom"
        service = f"""\
# Written by `kiosk install --metrics-dir`: the kiosk's health and anonymous usage figures for
# node_exporter's textfile collector (docs/fleet.md).
[Unit]
Description=Kiosk health and usage figures for Prometheus

[Service]
Type=oneshot
User={self.user}
ExecStart={shlex.join([*self._kiosk_command(), "metrics", "--out", str(out)])}
"""
        timer = f"""\
# Written by `kiosk install --metrics-dir`.
[Unit]
Description=Kiosk health and usage figures every {METRICS_EVERY}

[Timer]
OnBootSec=1min
OnUnitActiveSec={METRICS_EVERY}

[Install]
WantedBy=timers.target
"""
        return service, timer


def files(plan: Plan) -> dict[Path, tuple[str, int]]:
    """Every file the install writes: path -> (text, mode)."""
    written = {
        SESSION_SCRIPT: (plan.session_script(), 0o755),
        UNIT_DIR / UNIT_NAME: (plan.unit(), 0o644),
    }
    if plan.metrics_dir is not None:
        service, timer = plan.metrics_units()
        written[UNIT_DIR / METRICS_SERVICE] = (service, 0o644)
        written[UNIT_DIR / METRICS_TIMER] = (timer, 0o644)
    return written


def systemd_running() -> bool:
    """Whether systemd runs this machine now (not in a chroot, a container or an image)."""
    return SYSTEMD_RUNNING.is_dir()


def commands(plan: Plan, booted: bool = True) -> list[list[str]]:
    """What the install runs after writing its files, in order; `booted`: systemd is running."""
    steps: list[list[str]] = []
    try:
        pwd.getpwnam(plan.user)
    except KeyError:
        steps.append(["useradd", "--system", "--create-home", "--home-dir", str(plan.home),
                      "--shell", "/usr/sbin/nologin", "--comment", "Information kiosk",
                      plan.user])
    groups = [name for name in GROUPS if _group_exists(name)]
    if groups:
        steps.append(["usermod", "--append", "--groups", ",".join(groups), plan.user])
    if plan.metrics_dir is not None:
        # The kiosk user writes its figures there; node_exporter only reads them.
        steps.append(["install", "-d", "-o", plan.user, "-m", "0755", str(plan.metrics_dir)])
    if booted:
        # Without a running systemd, daemon-reload fails ("not been booted with systemd") and
        # there is nothing to reload: the next boot reads the unit.
        steps.append(["systemctl", "daemon-reload"])
    steps.append(["systemctl", "enable", UNIT_NAME])
    if plan.metrics_dir is not None:
        steps.append(["systemctl", "enable", METRICS_TIMER])
    return steps


def missing_programs(plan: Plan) -> list[str]:
    """The Debian packages the session needs and this machine lacks."""
    # Kivy's SDL2 has no Wayland driver: under cage the kiosk is an X client of Xwayland, and
    # without it the kiosk finds no screen and exits, again and again (tests/support/cage.py).
    needed = {"cage": "cage", "Xwayland": "xwayland"} if plan.session == "wayland" else {
        "xinit": "xinit", "Xorg": "xserver-xorg", "xset": "x11-xserver-utils"}
    needed["pulseaudio"] = "pulseaudio"
    missing = {package for program, package in needed.items() if not shutil.which(program)}
    if not any(glob.glob(pattern) for pattern in PAM_SYSTEMD):
        missing.add("libpam-systemd")
    return sorted(missing)


def install(plan: Plan, root: Path | None = None, dry_run: bool = False,
            run: Callable[..., Any] = subprocess.run, say: Callable[[str], None] = print) -> int:
    """Write the files and run the commands; with `root`, only write, under that folder."""
    for path, (text, mode) in files(plan).items():
        target = path if root is None else root / path.relative_to("/")
        if dry_run:
            say(f"--- would write {target} (mode {mode:o}):\n{text}")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        target.chmod(mode)
        say(f"wrote {target}")
    if root is not None:
        return 0
    booted = systemd_running()
    for step in commands(plan, booted=booted):
        if dry_run:
            say(f"--- would run: {shlex.join(step)}")
            continue
        say(f"running: {shlex.join(step)}")
        done = run(step, check=False)
        if done.returncode != 0:
            say(f"kiosk install: '{shlex.join(step)}' failed (exit {done.returncode})")
            return 1
    if dry_run:
        return 0
    if booted:
        say(f"Installed. Start it now with: systemctl start {UNIT_NAME}  (it also starts at "
            "boot); follow it with: journalctl -u kiosk -f")
    else:
        say(f"Installed. systemd is not running here (a chroot or an image), so nothing was "
            f"reloaded or started: {UNIT_NAME} is enabled and starts at the next boot.")
    return 0


def _group_exists(name: str) -> bool:
    try:
        grp.getgrnam(name)
    except KeyError:
        return False
    return True


def _default_kiosk() -> Path:
    """The `kiosk` command beside this Python (the virtual environment's), else on PATH."""
    beside = Path(sys.executable).parent / "kiosk"
    if beside.exists():
        return beside
    found = shutil.which("kiosk")
    return Path(found) if found else beside


def _install(args: argparse.Namespace, settings: Settings) -> int:
    del settings  # the installed kiosk reads its own settings when it starts
    plan = Plan(kiosk=(args.kiosk or _default_kiosk()).absolute(), session=args.session,
                user=args.user, config=args.config.absolute() if args.config else None,
                metrics_dir=args.metrics_dir.absolute() if args.metrics_dir else None)
    missing = missing_programs(plan)
    if missing and not (args.dry_run or args.root):
        print(f"kiosk install: this machine lacks {', '.join(missing)}; install with: "
              f"apt-get install {' '.join(missing)}", file=sys.stderr)
        return 1
    if not (args.dry_run or args.root) and os.geteuid() != 0:
        print("kiosk install: run as root (it adds a user and a systemd unit), or with "
              "--dry-run to see what it would do", file=sys.stderr)
        return 1
    return install(plan, root=args.root, dry_run=args.dry_run)


def register(subparsers: Any) -> None:
    """Add `kiosk install` to the command line."""
    parser = subparsers.add_parser(
        "install", help="start the kiosk at boot under systemd (a user, a session, a unit)"
    )
    parser.add_argument("--session", choices=("x11", "wayland"), default="x11",
                        help="Xorg started by xinit (default), or the cage Wayland compositor")
    parser.add_argument("--user", default="kiosk", help="the system user the kiosk runs as")
    parser.add_argument("--kiosk", type=Path, metavar="PATH",
                        help="the kiosk command to start (default: this environment's)")
    parser.add_argument("--metrics-dir", type=Path, metavar="DIR",
                        help="node_exporter's textfile folder: write kiosk.prom there every "
                             "5 minutes (e.g. /var/lib/prometheus/node-exporter)")
    parser.add_argument("--dry-run", action="store_true", help="print, change nothing")
    parser.add_argument("--root", type=Path, metavar="DIR",
                        help="write the files under DIR (a system image); run nothing")
    parser.set_defaults(handler=_install)
