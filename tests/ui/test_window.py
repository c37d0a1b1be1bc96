"""A real Kivy window under Xvfb, driven by touches, real key presses and injected intents.

Each window size runs in its own process (Kivy has one window per process); the flows and what
they observed are in tests/ui/driver.py, and every observation is asserted here.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from kiosk.config import BUNDLED_CONTENT
from tests.support.xvfb import XvfbDisplay, window_ids
from tests.ui.runner import Report, run_driver

pytestmark = [pytest.mark.real_window, pytest.mark.slow]

SIZES = [(1920, 1080), (1280, 800), (1080, 1920)]
SCREENSHOT_SIZES = [(1920, 1080), (1080, 1920)]
SCREENS = ("welcome", "topic", "reader", "help", "did_you_mean", "idle_warning", "reader_large_text",
           "reader_high_contrast", "sound_unavailable", "microphone_unavailable", "staff_pin")



def _need_xvfb_and_xdotool() -> None:
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.fail("Xvfb and xdotool are needed: run `make test`, which installs them")


@pytest.fixture(scope="module")
def display() -> Iterator[XvfbDisplay]:
    _need_xvfb_and_xdotool()
    with XvfbDisplay(1920, 1920) as server:
        yield server


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("window")


@pytest.fixture(scope="module")
def reports(out_dir: Path) -> Iterator[dict[tuple[int, int], Future[Report]]]:
    """Every flow at every size, the sizes at once: each in its own process on a display of
    its own (real key presses go to the focused window, so two windows never share one). A
    run mostly waits for the window to settle (about a fifth of a core each), so together they
    take about as long as one did alone. A size whose run fails fails its own tests only."""
    _need_xvfb_and_xdotool()
    with ExitStack() as stack:
        displays = {size: stack.enter_context(XvfbDisplay(1920, 1920)) for size in SIZES}
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=len(SIZES)))
        yield {size: pool.submit(run_driver, displays[size], size,
                                 out_dir / f"{size[0]}x{size[1]}") for size in SIZES}


@pytest.fixture(params=SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def report(request: pytest.FixtureRequest,
           reports: dict[tuple[int, int], Future[Report]]) -> Report:
    return reports[request.param].result()


def assert_flow(report: Report, flow: str, at_least: int) -> None:
    checks = report.checks(flow)
    assert len(checks) >= at_least, f"{flow}: only {len(checks)} observations recorded"
    assert report.failures(flow) == []


def test_window_opens_on_the_welcome_screen(report: Report) -> None:
    assert_flow(report, "start", 2)


def test_font_size_targets_and_nothing_clipped_on_welcome(report: Report) -> None:
    assert_flow(report, "looks", 7)


def test_keypad_only_from_welcome_to_end_of_section(report: Report) -> None:
    assert_flow(report, "keypad", 24)


def test_touch_controls(report: Report) -> None:
    assert_flow(report, "touch", 10)


def test_touch_to_hear(report: Report) -> None:
    assert_flow(report, "touch_to_hear", 7)


def test_systemd_hears_ready_and_a_heartbeat_that_stops_when_the_ui_stalls(report: Report) -> None:
    assert_flow(report, "watchdog", 4)


def test_new_content_is_taken_when_a_visit_ends_and_a_broken_edit_never(report: Report) -> None:
    assert_flow(report, "content_reload", 7)


def test_voice_intents(report: Report) -> None:
    assert_flow(report, "voice", 5)


def test_did_you_mean_answered_by_touch_keypad_and_voice(report: Report) -> None:
    assert_flow(report, "did you mean", 8)


def test_idle_warning_then_reset(report: Report) -> None:
    assert_flow(report, "idle", 12)


def test_largest_text_size_does_not_clip(report: Report) -> None:
    assert_flow(report, "largest_text", 11)


def test_high_contrast_mode(report: Report) -> None:
    assert_flow(report, "high_contrast", 1)


def test_sound_and_microphone_problems_shown(report: Report) -> None:
    assert_flow(report, "status", 5)


def test_lockdown_keys_and_close_requests(report: Report) -> None:
    assert_flow(report, "lockdown", 5)


def test_staff_exit_needs_gesture_and_pin(report: Report) -> None:
    assert_flow(report, "staff", 2)
    assert report.data["stopped_by_staff"], "the right PIN should close the kiosk"
    assert report.data["exit_code"] == 0


def test_contrast_sampled_from_pixels(report: Report) -> None:
    assert_flow(report, "contrast", 2 * len(SCREENS))


@pytest.mark.parametrize("size", SCREENSHOT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_screenshot_of_every_screen(size: tuple[int, int],
                                    reports: dict[tuple[int, int], Future[Report]]) -> None:
    saved = reports[size].result().data["screenshots"]
    for screen in SCREENS:
        assert screen in saved, f"no screenshot of {screen}"
        path = Path(saved[screen])
        assert path.stat().st_size > 10_000, f"{path} looks empty"
        assert path.name == f"{screen}-{size[0]}x{size[1]}.png"


def content_without_topics(tmp_path: Path) -> Path:
    """A content folder whose one language has its strings but no topic: it cannot load."""
    broken = tmp_path / "content"
    (broken / "en" / "topics").mkdir(parents=True)
    shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", broken / "en" / "strings.toml")
    return broken


def test_broken_content_shows_a_content_error_screen(
    display: XvfbDisplay, out_dir: Path, tmp_path: Path
) -> None:
    broken = content_without_topics(tmp_path)
    report = run_driver(display, (1920, 1080), out_dir / "content-error", content_dir=broken)
    assert_flow(report, "content_error", 6)
    assert "content_error" in report.data["screenshots"]


def test_a_broken_edit_after_a_good_start_shows_the_last_good_content(
    display: XvfbDisplay, out_dir: Path, tmp_path: Path
) -> None:
    broken = content_without_topics(tmp_path)
    out = out_dir / "last-good"
    # The copy an earlier good start kept (the driver gives a content-dir run out/cache).
    shutil.copytree(
        BUNDLED_CONTENT / "en", out / "cache" / "content-last-good" / "en", dirs_exist_ok=True
    )
    report = run_driver(display, (1280, 800), out, content_dir=broken, start_only=True)
    assert_flow(report, "start", 3)
    assert report.data["content_root"] == str(out / "cache" / "content-last-good" / "en")
    assert "content_error" not in report.data["screenshots"]


@pytest.mark.parametrize(("stop_signal", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_the_system_stops_the_kiosk_cleanly_past_its_lockdown(
    display: XvfbDisplay, tmp_path: Path, stop_signal: signal.Signals, exit_code: int
) -> None:
    """`systemctl stop` (SIGTERM) and Ctrl-C end `kiosk run`; SDL used to turn them into
    close requests, which the lockdown refuses, so the kiosk ran on until SIGKILL."""
    env = {**display.env, "KIOSK_CACHE_DIR": str(tmp_path / "cache"),
           "PULSE_SERVER": f"unix:{tmp_path / 'no-sound'}"}
    kiosk = subprocess.Popen([str(Path(sys.executable).with_name("kiosk")), "run"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not window_ids(display.display, kiosk.pid):
            assert kiosk.poll() is None, kiosk.communicate()[1]
            assert time.monotonic() < deadline, "the kiosk window never opened"
            time.sleep(0.5)
        time.sleep(2)  # past start-up, into the running kiosk
        kiosk.send_signal(stop_signal)
        assert kiosk.wait(timeout=30) == exit_code
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
            kiosk.wait()


def test_with_no_screen_answering_the_kiosk_says_so_and_exits(tmp_path: Path) -> None:
    """SDL falls back to drawing into memory; the kiosk used to run on there, unseen, so a
    service started before the display never failed and was never restarted."""
    unused = next(n for n in range(4093, 4000, -1) if not Path(f"/tmp/.X11-unix/X{n}").exists())
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("KIOSK_", "SDL_")) and k != "WAYLAND_DISPLAY"}
    env.update({"DISPLAY": f":{unused}", "KIOSK_CACHE_DIR": str(tmp_path / "cache"),
                "PULSE_SERVER": f"unix:{tmp_path / 'no-sound'}", "KIVY_NO_CONSOLELOG": "1"})
    result = subprocess.run([str(Path(sys.executable).with_name("kiosk")), "run"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "kiosk: no screen to show the kiosk on" in result.stderr
    assert "Traceback" not in result.stderr
