"""The real path: espeak-ng through pyttsx3, PortAudio, a private PulseAudio daemon, recorded from
the null sink's monitor. Nothing here is faked."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from kiosk.config import Settings
from kiosk.events import EventType
from kiosk.library import Library
from kiosk.speech import KioskSpeaker, create_speaker
from kiosk.speech.player import AUDIO_PRIORITY, RETRY_S, Player
from kiosk.speech.synth import Pyttsx3Synthesizer, Rendering
from tests.speech.fakes import EventLog
from tests.support.pulseaudio import PulseAudioServer

RECORD_RATE = 48_000
#: A sample counts as sound above this (about -50 dBFS); the player's silence is exact zeros.
LOUD = 0.003
TEST_RATE_WPM = 200

Audio = npt.NDArray[np.float32]


class Setup:
    def __init__(self, speaker: KioskSpeaker, log: EventLog, settings: Settings, scratch: Path):
        self.speaker = speaker
        self.log = log
        self.settings = settings
        self.tmp = scratch


@pytest.fixture(scope="module")
def real(pulse: PulseAudioServer, library: Library) -> Iterator[Setup]:
    """One real speaker for the module (opening the device takes a second or two)."""
    root = Path(tempfile.mkdtemp(prefix="kiosk-speech-test-"))
    scratch = root / "tmp"
    scratch.mkdir()
    saved = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(scratch)  # any stray temporary audio file would land here
    settings = replace(Settings(), cache_dir=root / "cache", rate_wpm=TEST_RATE_WPM)
    log = EventLog()
    speaker = create_speaker(settings, library, log)
    try:
        assert isinstance(speaker.output, Player)
        assert speaker.output.wait_ready(15), "the speaker never reached PulseAudio"
        yield Setup(speaker, log, settings, scratch)
    finally:
        speaker.close()
        if saved is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = saved
        shutil.rmtree(root, ignore_errors=True)


def loud_span(samples: npt.NDArray[np.floating], threshold: float) -> tuple[int, int]:
    loud = np.flatnonzero(np.abs(samples) > threshold)
    assert len(loud), "nothing audible"
    return int(loud[0]), int(loud[-1])


def envelope(samples: npt.NDArray[np.floating], rate: int, seconds: float) -> Audio:
    """RMS per 10 ms frame of the first `seconds` from the first audible sample, normalised."""
    start, _ = loud_span(samples, float(np.max(np.abs(samples))) * 0.02)
    frame = rate // 100
    count = int(seconds * 100)
    chunk = np.asarray(samples[start:start + frame * count], dtype=np.float64)
    chunk = np.pad(chunk, (0, frame * count - len(chunk)))
    rms = np.sqrt(np.mean(chunk.reshape(count, frame) ** 2, axis=1))
    rms -= rms.mean()
    normalised: Audio = (rms / (np.linalg.norm(rms) or 1.0)).astype(np.float32)
    return normalised


def rendered(setup: Setup, text: str) -> Rendering:
    hit = setup.speaker.renderer.cached(text, TEST_RATE_WPM)
    assert hit is not None, f"not in the cache: {text!r}"
    return hit


def level_db(samples: npt.NDArray[np.floating]) -> float:
    start, end = loud_span(samples, LOUD)
    body = np.asarray(samples[start:end + 1], dtype=np.float64)
    return float(20 * np.log10(np.sqrt(np.mean(body**2))))


def test_synthesiser_renders_timed_words_and_leaves_no_files(tmp_path: Path) -> None:
    synth = Pyttsx3Synthesizer(tmp_path)
    try:
        text = "Calcifications are small deposits of calcium in the breast."
        slow = synth.synthesize(text, 120, "")
        fast = synth.synthesize(text, 250, "")
        words = len(text.split())
        # Speaking time follows the rate (espeak adds little pauses, so allow a margin).
        assert 0.7 * words / 120 * 60 < slow.duration_s < 1.5 * words / 120 * 60
        assert fast.duration_s < 0.7 * slow.duration_s
        # Each mark names a word of the text, in order (espeak may run a short word into the
        # next, so not every word has its own mark).
        marked = [text[w.start:w.end].strip(".") for w in slow.words]
        remaining = iter(w.strip(".") for w in text.split())
        assert all(word in remaining for word in marked), marked
        assert len(marked) >= 0.8 * words
        samples = [w.sample for w in slow.words]
        assert samples == sorted(samples) and samples[-1] < len(slow.pcm)
        assert np.max(np.abs(slow.pcm)) > 3000
        # A mistyped voice does not silence the kiosk: the default voice speaks, and the
        # synthesiser says why until the voice is mended.
        default = synth.synthesize("Still working.", 150, "")
        misnamed = synth.synthesize("Still working.", 150, "no-such-voice")
        assert "unknown voice 'no-such-voice'" in synth.voice_problem
        # espeak's renderings of one text differ by a few samples from call to call.
        assert abs(misnamed.duration_s - default.duration_s) < 0.01 * default.duration_s
        # A language code names a voice too.
        assert synth.synthesize("Still working.", 150, "en-us").duration_s > 0.3
        assert synth.voice_problem == ""
        worker = synth._process
        assert worker is not None
        worker.kill()  # a crashed worker is replaced without the caller noticing
        worker.wait()
        assert synth.synthesize("Back again.", 150, "").duration_s > 0.3
    finally:
        synth.close()
    assert list(tmp_path.iterdir()) == []


def test_the_first_rate_set_after_espeak_starts_holds_before_the_first_sentence() -> None:
    """Right after start-up espeak only queues a rate, and the driver's cancel can drop it; the
    worker's warm-up makes the rate take at once (the bug: a first sentence at 175 wpm)."""
    probe = (
        "import threading, pyttsx3\n"
        "from kiosk.speech import _synth_worker as w\n"
        "engine = pyttsx3.init('espeak')\n"
        "done = threading.Event()\n"
        "w._warm_up(engine, done, w._hook_events(engine, [], done))\n"
        "w._apply_rate(engine, 120)\n"
        "print(w._current_rate())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.split()[-1] == "120", result.stdout


@pytest.mark.real_audio
def test_speaks_a_section_as_rendered(real: Setup, pulse: PulseAudioServer, library: Library) -> None:
    section = library.section("calcifications", "benign-or-cancer")
    texts = [sentence.text for sentence in section.sentences]
    real.log.clear()
    recorder = pulse.start_recording(RECORD_RATE)
    time.sleep(0.2)
    real.speaker.speak(texts)
    real.log.wait_for(EventType.SPEECH_FINISHED, timeout_s=90)
    time.sleep(0.3)
    audio = pulse.finish_recording(recorder)

    assert real.log.kinds() == [
        kind for index in range(len(texts))
        for kind in (f"sentence_started:{index}", f"sentence_finished:{index}")
    ] + ["speech_finished"]
    # What reached the sink lasts as long as the rendered sentences played back to back.
    gain = 10 ** (real.settings.volume_db / 20)
    joined = np.concatenate([rendered(real, text).to_float() for text in texts]) * gain
    first, last = loud_span(joined, LOUD)
    expected_s = (last - first) / rendered(real, texts[0]).rate
    start, end = loud_span(audio, LOUD)
    heard_s = (end - start) / RECORD_RATE
    assert abs(heard_s - expected_s) / expected_s < 0.10, (heard_s, expected_s)
    # And it is speech-like: mostly sound, with the level of the rendered speech.
    frames = audio[start:end - (end - start) % 960].reshape(-1, 960)
    voiced = np.mean(np.sqrt(np.mean(frames**2, axis=1)) > 10 ** (-50 / 20))
    assert voiced > 0.6
    assert abs(level_db(audio) - level_db(joined)) < 2.0
    # No audio file outside the cache: nothing in TMPDIR, and only entries in the cache.
    assert list(real.tmp.iterdir()) == []
    stored = [p for p in (real.settings.cache_dir / "speech").rglob("*") if p.is_file()]
    assert stored and all(p.suffix == ".kpcm" for p in stored)


def _threads_at_real_time() -> list[int]:
    """This process's threads running at SCHED_RR."""
    return [int(task) for task in os.listdir("/proc/self/task")
            if os.sched_getscheduler(int(task)) == os.SCHED_RR]


@pytest.mark.real_audio
def test_the_audio_callback_runs_at_real_time_priority_where_allowed(real: Setup) -> None:
    import resource

    allowed = os.geteuid() == 0 or resource.getrlimit(resource.RLIMIT_RTPRIO)[0] >= AUDIO_PRIORITY
    real.speaker.speak(["One moment."])
    real.log.wait_for(EventType.SPEECH_FINISHED, timeout_s=30)
    player = real.speaker.output
    assert isinstance(player, Player)
    assert player.realtime is allowed
    # Exactly one thread asked: the callback's (never the interface's or the speaker's).
    assert len(_threads_at_real_time()) == (1 if allowed else 0)
    assert os.sched_getscheduler(0) == os.SCHED_OTHER


@pytest.mark.real_audio
def test_stop_leaves_silence_within_100_ms(
    real: Setup, pulse: PulseAudioServer, library: Library
) -> None:
    texts = [s.text for s in library.section("calcifications", "follow-up").sentences]
    real.log.clear()
    recorder = pulse.start_recording(RECORD_RATE)
    time.sleep(0.2)
    real.speaker.speak(texts)
    real.log.wait_for(EventType.SENTENCE_STARTED, index=0, timeout_s=10)
    time.sleep(1.2)
    stop_at = time.monotonic()
    real.speaker.stop()
    real.log.wait_for(EventType.SPEECH_STOPPED)
    time.sleep(0.6)
    audio = pulse.finish_recording(recorder)
    began = PulseAudioServer.recording_start(recorder)
    # Sample n was played no later than began + n / rate; every loud one must precede the cut.
    loud = np.flatnonzero(np.abs(audio) > LOUD)
    times = began + loud / RECORD_RATE
    assert len(times) and times[-1] <= stop_at + 0.100, times[-1] - stop_at
    assert np.any(times > stop_at - 0.3)  # it was speaking right up to the stop


@pytest.mark.real_audio
def test_pause_and_resume_restart_the_sentence_that_was_cut(
    real: Setup, pulse: PulseAudioServer, library: Library
) -> None:
    texts = [s.text for s in library.section("calcifications", "what-they-are").sentences]
    assert len(texts) >= 3
    real.log.clear()
    recorder = pulse.start_recording(RECORD_RATE)
    time.sleep(0.2)
    real.speaker.speak(texts)
    real.log.wait_for(EventType.SENTENCE_STARTED, index=1, timeout_s=30)
    time.sleep(0.8)
    paused_at = time.monotonic()
    real.speaker.pause()
    assert real.log.wait_for(EventType.SPEECH_PAUSED)["index"] == 1
    time.sleep(0.6)
    resumed_at = time.monotonic()
    real.speaker.resume()
    again = real.log.wait_for(EventType.SENTENCE_STARTED, timeout_s=10)
    assert again["index"] == 1 and again["text"] == texts[1]
    time.sleep(2.0)
    real.speaker.stop()
    time.sleep(0.2)
    audio = pulse.finish_recording(recorder)
    began = PulseAudioServer.recording_start(recorder)

    times = began + np.arange(len(audio)) / RECORD_RATE
    loud = np.abs(audio) > LOUD
    assert not np.any(loud & (times > paused_at + 0.1) & (times < resumed_at))  # silent pause
    after = audio[times >= resumed_at]
    heard = envelope(after, RECORD_RATE, 1.5)
    scores = [
        float(np.dot(heard, envelope(rendered(real, text).to_float(), 22_050, 1.5)))
        for text in texts
    ]
    # The audio after resume() is the start of sentence 1, not of its neighbours.
    assert scores[1] > 0.7 and scores[1] > scores[0] and scores[1] > scores[2], scores


@pytest.mark.real_audio
def test_volume_steps_change_the_level_by_their_decibels(
    real: Setup, pulse: PulseAudioServer, library: Library
) -> None:
    settings = real.settings
    steps = int((settings.volume_db - settings.volume_min_db) // settings.volume_step_db)
    levels = [settings.volume_db - k * settings.volume_step_db for k in (0, steps // 2, steps)]
    assert levels[0] - levels[-1] >= 18
    text = library.text("screen.end_of_section")
    measured = []
    try:
        for gain in levels:
            real.speaker.set_volume(gain)
            real.log.clear()
            recorder = pulse.start_recording(RECORD_RATE)
            time.sleep(0.2)
            real.speaker.speak([text])
            real.log.wait_for(EventType.SPEECH_FINISHED, timeout_s=20)
            time.sleep(0.2)
            measured.append(level_db(pulse.finish_recording(recorder)))
    finally:
        real.speaker.set_volume(settings.volume_db)
    for gain, level in zip(levels[1:], measured[1:], strict=True):
        assert abs((measured[0] - level) - (levels[0] - gain)) < 1.0, (levels, measured)


@pytest.mark.real_audio
def test_a_missing_device_is_reported_once_and_nothing_raises(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> None:
    log = EventLog()
    settings = replace(Settings(), cache_dir=tmp_path)
    speaker = create_speaker(settings, library, log, device="no-such-device")
    try:
        unavailable = log.wait_for(EventType.SOUND_UNAVAILABLE, timeout_s=10)
        assert "no-such-device" in unavailable["reason"]
        speaker.speak(["Is anyone listening?"])
        speaker.earcon("listening")
        speaker.pause()
        speaker.resume()
        speaker.stop()
        time.sleep(RETRY_S * 1.5)  # it retried at least once, quietly
        assert log.kinds() == ["sound_unavailable"]
    finally:
        speaker.close()


@pytest.mark.real_audio
def test_recovers_by_itself_after_pulseaudio_restarts(
    real: Setup, pulse: PulseAudioServer, library: Library
) -> None:
    """Runs last in this module: it restarts the shared daemon."""
    texts = [s.text for s in library.section("calcifications", "follow-up").sentences]
    real.log.clear()
    real.speaker.speak(texts)
    real.log.wait_for(EventType.SENTENCE_STARTED, index=0, timeout_s=10)
    time.sleep(0.5)
    pulse.restart()
    real.log.wait_for(EventType.SOUND_UNAVAILABLE, timeout_s=15)
    real.log.wait_for(EventType.SOUND_AVAILABLE, timeout_s=30)
    assert "speech_stopped" in real.log.kinds()
    recorder = pulse.start_recording(RECORD_RATE)
    time.sleep(0.2)
    real.log.clear()
    real.speaker.speak([library.text("screen.end_of_section")])
    real.log.wait_for(EventType.SPEECH_FINISHED, timeout_s=20)
    time.sleep(0.2)
    audio = pulse.finish_recording(recorder)
    assert np.max(np.abs(audio)) > 0.05  # heard again
