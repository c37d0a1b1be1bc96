"""`kiosk metrics`: health and usage in Prometheus' text format, for node_exporter."""

from __future__ import annotations

import re
import shutil
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import BUNDLED_CONTENT, Settings
from kiosk.metrics import QUICK_CHECKS, render
from kiosk.usage import UsageLog

#: A sample line of the text exposition format: name, optional labels, a number.
SAMPLE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-z_]+="[^"\\]*",?)*\})? -?[0-9.e+]+$')


def _settings(tmp_path: Path, content: Path = BUNDLED_CONTENT) -> Settings:
    return replace(Settings(), content_dir=content, cache_dir=tmp_path / "cache",
                   state_dir=tmp_path / "state")


def _samples(text: str) -> dict[str, float]:
    """name{labels} -> value, after checking every line is well formed and typed first."""
    typed: set[str] = set()
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if line.startswith("# HELP "):
            continue
        assert SAMPLE.match(line), f"not a Prometheus sample: {line!r}"
        key, value = line.rsplit(" ", 1)
        assert key.split("{")[0] in typed, f"{key}: no # TYPE before it"
        assert key not in samples, f"{key} given twice"
        samples[key] = float(value)
    return samples


def test_each_check_has_exactly_one_status_and_usage_counts_add_up(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    usage = UsageLog(settings.usage_file, today=lambda: date(2026, 12, 1))
    for _ in range(3):
        usage.visit()
    usage.intent("next", "keypad")
    usage.intent("next", "keypad")
    usage.intent("none", "voice")
    usage.save()
    samples = _samples(render(settings))
    checks = {key.split('"')[1] for key in samples if key.startswith("kiosk_check_status")}
    assert len(checks) == len(QUICK_CHECKS)
    for check in checks:
        states = [v for k, v in samples.items() if k.startswith(f'kiosk_check_status{{check="{check}"')]
        assert sorted(states) == [0.0, 0.0, 1.0], check
    assert samples['kiosk_check_status{check="content",status="OK"}'] == 1
    assert samples["kiosk_visits_total"] == 3
    assert samples["kiosk_visits_today"] == 0  # those visits were on another day
    assert samples['kiosk_requests_total{channel="keypad",intent="next"}'] == 2
    assert samples['kiosk_requests_total{channel="voice",intent="none"}'] == 1
    assert "kiosk_metrics_timestamp_seconds" in samples


def test_broken_content_shows_as_a_failed_check(tmp_path: Path) -> None:
    broken = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT, broken)
    for topic in (broken / "en" / "topics").glob("*.md"):
        topic.write_text("no front matter at all\n")
    samples = _samples(render(_settings(tmp_path, broken)))
    assert samples['kiosk_check_status{check="content",status="FAIL"}'] == 1
    assert samples["kiosk_checks_failed"] >= 1


def test_out_writes_the_file_whole_for_the_textfile_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KIOSK_STATE_DIR", str(tmp_path / "state"))
    out = tmp_path / "kiosk.prom"
    out.write_text("old\n")
    assert main(["metrics", "--out", str(out)]) == 0
    assert _samples(out.read_text())["kiosk_checks_failed"] >= 0
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".")] == []


def test_an_unwritable_folder_is_said_plainly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["metrics", "--out", str(tmp_path / "missing" / "kiosk.prom")]) == 1
    assert "cannot write" in capsys.readouterr().err
