"""The warped decoders: when they are asked, how their answers are combined, and that the real
decoder runs them on the same audio."""

from __future__ import annotations

import pytest

from kiosk.intents import IntentName
from kiosk.library import Library
from kiosk.listening.decoder import WARPS, Heard, SpeechDecoder
from kiosk.listening.recognizer import (
    AGREED_CONFIDENCE,
    MIN_CONFIDENCE_WHEN_CLEAR,
    SURE_CONFIDENCE,
    Recognizer,
)
from tests.support.speech_fixtures import have_espeak, pad, synthesize

#: A posterior at which the unwarped decoder's words are not trusted, even when they make one
#: clear command (below MIN_CONFIDENCE_WHEN_CLEAR).
DOUBTFUL = MIN_CONFIDENCE_WHEN_CLEAR / 10


def heard(centre: tuple[str, float], *warped: tuple[str, float]) -> Heard:
    return Heard(*centre, 100, tuple(Heard(text, confidence, 100) for text, confidence in warped))


@pytest.fixture(scope="module")
def recognizer(library: Library) -> Recognizer:
    return Recognizer(library, warps=())


def test_a_trusted_unwarped_answer_wins(recognizer: Recognizer) -> None:
    intent = recognizer.intent_of(heard(("next section please", 0.3), ("help", 0.9), ("help", 0.9)))
    assert intent.name is IntentName.NEXT


def test_a_doubtful_unwarped_answer_needs_a_warped_decoder_to_agree(
    recognizer: Recognizer,
) -> None:
    doubtful = SURE_CONFIDENCE / 10  # trusted on its own (above MIN_CONFIDENCE), but not sure
    alone = recognizer.intent_of(heard(("next section please", doubtful), ("help", 0.5), ("", 0.0)))
    assert alone.name is IntentName.NONE
    assert alone.heard == "next section please"
    seconded = heard(("next section please", doubtful), ("help", 0.5), ("next one", 1e-9))
    assert recognizer.intent_of(seconded).name is IntentName.NEXT
    sure = recognizer.intent_of(heard(("next section please", SURE_CONFIDENCE), ("help", 0.5)))
    assert sure.name is IntentName.NEXT


def test_two_decoders_that_agree_are_believed(recognizer: Recognizer) -> None:
    # Neither warped posterior is enough on its own (both under SURE_CONFIDENCE).
    agree = AGREED_CONFIDENCE * 2
    alone = recognizer.intent_of(heard(("", 0.0), ("previous one", agree), ("", 0.0)))
    assert alone.name is IntentName.NONE
    agreed = recognizer.intent_of(heard(("", 0.0), ("previous one", agree), ("go back", agree)))
    assert agreed.name is IntentName.PREVIOUS
    assert agreed.heard == "previous one"
    too_unsure = heard(("", 0.0), ("previous one", agree), ("go back", AGREED_CONFIDENCE / 2))
    assert recognizer.intent_of(too_unsure).name is IntentName.NONE
    different = heard(("", 0.0), ("previous one", agree), ("next one", agree))
    assert recognizer.intent_of(different).name is IntentName.NONE


def test_disagreeing_decoders_need_one_sure_warped_answer(recognizer: Recognizer) -> None:
    unsure = heard(("go back one step", DOUBTFUL), ("turn it up a bit", SURE_CONFIDENCE / 2))
    assert recognizer.intent_of(unsure).name is IntentName.NONE
    sure = heard(("go back one step", DOUBTFUL), ("turn it up a bit", SURE_CONFIDENCE * 2))
    assert recognizer.intent_of(sure).name is IntentName.LOUDER


def test_warped_chatter_is_still_none(recognizer: Recognizer) -> None:
    chatter = heard(
        ("my phone needs charging", 0.5), ("where did i park the car", 0.5), ("", 0.0),
    )
    assert recognizer.intent_of(chatter).name is IntentName.NONE


@pytest.mark.real_audio
@pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed (make test installs it)")
def test_every_warped_decoder_hears_the_same_utterance(library: Library) -> None:
    decoder = SpeechDecoder(library, warps=WARPS)
    result = decoder.decode(pad(synthesize("next section please", "en-us+klatt", 150)))
    assert len(result.warped) == len(WARPS) >= 2
    for one in (result, *result.warped):
        assert "next" in one.text.split()
        assert one.frames == result.frames
        assert 0.0 < one.confidence <= 1.0
