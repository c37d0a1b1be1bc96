"""How the two recognisers decide together (kiosk.listening.recognizer), with the real
pocketsphinx decoder on generated speech and a stand-in for the neural pass, so that each rule
is checked on its own; tests/listening/test_neural.py has the real neural process."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pytest
from speech_recognition import AudioData

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening.neural import UTTERANCE_TIMEOUT_S, NeuralHeard, NeuralRecognizer, RowScore
from kiosk.listening.recognizer import (
    FAST_PATH_CONFIDENCE,
    NEURAL_MAYBE_LOGPROB,
    NEURAL_MIN_LOGPROB,
    RESCORE_MAX_DEFICIT,
    RESCORE_MIN_MARGIN,
    Recognizer,
)
from tests.support.speech_fixtures import have_espeak, pad, synthesize

pytestmark = pytest.mark.skipif(not have_espeak(), reason="needs espeak-ng")


class StandInNeural(NeuralRecognizer):
    """Answers every utterance with one transcript, and records the audio it was given; scores
    rows from a table (None: the process failed), and records the rows it was asked about.

    A NeuralRecognizer, so the recogniser takes it as it is and mypy checks the methods it
    stands in for against the real ones; it starts no process (the real `__init__` is not
    called), so only `transcribe`, `score` and `close`, the recogniser's calls, are usable."""

    def __init__(self) -> None:  # no super().__init__(): no model, no process
        self.answer: NeuralHeard | None = None
        self.heard: list[AudioData] = []
        self.row_totals: dict[str, float] | None = None
        self.rows: list[str] = []

    def transcribe(self, audio: AudioData, timeout_s: float = UTTERANCE_TIMEOUT_S
                   ) -> NeuralHeard | None:
        self.heard.append(audio)
        return self.answer

    def score(self, audio: AudioData, rows: Sequence[str],
              timeout_s: float = UTTERANCE_TIMEOUT_S) -> list[RowScore] | None:
        assert audio in self.heard  # the utterance Whisper heard, still in memory
        self.rows = list(rows)
        if self.row_totals is None:
            return None
        # Rows not in the table are far less likely; three tokens a row.
        return [RowScore(self.row_totals.get(row, -30.0), 3) for row in rows]

    def close(self) -> None:
        pass


@pytest.fixture()
def rig(library: Library) -> Iterator[tuple[Recognizer, StandInNeural]]:
    """A fresh recogniser each test: the decoder adapts to what it heard before."""
    neural = StandInNeural()
    yield Recognizer(library, neural=neural), neural


def _speech(text: str) -> np.ndarray:
    return pad(synthesize(text, "en-us+klatt", 150))


