"""Real espeak-ng speech decoded by the real pocketsphinx recogniser: accuracy floors, rejection,
robustness to bad audio, and `kiosk recognize`.

The floors are regression guards set a little under what was measured (docs/voice.md gives the
figures); they are well below the issue's targets, which this recogniser does not yet reach on
synthetic voices.
"""

from __future__ import annotations

import collections
import concurrent.futures
import json
import multiprocessing
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.cli import main
from kiosk.config import BUNDLED_CONTENT
from kiosk.content_parser import load_library
from kiosk.intents import Action, IntentName
from kiosk.library import Library
from kiosk.listening.audio import write_wav
from kiosk.listening.recognizer import Recognizer
from tests.support.speech_fixtures import (
    PHRASINGS,
    TEST_VOICES,
    Clip,
    chatter_items,
    clips,
    have_espeak,
    hour_long_wav,
    is_correct,
    pad,
    synthesize,
)

pytestmark = [
    pytest.mark.real_audio,
    pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed (make test installs it)"),
]

#: Per-intent floors (share of clips right, clean and noisy together).
FLOORS: dict[str, float] = {
    "next": 0.7, "previous": 0.75, "repeat": 0.4, "pause": 0.6, "resume": 0.6, "stop": 0.55,
    "home": 0.3, "help": 0.55, "slower": 0.55, "faster": 0.45, "louder": 0.4, "quieter": 0.15,
    "topic": 0.6, "section": 0.6, "ask": 0.6,
}


#: Clean clips the noisy decoder hears first (live CMN settles within a few utterances).
CLEAN_CLIPS_BEFORE_NOISE = 8


@pytest.fixture(scope="module")
def recognizer(library: Library) -> Recognizer:
    return Recognizer(library)


def _decode_condition(
    batch: list[Clip], warm_up: list[Clip]
) -> list[tuple[str, bool, bool]]:
    """Decode one condition's clips in order with a recogniser of its own (run in a child),
    after the `warm_up` clips that came before them, whose results are not counted."""
    recognizer = Recognizer(load_library(BUNDLED_CONTENT / "en"))
    for clip in warm_up:
        recognizer.recognize(clip.samples)
    rows = []
    for clip in batch:
        intent = recognizer.recognize(clip.samples)
        rows.append((clip.intent, clip.noisy, is_correct(clip, intent.name, intent.topic,
                                                          intent.section)))
    return rows


@pytest.fixture(scope="module")
def results() -> list[tuple[str, bool, bool]]:
    """(intent, noisy, right) for every fixture clip: each phrasing by one of the 4 voices in
    rotation, at 2 rates, clean and at 10 dB SNR.

    The clean and the noisy clips are decoded in two processes at once, which saves about a
    minute of the suite on two cores. The decoder adapts to its room between utterances, and the
    noisy clips used to follow the clean ones in one decoder, so the noisy decoder first hears
    the last few clean clips, which brings it close to where it was (2 of 284 clips come out
    differently than in one decoder).
    """
    conditions: dict[bool, list[Clip]] = collections.defaultdict(list)
    for clip in clips([*PHRASINGS, *chatter_items()], TEST_VOICES, voices_per_item=1):
        conditions[clip.noisy].append(clip)
    clean, noisy = conditions[False], conditions[True]
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=2, mp_context=multiprocessing.get_context("fork")
    ) as pool:
        batches = [pool.submit(_decode_condition, clean, []),
                   pool.submit(_decode_condition, noisy, clean[-CLEAN_CLIPS_BEFORE_NOISE:])]
        return [row for batch in batches for row in batch.result()]


def test_fixtures_cover_every_intent_voice_rate_and_noise() -> None:
    assert {intent for _, intent, _, _ in PHRASINGS} == {str(i) for i in IntentName} - {"none"}
    assert len(TEST_VOICES) >= 4
    assert chatter_items()


@pytest.mark.parametrize("intent", sorted(FLOORS))
def test_per_intent_accuracy_floor(results: list[tuple[str, bool, bool]], intent: str) -> None:
    right = [ok for name, _, ok in results if name == intent]
    assert len(right) >= 12
    assert sum(right) / len(right) >= FLOORS[intent]


