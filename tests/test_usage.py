"""Anonymous usage figures: what is counted, where it is kept, and what `kiosk usage` shows."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import Settings
from kiosk.controller import Controller
from kiosk.events import EventType as E
from kiosk.events import event
from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.usage import KEEP_DAYS, UsageLog, read_days
from tests.fakes import FakeListener, FakeSpeaker

DAY = date(2026, 11, 26)


def on(day: date) -> Callable[[], date]:
    """A calendar stuck on `day`."""
    return lambda: day


def test_counts_are_kept_by_day_and_way_in_and_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "usage.json"
    first = UsageLog(path, today=on(DAY))
    first.visit()
    first.intent("topic", "touch")
    first.intent("next", "voice")
    first.intent("next", "voice")
    first.save()
    later = UsageLog(path, today=on(date(2026, 11, 27)))
    later.visit()
    later.intent("home", "keypad")
    later.intent("not-an-intent", "voice")  # only the kiosk's own intent names are counted
    later.intent("next", "telepathy")
    later.save()
    assert read_days(path) == {
        "2026-11-26": {"visits": 1, "intents": {"touch": {"topic": 1}, "voice": {"next": 2}}},
        "2026-11-27": {"visits": 1, "intents": {"keypad": {"home": 1}}},
    }


def test_only_the_latest_days_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "usage.json"
    for offset in range(KEEP_DAYS + 5):
        day = date.fromordinal(DAY.toordinal() + offset)
        log = UsageLog(path, today=on(day))
        log.visit()
        log.save()
    days = read_days(path)
    assert len(days) == KEEP_DAYS
    assert min(days) == date.fromordinal(DAY.toordinal() + 5).isoformat()


@pytest.mark.parametrize(
    "damage",
    [b"{not json", b'{"version": 1, "days": {"2026-11-26": {"visits": "many"}}}',
     b'{"version": 99, "days": {}}', b"\xff\xfe"],
)
def test_a_damaged_file_is_set_aside_and_counting_starts_again(
    tmp_path: Path, damage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "usage.json"
    path.write_bytes(damage)
    log = UsageLog(path, today=on(DAY))
    assert (tmp_path / "usage.json.damaged").read_bytes() == damage  # kept for staff, not lost
    assert "could not be read" in caplog.text
    log.visit()
    log.save()
    assert read_days(path) == {"2026-11-26": {"visits": 1, "intents": {}}}


def test_a_file_that_cannot_be_written_is_reported_once_and_nothing_stops(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    log = UsageLog(blocker / "usage.json", today=on(DAY))
    with caplog.at_level(logging.WARNING):
        for _ in range(3):
            log.visit()
            log.save()
    assert caplog.text.count("cannot write") == 1
    assert log.days()["2026-11-26"]["visits"] == 3  # still counted, in memory


def test_the_controller_counts_visits_and_intents_by_way_in_and_no_words(
    library: Library, tmp_path: Path
) -> None:
    path = tmp_path / "usage.json"
    controller = Controller(Settings(), library, usage=UsageLog(path, today=on(DAY)))
    listener = FakeListener(controller.on_engine_event)
    controller.attach(FakeSpeaker(controller.on_engine_event), listener)
    controller.touch("topic:calcifications")
    controller.key("home")
    words = "could you please go on to the next part"
    listener.sink(event(E.HEARD, intent=Intent(IntentName.NEXT, heard=words)))
    listener.sink(event(E.NOT_UNDERSTOOD, reason="not understood"))
    listener.sink(event(E.NOT_UNDERSTOOD, reason="timeout"))  # nobody spoke: not counted
    controller.end_visit()  # the visit is over: its counts are written
    assert read_days(path) == {"2026-11-26": {"visits": 1, "intents": {
        "touch": {"topic": 1}, "keypad": {"home": 1}, "voice": {"next": 1, "none": 1},
    }}}
    assert "please" not in path.read_text(encoding="utf-8")
    controller.touch("topic:second-opinions")  # the next visitor
    controller.usage.save()
    assert read_days(path)["2026-11-26"]["visits"] == 2


def test_kiosk_usage_prints_a_row_a_day_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_STATE_DIR", str(tmp_path))
    log = UsageLog(Settings(state_dir=tmp_path).usage_file, today=on(DAY))
    log.visit()
    log.visit()
    for name, channel in [("topic", "touch"), ("next", "voice"), ("none", "voice"),
                          ("home", "keypad")]:
        log.intent(name, channel)
    log.save()
    assert main(["usage"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["day", "visits", "touch", "keypad", "voice", "not", "understood"]
    assert lines[1].split() == ["2026-11-26", "2", "1", "1", "1", "1"]
    assert lines[2].split() == ["total", "2", "1", "1", "1", "1"]
    assert main(["usage", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["days"]["2026-11-26"]["intents"]["voice"] == {"next": 1, "none": 1}


def test_kiosk_usage_reports_a_damaged_file_without_moving_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KIOSK_STATE_DIR", str(tmp_path))
    (tmp_path / "usage.json").write_text("{broken", encoding="utf-8")
    assert main(["usage"]) == 1
    assert "usage.json cannot be read" in capsys.readouterr().err
    assert (tmp_path / "usage.json").exists()
    monkeypatch.setenv("KIOSK_USAGE_FIGURES", "false")
    assert main(["usage"]) == 1
    assert "usage figures are off" in capsys.readouterr().err


def test_kiosk_doctor_reports_the_figures_and_a_folder_it_cannot_write(tmp_path: Path) -> None:
    from kiosk.doctor import Status, _Checks

    settings = Settings(state_dir=tmp_path / "state")
    log = UsageLog(settings.usage_file)
    log.visit()
    log.visit()
    log.save()
    finding = _Checks(settings, ()).usage()
    assert (finding.status, finding.detail) == (
        Status.OK, f"2 visits in the last 7 days ({settings.usage_file})"
    )
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    finding = _Checks(Settings(state_dir=blocker), ()).usage()
    assert finding.status is Status.WARN and "the kiosk counts in memory only" in finding.detail
    finding = _Checks(Settings(usage_figures=False), ()).usage()
    assert (finding.status, finding.detail) == (Status.OK, "off (usage_figures = false)")