def test_a_sure_command_takes_the_fast_path(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.heard.clear()
    intent = recognizer.recognize(_speech("next section please"))
    assert intent.name is IntentName.NEXT and intent.confidence >= FAST_PATH_CONFIDENCE
    assert recognizer.last_path == "fast"
    assert neural.heard == []


def test_a_question_always_goes_to_the_neural_pass(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.heard.clear()
    neural.answer = NeuralHeard("Does insurance pay for a second opinion?", -0.3, 0.05, 400.0)
    intent = recognizer.recognize(_speech("what are breast calcifications"))
    assert recognizer.last_path == "neural"
    assert len(neural.heard) == 1
    audio = neural.heard[0]  # the utterance's audio, as it was heard
    assert (audio.sample_rate, audio.sample_width) == (16_000, 2)
    assert len(audio.get_raw_data()) > 16_000
    # pocketsphinx was sure of its own question, and it differs: its answer stands.
    assert (intent.name, intent.section) in {(IntentName.ASK, "what-they-are"),
                                             (IntentName.ASK, "insurance")}


def test_whisper_wins_where_pocketsphinx_is_lost(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.answer = NeuralHeard("Please speak a little louder.", -0.4, 0.05, 400.0)
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert recognizer.last_path == "neural"
    assert intent.name is IntentName.LOUDER


def test_a_guessing_whisper_is_not_acted_on(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.answer = NeuralHeard("Please speak a little louder.", NEURAL_MIN_LOGPROB - 0.5,
                                0.6, 400.0)
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert intent.name is IntentName.NONE


def test_without_a_neural_answer_pocketsphinx_still_answers(
    rig: tuple[Recognizer, StandInNeural]
) -> None:
    recognizer, neural = rig
    neural.answer = None  # the neural process died on this utterance
    intent = recognizer.recognize(_speech("what are microcalcifications"))
    assert recognizer.last_path == "fast-only"
    assert intent.name is IntentName.ASK


def test_a_half_sure_whisper_is_asked_about(rig: tuple[Recognizer, StandInNeural]) -> None:
    """Between a guess and a sure hearing, the kiosk asks "Did you mean ...?" (nothing acted on)."""
    recognizer, neural = rig
    neural.answer = NeuralHeard("Please speak a little louder.",
                                (NEURAL_MIN_LOGPROB + NEURAL_MAYBE_LOGPROB) / 2, 0.3, 400.0)
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert intent.name is IntentName.NONE
    assert intent.maybe is not None and intent.maybe.name is IntentName.LOUDER
    neural.answer = NeuralHeard("Please speak a little louder.", NEURAL_MAYBE_LOGPROB - 0.3,
                                0.6, 400.0)
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert (intent.name, intent.maybe) == (IntentName.NONE, None)  # a guess is not even asked


def test_a_question_is_never_asked_about(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.answer = NeuralHeard("Does insurance pay for a second opinion?",
                                (NEURAL_MIN_LOGPROB + NEURAL_MAYBE_LOGPROB) / 2, 0.3, 400.0)
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert (intent.name, intent.maybe) == (IntentName.NONE, None)


def test_yes_and_no_are_heard_as_replies(rig: tuple[Recognizer, StandInNeural]) -> None:
    recognizer, neural = rig
    neural.answer = NeuralHeard("Yes, please.", -0.2, 0.05, 300.0)
    intent = recognizer.recognize(_speech("yes please"))
    assert (intent.name, intent.reply) == (IntentName.NONE, "yes")
    neural.answer = None  # the neural process is down: pocketsphinx hears the reply alone
    intent = recognizer.recognize(_speech("no"))
    assert (intent.name, intent.reply) == (IntentName.NONE, "no")


def test_both_recognisers_agreeing_is_enough(rig: tuple[Recognizer, StandInNeural]) -> None:
    """Neither sure alone, the same meaning from both is acted on."""
    recognizer, _ = rig
    unsure = Intent(IntentName.NEXT, confidence=FAST_PATH_CONFIDENCE / 2, heard="next")
    guess = NeuralHeard("Next.", NEURAL_MIN_LOGPROB - 0.2, 0.4, 300.0)
    assert recognizer._combined(unsure, guess).name is IntentName.NEXT
    other = NeuralHeard("Louder.", NEURAL_MIN_LOGPROB - 0.2, 0.4, 300.0)
    disagreed = recognizer._combined(unsure, other)
    assert disagreed.name is IntentName.NONE
    assert disagreed.maybe is not None and disagreed.maybe.name is IntentName.LOUDER


def _home_screen_scored(rig: tuple[Recognizer, StandInNeural], below_whisper: float) -> Intent:
    """Whisper heard "Foam screen please."; the kiosk's "home screen please" scores this much
    below those words."""
    recognizer, neural = rig
    neural.answer = NeuralHeard("Foam screen please.", -0.6, 0.05, 300.0)
    neural.row_totals = {"Foam screen please.": -3.0, "Home screen please.": -3.0 - below_whisper}
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert "Home screen please." in neural.rows and neural.rows[0] == "Foam screen please."
    return intent


def test_a_kiosk_phrasing_whisper_finds_nearly_as_likely_as_its_words_is_taken(
    rig: tuple[Recognizer, StandInNeural]
) -> None:
    """Whisper's words mean nothing, but scored against the audio the kiosk's own "home screen
    please" is nearly as likely: that is what was said."""
    intent = _home_screen_scored(rig, 2.0)
    assert (intent.name, rig[0].last_path) == (IntentName.HOME, "rescored")


def test_a_phrasing_far_below_whispers_words_is_not_taken(
    rig: tuple[Recognizer, StandInNeural]
) -> None:
    intent = _home_screen_scored(rig, RESCORE_MAX_DEFICIT + 1.0)
    assert (intent.name, rig[0].last_path) == (IntentName.NONE, "neural")


def test_a_phrasing_with_a_close_rival_of_another_meaning_is_not_taken(
    rig: tuple[Recognizer, StandInNeural]
) -> None:
    recognizer, neural = rig
    # Close to both "go home" and "slower": both are among the phrasings scored.
    neural.answer = NeuralHeard("Go home slower.", -0.6, 0.05, 300.0)
    neural.row_totals = {"Go home slower.": -3.0, "Go home.": -4.0,
                         "Slower.": -4.0 - RESCORE_MIN_MARGIN / 2}
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert {"Go home.", "Slower."} <= set(neural.rows)
    assert intent.name is IntentName.NONE
    neural.row_totals["Slower."] = -4.0 - RESCORE_MIN_MARGIN - 1.0
    intent = recognizer.recognize(_speech("my phone needs charging"))
    assert intent.name is IntentName.HOME


def test_barge_in_hears_a_stop_said_over_the_reading(
    rig: tuple[Recognizer, StandInNeural]
) -> None:
    """While the kiosk reads, a spotted "stop" is confirmed: by pocketsphinx when it is fairly
    sure, else by Whisper, in a sentence of its own next to the leftover reading it writes down."""
    recognizer, neural = rig
    neural.heard.clear()
    sure = recognizer.hears_stop(_speech("stop"), 0.5)
    assert sure is not None and sure.name is IntentName.STOP
    assert neural.heard == []  # pocketsphinx alone was enough
    reading = _speech("my phone needs charging")
    neural.answer = NeuralHeard("Your results are sent to your doctor. Please stop.", -0.5,
                                0.1, 400.0)
    heard = recognizer.hears_stop(reading, 0.5)
    assert heard is not None and heard.name is IntentName.STOP
    for text in ("Your results are sent to your doctor.", "Please don't stop."):
        neural.answer = NeuralHeard(text, -0.5, 0.1, 400.0)
        assert recognizer.hears_stop(reading, 0.5) is None, text
    neural.answer = NeuralHeard("Please stop.", NEURAL_MIN_LOGPROB - 0.3, 0.5, 400.0)
    assert recognizer.hears_stop(reading, 0.5) is None
