"""`kiosk say`, `kiosk read`, `kiosk prerender`, run in-process with real synthesis."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import wave
from pathlib import Path

import numpy as np
import pytest

from kiosk.cli import main
from kiosk.library import Library
from tests.support.pulseaudio import PulseAudioServer


@pytest.fixture(autouse=True)
def private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The default cache folder follows XDG_CACHE_HOME; keep it inside the test's folder."""
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    return cache


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as handle:
        assert handle.getnchannels() == 1 and handle.getsampwidth() == 2
        return handle.getnframes() / handle.getframerate()


def test_say_writes_a_wav_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "hello.wav"
    assert main(["say", "--out", str(out), "--rate", "150", "Please", "ask", "a", "member",
                 "of", "staff."]) == 0
    seconds = wav_seconds(out)
    assert 1.0 < seconds < 5.0
    assert f"{seconds:.2f} s" in capsys.readouterr().out


def test_read_writes_one_file_per_sentence_and_a_manifest(
    tmp_path: Path, library: Library
) -> None:
    out = tmp_path / "read"
    assert main(["read", "second-opinions", "--section", "insurance", "--out", str(out)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    section = library.section("second-opinions", "insurance")
    items = manifest["items"]
    assert [item["text"] for item in items] == [section.title] + [
        s.text for s in section.sentences
    ]
    for item in items:
        assert abs(wav_seconds(out / item["file"]) - item["duration_s"]) < 0.01
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [item["file"] for item in items] + ["manifest.json"]
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["read", "no-such-topic"], "no topic 'no-such-topic'; topics: calcifications"),
        (["read", "calcifications", "--section", "nope"], "no section 'nope'"),
        (["say", "--rate", "1000", "hi"], "--rate must be between"),
        (["say", "--out", "x.mp3", "hi"], "--out must name a .wav file"),
    ],
)
def test_mistakes_get_one_clear_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_an_unwritable_out_file_gets_one_line_and_no_traceback(tmp_path: Path) -> None:
    # In its own process: the stray traceback came from a half-made wave writer's __del__,
    # which pytest would catch as a warning rather than let print.
    target = tmp_path / "no-such-folder" / "hello.wav"
    result = subprocess.run(
        [str(Path(sys.executable).with_name("kiosk")), "say", "--out", str(target), "hello"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr == f"kiosk: cannot write {target}: No such file or directory\n"


def test_prerender_fills_the_cache_once(
    private_cache: Path, capsys: pytest.CaptureFixture[str], library: Library,
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    # espeak-ng renders the 235 texts in seconds, Piper in over a minute; the cache's bookkeeping
    # is the same for both, and tests/speech/test_piper.py renders content with Piper.
    config = tmp_path / "kiosk.toml"
    config.write_text('synthesizer = "pyttsx3"\n', encoding="utf-8")
    monkeypatch.setenv("KIOSK_CONFIG", str(config))
    assert main(["prerender"]) == 0
    first = capsys.readouterr().out
    assert main(["prerender"]) == 0
    second = capsys.readouterr().out
    sentences = sum(len(s.sentences) for s in library.sections())
    count = int(first.split()[0])
    assert count > sentences
    assert f"{count} rendered, 0 already cached" in first
    assert f"0 rendered, {count} already cached" in second
    entries = list((private_cache / "kiosk" / "speech").rglob("*"))
    assert all(p.suffix == ".kpcm" for p in entries if p.is_file())
    assert sum(p.is_file() for p in entries) == count


@pytest.mark.real_audio
def test_say_speaks_through_the_sound_server(
    pulse: PulseAudioServer, capsys: pytest.CaptureFixture[str]
) -> None:
    recorder = pulse.start_recording()
    time.sleep(0.2)
    assert main(["say", "Welcome.", "This", "is", "a", "test."]) == 0
    time.sleep(0.2)
    audio = pulse.finish_recording(recorder)
    assert np.max(np.abs(audio)) > 0.05
    assert np.mean(np.abs(audio) > 0.003) > 0.2


def test_say_speaks_and_prerender_refuses_when_the_cache_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("KIOSK_CACHE_DIR", str(blocked))
    out = tmp_path / "hello.wav"
    assert main(["say", "--out", str(out), "Hello there."]) == 0
    assert wav_seconds(out) > 0.3
    assert main(["prerender"]) == 1
    assert "cannot prerender: speech cache" in capsys.readouterr().err
    assert blocked.read_text(encoding="utf-8") == "not a folder"
