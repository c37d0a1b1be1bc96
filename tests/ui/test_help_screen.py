"""The help screen: the keypad drawn from the keymap, things to say, touch in one line.

The window tests (tests/ui/help_driver.py, a real kiosk window under Xvfb, one process per
window size) check the drawing against the keymap, a clinic's own keymap, the layout in each
orientation, touch-to-hear on a key, and that nothing is clipped or left unrendered at every
text size and in high contrast. The legend rules are checked here without a window.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest

from kiosk.config import DEFAULT_KEYPAD, KEYPAD_ACTIONS
from kiosk.ui.keypad_legend import KEY_SPOTS, legend, numpad_actions, spoken_name
from tests.support.xvfb import XvfbDisplay
from tests.ui.runner import ROOT, RUN_TIMEOUT_S, Report, read_report

STRINGS = {
    "key.up": "Up", "key.activate": "Choose", "button.up": "Go up", "button.talk": "Talk",
    "button.where_am_i": "Where am I?", "keycap.numpadmul": "Asterisk",
}


def lookup(key: str) -> str | None:
    return STRINGS.get(key)


# ----- without a window -----------------------------------------------------------------


def test_words_wrap_a_word_at_a_time() -> None:
    """What BalancedText counts on to find the narrowest width that keeps a sentence to as
    many lines as at its full room."""
    from kiosk.ui.help import wrapped_lines

    words = [40.0, 30.0, 50.0, 20.0]  # with spaces of 10: 40+10+30 = 80, +10+50 = 140
    assert wrapped_lines(words, 10.0, 1000.0) == 1
    assert wrapped_lines(words, 10.0, 170.0) == 1  # 40 30 50 20: 170 exactly
    assert wrapped_lines(words, 10.0, 169.0) == 2  # 40 30 50 | 20
    assert wrapped_lines(words, 10.0, 80.0) == 2  # 40 30 | 50 20
    assert wrapped_lines(words, 10.0, 79.0) == 4  # every word alone
    assert wrapped_lines([200.0], 10.0, 50.0) == 1  # a word wider than the line stays whole


def test_a_key_legend_is_the_key_string_then_the_button_string_then_the_action_name() -> None:
    assert legend("up", lookup) == "Up"  # key.up, before button.up
    assert legend("talk", lookup) == "Talk"  # no key.talk: button.talk
    assert legend("where_am_i", lookup) == "Where am I?"
    assert legend("read_it_slowly", lookup) == "Read it slowly"  # no string at all


def test_every_numpad_key_of_the_default_keymap_is_on_the_drawing() -> None:
    actions = numpad_actions(DEFAULT_KEYPAD)
    numpad_keys = {name for names in DEFAULT_KEYPAD.values() for name in names
                   if name.startswith("numpad")}
    assert set(actions) == numpad_keys
    assert actions["numpad8"] == "up"
    assert actions["numpadsubtract"] == "quieter"  # Kivy spells it numpadsubstract
    assert {actions[name] for name in actions} <= set(KEYPAD_ACTIONS)


def test_any_action_on_a_numpad_key_is_drawn_and_other_keys_are_not() -> None:
    keypad = {"frobnicate": ("numpad3",), "quieter": ("NumpadSubstract",), "talk": ("t",),
              "home": ("home", "kp_1")}
    assert numpad_actions(keypad) == {"numpad3": "frobnicate", "numpadsubtract": "quieter"}


def test_the_drawing_is_a_numeric_keypad() -> None:
    grid: dict[tuple[int, int], str] = {}
    for spot in KEY_SPOTS:
        for col in range(spot.col, spot.col + spot.cols):
            for row in range(spot.row, spot.row + spot.rows):
                assert (col, row) not in grid, f"{spot.name} overlaps {grid[(col, row)]}"
                grid[(col, row)] = spot.name
    rows = [[grid.get((col, row), "") for col in range(4)] for row in range(5)]
    assert rows == [
        ["numlock", "numpaddivide", "numpadmul", "numpadsubtract"],
        ["numpad7", "numpad8", "numpad9", "numpadadd"],
        ["numpad4", "numpad5", "numpad6", "numpadadd"],
        ["numpad1", "numpad2", "numpad3", "numpadenter"],
        ["numpad0", "numpad0", "numpaddecimal", "numpadenter"],
    ]


def test_a_key_is_called_by_its_name_aloud() -> None:
    spots = {spot.name: spot for spot in KEY_SPOTS}
    assert spoken_name(spots["numpad8"], lookup) == "8"
    assert spoken_name(spots["numpadmul"], lookup) == "Asterisk"  # keycap.numpadmul
    assert spoken_name(spots["numpadadd"], lookup) == "Plus"


# ----- a real window ----------------------------------------------------------------------

RUNS = {
    "1920x1080": ((1920, 1080), False),
    "1280x800": ((1280, 800), False),
    "1080x1920": ((1080, 1920), False),
    "1920x1080-rebound": ((1920, 1080), True),
}


def _run(display: XvfbDisplay, size: tuple[int, int], rebound: bool, out: Path) -> Report:
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.ui.help_driver", "--size", f"{size[0]}x{size[1]}",
               "--out", str(out)] + (["--rebound"] if rebound else [])
    result = subprocess.run(command, cwd=ROOT, env=display.env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S, check=False)
    log = result.stdout[-4000:] + result.stderr[-4000:]
    return read_report(size, out, f"the help driver (exit {result.returncode})", log)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future[Report]]]:
    """Each run in its own process on a display of its own, all at once."""
    if shutil.which("Xvfb") is None or shutil.which("xdotool") is None:
        pytest.fail("Xvfb and xdotool are needed: run `make test`, which installs them")
    out = tmp_path_factory.mktemp("help")
    with ExitStack() as stack:
        displays = {run: stack.enter_context(XvfbDisplay(1920, 1920)) for run in RUNS}
        pool = stack.enter_context(ThreadPoolExecutor(max_workers=len(RUNS)))
        yield {run: pool.submit(_run, displays[run], *RUNS[run], out / run) for run in RUNS}


@pytest.mark.real_window
@pytest.mark.slow
@pytest.mark.parametrize("run", list(RUNS))
def test_help_screen_in_a_real_window(run: str, reports: dict[str, Future[Report]]) -> None:
    report = reports[run].result()
    checks = report.checks("help")
    assert len(checks) >= (40 if run.endswith("rebound") else 100), \
        f"only {len(checks)} observations recorded"
    assert report.failures("help") == []
    wanted = {"help_rebound"} if run.endswith("rebound") else \
        {"help", "help_large_text", "help_high_contrast_large_text"}
    assert set(report.data["screenshots"]) == wanted
    assert report.failures("contrast") == []
