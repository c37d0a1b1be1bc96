"""The `kiosk` command: clear messages on stderr, right exit codes, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk import __version__, cli
from kiosk.cli import main
from kiosk.config import BUNDLED_CONTENT, Settings
from tests.test_library import GOOD_TOPIC, make_tree


def test_validate_bundled_content(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BUNDLED_CONTENT)]) == 0
    out = capsys.readouterr().out
    assert "OK, 2 topics" in out


def test_validate_broken_tree_lists_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = GOOD_TOPIC.replace('title = "Alpha topic"\n', "").replace("Only sentence.\n", "")
    root = make_tree(tmp_path, {"alpha.md": broken})
    assert main(["validate", str(root)]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert any(
        line.endswith('alpha.md:1: missing-title: front matter needs title = "..."')
        for line in lines
    )
    assert any("alpha.md:16: empty-section" in line for line in lines)


def test_validate_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nowhere")]) == 1
    assert "content folder not found" in capsys.readouterr().err


def test_a_bad_setting_stops_a_tool_with_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text("rate_wpm = 5\n", encoding="utf-8")
    assert main(["--config", str(config), "validate"]) == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "rate_wpm" in err and "Traceback" not in err


@pytest.mark.parametrize("argv", [["run"], []])
def test_a_bad_setting_does_not_stop_the_kiosk(
    argv: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = tmp_path / "kiosk.toml"
    config.write_text('rate_wpm = 5\nvoice = "en-gb"\n', encoding="utf-8")
    started: list[Settings] = []

    def run_kiosk(_args: object, settings: Settings) -> int:  # the window, left out here
        started.append(settings)
        return 0

    monkeypatch.setattr(cli, "_run", run_kiosk)
    assert main(["--config", str(config), *argv]) == 0
    # The kiosk started with the rest of the file and the default rate.
    assert [(s.voice, s.rate_wpm) for s in started] == [("en-gb", Settings().rate_wpm)]
    err = capsys.readouterr().err
    assert "configuration problem, ignored" in err and "rate_wpm" in err


def test_console_script_version_and_help() -> None:
    kiosk = Path(sys.executable).with_name("kiosk")
    version = subprocess.run([str(kiosk), "--version"], capture_output=True, text=True, check=True)
    assert version.stdout.strip() == f"kiosk {__version__}"
    usage = subprocess.run([str(kiosk), "--help"], capture_output=True, text=True, check=True)
    assert "validate" in usage.stdout


def test_python_dash_m_kiosk_is_the_console_script() -> None:
    kiosk = Path(sys.executable).with_name("kiosk")
    script = subprocess.run([str(kiosk), "--help"], capture_output=True, text=True, check=True)
    module = subprocess.run(
        [sys.executable, "-m", "kiosk", "--help"], capture_output=True, text=True, check=True
    )
    assert module.stdout == script.stdout
    assert module.stdout.startswith("usage: kiosk ")


def test_unknown_command_is_a_usage_error() -> None:
    kiosk = Path(sys.executable).with_name("kiosk")
    result = subprocess.run([str(kiosk), "frobnicate"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "invalid choice" in result.stderr and "Traceback" not in result.stderr