def test_overall_accuracy_and_rejection(results: list[tuple[str, bool, bool]]) -> None:
    share: dict[tuple[bool, bool], list[bool]] = collections.defaultdict(list)
    for name, with_noise, ok in results:
        share[(name == "none", with_noise)].append(ok)
    clean = np.mean(share[(False, False)])
    noisy = np.mean(share[(False, True)])
    rejection = np.mean(share[(True, False)] + share[(True, True)])
    # Measured on this set: clean 77%, noisy 62%, rejection 98% (4 voices; the benchmark's 6
    # voices give 84%, 65%, 94%).
    assert clean >= 0.7
    assert noisy >= 0.52
    assert clean > noisy  # noise must hurt: a check that the noise is really mixed in
    assert rejection >= 0.85


def test_clear_commands_are_understood_in_both_rates(recognizer: Recognizer) -> None:
    for rate in (130, 170):
        intent = recognizer.recognize(synthesize("please speak louder", "en-us+klatt", rate))
        assert intent.name is IntentName.LOUDER
        assert intent.heard is not None and "louder" in intent.heard


def test_the_kiosks_own_actions_keep_their_action_through_the_recogniser(
    recognizer: Recognizer,
) -> None:
    """"Where am I" and "settings" are `help` with an action: the decoder's confidence is
    folded in without losing it (it once came out as plain `help`, the help screen)."""
    for said, action in (("where am i", Action.WHERE_AM_I), ("open settings", Action.ADJUST)):
        intent = recognizer.recognize(pad(synthesize(said, "en-us+klatt", 150)))
        assert (intent.name, intent.action) == (IntentName.HELP, action), intent


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["random", "silent", "clipped", "short", "dc"]),
    length=st.integers(min_value=0, max_value=24_000),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
)
def test_bad_audio_always_gets_a_clean_answer(
    recognizer: Recognizer, kind: str, length: int, seed: int
) -> None:
    rng = np.random.default_rng(seed)
    if kind == "random":
        samples = rng.integers(-32768, 32767, size=length, dtype=np.int16)
    elif kind == "silent":
        samples = np.zeros(length, dtype=np.int16)
    elif kind == "clipped":
        tone = np.sin(np.arange(length) * 0.05) * 1e6
        samples = np.clip(tone, -32768, 32767).astype(np.int16)
    elif kind == "short":
        samples = rng.integers(-3000, 3000, size=length % 50, dtype=np.int16)
    else:
        samples = np.full(length, 20_000, dtype=np.int16)
    intent = recognizer.recognize(samples)
    assert intent.name in set(IntentName)
    assert 0.0 <= intent.confidence <= 1.0
    if kind in ("silent", "short", "dc"):
        assert intent.name is IntentName.NONE


def test_kiosk_recognize_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = tmp_path / "louder.wav"
    good.write_bytes(write_wav(synthesize("please speak louder", "en-us+klatt", 150)))
    stereo = tmp_path / "stereo44k.wav"
    import wave

    mono = synthesize("tell me about second opinions", "en-us+klatt", 150).astype(np.float64)
    up = np.interp(np.arange(int(mono.size * 44_100 / 16_000)) * 16_000 / 44_100,
                   np.arange(mono.size), mono).astype(np.int16)
    with wave.open(str(stereo), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44_100)
        wav.writeframes(np.repeat(up, 2).tobytes())
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF\x00\x00not a wave")
    missing = tmp_path / "missing.wav"
    files = [good, broken, missing, stereo, hour_long_wav(tmp_path / "hour.wav")]
    code = main(["recognize", "--json", *map(str, files)])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["file"] for line in lines] == list(map(str, files))
    assert lines[0]["intent"] == "louder" and lines[0]["decode_ms"] > 0
    assert list(lines[0])[:8] == [
        "file", "heard", "intent", "topic", "section", "answer", "confidence", "decode_ms",
    ]
    assert lines[1]["intent"] == "error" and "WAV" in lines[1]["error"]
    assert lines[2]["intent"] == "error" and lines[2]["error"]
    assert (lines[3]["intent"], lines[3]["topic"]) == ("topic", "second-opinions")
    assert lines[4]["intent"] == "error" and "3600 s of audio" in lines[4]["error"]


