"""The live kiosk's recogniser in a process of its own (kiosk/listening/recognizer_process.py),
on generated speech: the same answers as in-process, a killed process started again, and a
broken vocabulary named at start-up."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import numpy as np
import pytest

from kiosk.config import Settings
from kiosk.events import EventType
from kiosk.intents import IntentName
from kiosk.library import Library
from kiosk.listening.barge_in import SPOT_THRESHOLD, Spotting
from kiosk.listening.denoise import Denoiser
from kiosk.listening.listener import MicrophoneListener
from kiosk.listening.recognizer import STREAM_CHUNK
from kiosk.listening.recognizer_process import RecognizerProcess, RecognizerProcessError
from tests.listening.test_listener import FakeMicrophone
from tests.speech.fakes import EventLog
from tests.support.speech_fixtures import have_espeak, pad, synthesize

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng")]


def _pieces(text: str) -> list[bytes]:
    """The utterance as the listener hands it over: denoised, in 30 ms pieces."""
    pcm = Denoiser().process(pad(synthesize(text, "en-us", 150)).astype("<i2").tobytes())
    return [pcm[start : start + STREAM_CHUNK] for start in range(0, len(pcm), STREAM_CHUNK)]


def _heard(process: RecognizerProcess, text: str) -> IntentName:
    process.begin()
    for piece in _pieces(text):
        process.feed(piece)
    return process.finish(neural=False).name


def test_it_hears_and_understands_as_the_recogniser_does(library: Library) -> None:
    process = RecognizerProcess(Settings(recognizer="fast"), library.root)
    try:
        process.wait_ready()
        assert process.pid is not None
        assert _heard(process, "please speak louder") is IntentName.LOUDER
        assert process.last_path == "fast"
        assert process.understanding.understand("go to the next section").name is IntentName.NEXT
        spoken = pad(synthesize("stop", "en-us", 150)).astype("<i2")
        stop = process.hears_stop(np.asarray(spoken), 0.5)
        assert stop is not None and stop.name is IntentName.STOP
    finally:
        process.close()
    assert process.pid is None


def test_its_stop_spotter_spots_stop_and_not_silence_and_survives_a_kill(
    library: Library,
) -> None:
    """The barge-in spotter decodes in the process, and starts again with it."""
    process = RecognizerProcess(Settings(recognizer="fast"), library.root)
    silence = np.zeros(16_000, dtype=np.int16)
    word = np.concatenate([silence, synthesize("stop", "en-us+m3", 150), silence])
    said, quiet = word.astype("<i2").tobytes(), silence.tobytes() * 2

    def spots(spotter: Spotting, pcm: bytes) -> list[bool]:
        return [spotter.feed_bounded(pcm[i : i + 960]) for i in range(0, len(pcm), 960)]

    try:
        process.wait_ready()
        spotter = process.stop_spotter(SPOT_THRESHOLD)
        assert any(spots(spotter, said))
        spotter.reset()
        assert not any(spots(spotter, quiet))
        assert process._child is not None
        process._child.process.kill()
        process._child.process.wait()
        assert not any(spots(spotter, quiet[:960]))  # the process died: nothing spotted
        assert any(spots(spotter, said)), "the restarted process spots again"
        assert process.restarts == 1
    finally:
        process.close()


def test_killed_mid_utterance_it_is_started_again(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    process = RecognizerProcess(Settings(recognizer="fast"), library.root)
    try:
        process.wait_ready()
        first = process.pid
        pieces = _pieces("please speak louder")
        process.begin()
        for piece in pieces[: len(pieces) // 2]:
            process.feed(piece)
        assert process._child is not None
        process._child.process.kill()
        process._child.process.wait()
        with caplog.at_level(logging.WARNING):
            for piece in pieces[len(pieces) // 2 :]:
                process.feed(piece)
            process.finish(neural=False)  # that utterance may be lost, never an exception
            assert _heard(process, "please speak louder") is IntentName.LOUDER
        assert process.restarts == 1 and process.pid not in (None, first)
        restarted = [r for r in caplog.records if "recognition process" in r.getMessage()]
        assert len(restarted) == 1
    finally:
        process.close()


def test_a_broken_vocabulary_is_named_at_start_up(library: Library, tmp_path: Path) -> None:
    content = tmp_path / "en"
    shutil.copytree(library.root, content)
    (content / "commands.toml").write_text("[commands\nnext = [", encoding="utf-8")
    process = RecognizerProcess(Settings(recognizer="fast"), content)
    with pytest.raises(RecognizerProcessError, match=r"commands\.toml"):
        process.wait_ready()
    assert process.pid is None


def test_a_listener_over_a_broken_vocabulary_says_why_when_talk_is_pressed(
    library: Library, tmp_path: Path
) -> None:
    """The kiosk does not wait for the process at start-up; the listener's thread does, and a
    process that cannot start makes every Talk say voice input is unavailable, and why."""
    content = tmp_path / "en"
    shutil.copytree(library.root, content)
    (content / "commands.toml").write_text("[commands\nnext = [", encoding="utf-8")
    events = EventLog()
    listener = MicrophoneListener(RecognizerProcess(Settings(recognizer="fast"), content),
                                  events, FakeMicrophone())
    try:
        listener._worker.join(timeout=30)  # the thread ends once the process has said why
        assert not listener._worker.is_alive()
        listener.start_listening()
        told = events.wait_for(EventType.MICROPHONE_UNAVAILABLE, timeout_s=5)
    finally:
        listener.close()
    assert "commands.toml" in told["reason"]
    assert EventType.LISTENING_STARTED not in [e.type for e in events.events]
