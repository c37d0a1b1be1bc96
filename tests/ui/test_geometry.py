"""The looks rules, measured from the widgets of every screen and state in both orientations:
at the normal text size, at the largest and in high contrast (the screen tour of
tests/ui/screenshots.py, whose runs the screenshot test shares).

* every touch target (a KioskButton, or any Kivy button: the PIN pad's keys) is at least 2 cm
  on each side at the configured DPI (settings.screen_dpi / 2.54 * 2 px);
* no text is cut off: no text larger than its box, none outside the window, none sideways
  outside its scroll area or outside what its scroll area scrolls over, none squeezed to
  nothing or left undrawn (tests/ui/driver.py: Driver.cut_off);
* no line of text is wider than the reading measure, about 70 characters of body text
  (theme.measure_px; at the largest size that is wider than the window): every screen reads
  like the reader (Driver.over_measure);
* every text in view has a contrast of at least 4.5:1 against what is drawn behind it, 7:1 in
  high contrast, from the colours the widgets draw with (Driver.text_contrasts).

tests/ui/test_window.py checks the same rules on the screens its flows pass through (the
welcome screen's controls, four screens at the largest size, contrast sampled from pixels);
this covers every screen and state.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any

import pytest

from kiosk.config import Settings
from tests.ui.runner import Report
from tests.ui.screenshots import SIZES, STATES, session_tours

pytestmark = [pytest.mark.real_window, pytest.mark.slow]

#: Defects of today's screens, each xfail(strict): fixed, it fails until its line goes.
KNOWN: dict[tuple[str, str], str] = {}


def cases(kind: str) -> list[Any]:
    """(size, state) for every state in both orientations, known defects marked."""
    found = []
    for size in SIZES:
        for state in STATES:
            reason = KNOWN.get((kind, state))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            found.append(pytest.param(size, state, marks=marks,
                                      id=f"{size[0]}x{size[1]}-{state}"))
    return found


@pytest.fixture(scope="module")
def tours(request: pytest.FixtureRequest) -> dict[tuple[int, int], Future[Report]]:
    return session_tours(request)


def measured(tours: dict[tuple[int, int], Future[Report]], size: tuple[int, int], kind: str,
             state: str) -> list[str]:
    """What the tour found wrong at `state` (its check of flow geometry:`kind`)."""
    report = tours[size].result()
    found = [check for check in report.checks(f"geometry:{kind}") if check["what"] == state]
    assert len(found) == 1, f"{state} at {size[0]}x{size[1]}: the tour did not measure it"
    problems: list[str] = found[0]["actual"]
    return problems


@pytest.mark.parametrize(("size", "state"), cases("targets"))
def test_every_touch_target_is_at_least_2_cm(
    size: tuple[int, int], state: str, tours: dict[tuple[int, int], Future[Report]]
) -> None:
    dpi = Settings().screen_dpi
    small = measured(tours, size, "targets", state)
    assert small == [], (
        f"{state} at {size[0]}x{size[1]}: touch targets under 2 cm ({dpi / 2.54 * 2:.1f} px "
        f"at {dpi} DPI): " + "; ".join(small))


@pytest.mark.parametrize(("size", "state"), cases("clipping"))
def test_no_text_is_cut_off(
    size: tuple[int, int], state: str, tours: dict[tuple[int, int], Future[Report]]
) -> None:
    cut = measured(tours, size, "clipping", state)
    assert cut == [], f"{state} at {size[0]}x{size[1]}: text cut off: " + "; ".join(cut)


@pytest.mark.parametrize(("size", "state"), cases("measure"))
def test_no_line_is_longer_than_the_measure(
    size: tuple[int, int], state: str, tours: dict[tuple[int, int], Future[Report]]
) -> None:
    long = measured(tours, size, "measure", state)
    assert long == [], f"{state} at {size[0]}x{size[1]}: lines past the measure: " + "; ".join(long)


@pytest.mark.parametrize(("size", "state"), cases("contrast"))
def test_text_contrast_against_its_background(
    size: tuple[int, int], state: str, tours: dict[tuple[int, int], Future[Report]]
) -> None:
    need = "7:1" if state.endswith("_high_contrast") else "4.5:1"
    low = measured(tours, size, "contrast", state)
    assert low == [], f"{state} at {size[0]}x{size[1]}: text under {need}: " + "; ".join(low)


@pytest.mark.parametrize("size", SIZES, ids=lambda size: f"{size[0]}x{size[1]}")
def test_each_state_was_measured_with_its_settings(
    size: tuple[int, int], tours: dict[tuple[int, int], Future[Report]]
) -> None:
    """Every state had texts (and, but for the content error, controls) to measure, at the
    text size and in the colours its name says: the checks above cannot pass on nothing."""
    report = tours[size].result()
    assert report.failures("geometry:measured") == []
    measured_states = {check["what"] for check in report.checks("geometry:clipping")}
    assert measured_states == set(STATES)