def test_kiosk_recognize_without_json_says_why_a_file_cannot_be_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"garbage")
    missing = tmp_path / "missing.wav"
    assert main(["recognize", str(broken), str(missing)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{broken}: error: not a WAV, AIFF or FLAC file"), lines
    assert lines[1] == f"{missing}: error: No such file or directory", lines


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is installed by `make test`")
def test_kiosk_recognize_reads_flac_aiff_and_stereo_as_it_reads_mono_wav(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    mono = tmp_path / "mono16k.wav"
    mono.write_bytes(write_wav(synthesize("tell me about second opinions", "en-us+klatt", 150)))
    files = [mono]
    for name, options in (("speech.flac", ()), ("speech.aiff", ()),
                          ("stereo44k.wav", ("-c", "2", "-r", "44100"))):
        subprocess.run(["sox", str(mono), *options, str(tmp_path / name)], check=True)
        files.append(tmp_path / name)
    broken_flac = tmp_path / "broken.flac"
    broken_flac.write_bytes(b"fLaC" + bytes(100))
    text = tmp_path / "notes.wav"
    text.write_text("not audio at all\n")
    empty = tmp_path / "empty.wav"
    empty.touch()
    code = main(["recognize", "--json", *map(str, [*files, broken_flac, text, empty])])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert [line["file"] for line in lines] == list(map(str, [*files, broken_flac, text, empty]))
    assert [(line["intent"], line["topic"]) for line in lines[:4]] == [
        ("topic", "second-opinions")] * 4
    assert [line["intent"] for line in lines[4:]] == ["error"] * 3
    assert "FLAC file cannot be read" in lines[4]["error"]
    assert "not a WAV, AIFF or FLAC file" in lines[5]["error"]
    assert "empty" in lines[6]["error"]


def test_kiosk_understand_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["understand", "--json", "what are microcalcifications?"]) == 0
    line = json.loads(capsys.readouterr().out)
    assert set(line) == {"heard", "intent", "topic", "section", "answer", "confidence"}
    assert (line["intent"], line["section"]) == ("ask", "two-types")
    assert main(["understand", "--json", "where did I park"]) == 0
    assert json.loads(capsys.readouterr().out)["intent"] == "none"


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is installed by `make test`")
def test_kiosk_recognize_reads_ogg_as_it_reads_wav_and_says_why_it_cannot(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    wav, vorbis, opus = (tmp_path / name for name in ("speech.wav", "speech.ogg", "speech.opus"))
    wav.write_bytes(write_wav(synthesize("please speak louder", "en-us", 150)))
    # Ogg Vorbis as sox writes it, at 44.1 kHz in stereo; Opus at 48 kHz as libsndfile writes it.
    subprocess.run(["sox", str(wav), "-c", "2", "-r", "44100", str(vorbis)], check=True)
    at_48k = subprocess.run(["sox", str(wav), "-r", "48000", "-t", "raw", "-"], check=True,
                            capture_output=True).stdout
    soundfile.write(opus, np.frombuffer(at_48k, "<i2"), 48_000, format="OGG", subtype="OPUS")
    damaged = tmp_path / "damaged.ogg"
    damaged.write_bytes(vorbis.read_bytes()[:300])
    files = [wav, vorbis, opus, damaged]
    capfd.readouterr()
    code = main(["recognize", "--json", *map(str, files)])
    out, err = capfd.readouterr()
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 1
    # Only the kiosk's own notes (none from the decoders' libraries).
    assert all(line.startswith("kiosk: ") for line in err.splitlines())
    assert [line["intent"] for line in lines] == ["louder", "louder", "louder", "error"]
    assert lines[3]["error"].startswith(f"{damaged}: this Ogg file cannot be read")
