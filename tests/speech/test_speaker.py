"""The Speaker's state machine, with a recording fake output and renderer (no audio, no espeak)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.config import Settings
from kiosk.events import Event, EventType
from kiosk.library import Library
from kiosk.speech.render import library_texts
from kiosk.speech.speaker import KioskSpeaker
from tests.speech.fakes import WORD_SAMPLES, EventLog, FakeOutput, FakeRenderer

SENTENCES = ("One two three.", "Four five.", "Six seven eight nine.")
S = EventType.SENTENCE_STARTED
F = EventType.SENTENCE_FINISHED


class Rig:
    """A speaker wired to fakes, with the test holding the device's side."""

    def __init__(self, available: bool | None = True, settings: Settings | None = None) -> None:
        self.settings = Settings() if settings is None else settings
        self.output = FakeOutput(available)
        self.renderer = FakeRenderer()
        self.log = EventLog()
        self.speaker = KioskSpeaker(self.settings, self.renderer, self.output, self.log)

    def play(self, sentence_index: int, words: int | None = None) -> None:
        """Play the first `words` words (all by default) of a queued sentence."""
        count = len(SENTENCES[sentence_index].split()) if words is None else words
        self.output.advance(count * WORD_SAMPLES)


@pytest.fixture
def rig() -> Iterator[Rig]:
    made = Rig()
    yield made
    made.speaker.close()


def test_speaks_every_sentence_in_order_and_reports_the_end(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    for index in range(3):
        rig.output.wait_queued(1)
        rig.play(index)
    rig.log.wait_for(EventType.SPEECH_FINISHED)
    rig.log.settle()
    assert rig.log.kinds() == [
        "sentence_started:0", "sentence_finished:0", "sentence_started:1", "sentence_finished:1",
        "sentence_started:2", "sentence_finished:2", "speech_finished",
    ]
    started = [e for e in rig.log.events if e.type is S]
    assert [e["text"] for e in started] == list(SENTENCES)
    assert not rig.speaker.speaking


def test_nothing_is_reported_before_it_is_played(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(2)  # rendered ahead, but not heard
    rig.log.settle()
    assert rig.log.kinds() == []
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.log.settle()
    assert rig.log.kinds() == ["sentence_started:0"]


def test_word_events_name_the_words_of_the_sentence(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES[2:])
    rig.output.wait_queued(1)
    rig.output.advance(2 * WORD_SAMPLES)  # two words heard, the third not yet
    rig.log.wait_for(S)
    rig.log.settle()
    words = [e for e in rig.log.events if e.type is EventType.WORD_STARTED]
    assert [SENTENCES[2][e["char_start"]:e["char_end"]] for e in words] == ["Six", "seven"]
    assert all(e["index"] == 0 for e in words)


def test_start_index_skips_earlier_sentences(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES, start=1)
    rig.output.wait_queued(1)
    rig.play(1)
    rig.log.wait_for(F, index=1)
    assert rig.log.kinds()[0] == "sentence_started:1"
    assert SENTENCES[0] not in [text for text, _ in rig.renderer.calls]


def test_stop_silences_at_once_and_reports_once(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.speaker.stop()
    assert ("clear", None) in rig.output.calls  # cut before stop() returned
    assert not rig.output.queue
    rig.log.wait_for(EventType.SPEECH_STOPPED)
    rig.speaker.stop()  # nothing playing: no second report
    rig.output.advance(10 * WORD_SAMPLES)
    rig.log.settle()
    assert rig.log.kinds() == ["sentence_started:0", "speech_stopped"]


def test_new_speech_replaces_old_speech(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.speaker.speak(["Hello there."])
    rig.output.wait_queued(1)
    rig.output.advance(1000)
    rig.log.wait_for(EventType.SPEECH_FINISHED)
    rig.log.settle()
    assert rig.log.kinds() == [
        "sentence_started:0", "speech_stopped", "sentence_started:0", "sentence_finished:0",
        "speech_finished",
    ]
    assert [e["text"] for e in rig.log.events if e.type is S][1] == "Hello there."


def test_pause_mid_sentence_and_resume_from_its_start(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0)
    rig.output.wait_queued(1)
    rig.play(1, words=1)  # half way through "Four five."
    rig.log.wait_for(S, index=1)
    rig.speaker.pause()
    paused = rig.log.wait_for(EventType.SPEECH_PAUSED)
    assert paused["index"] == 1
    assert not rig.output.queue and not rig.speaker.speaking
    rig.speaker.resume()
    rig.output.wait_queued(1)
    rig.play(1)
    restarted = rig.log.wait_for(S, index=1)
    assert restarted["text"] == SENTENCES[1]
    rig.log.settle()
    assert rig.log.kinds()[-3:] == [
        "speech_paused:1", "sentence_started:1", "sentence_finished:1",
    ]


def test_pause_between_sentences_resumes_with_the_next(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0)
    rig.log.wait_for(F, index=0)
    rig.speaker.pause()
    assert rig.log.wait_for(EventType.SPEECH_PAUSED)["index"] == 1
    rig.speaker.resume()
    rig.output.wait_queued(1)
    rig.play(1)
    rig.log.wait_for(S, index=1)


def test_stop_forgets_the_pause(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.speaker.pause()
    rig.log.wait_for(EventType.SPEECH_PAUSED)
    rig.speaker.stop()
    rig.speaker.resume()
    rig.log.settle()
    assert not rig.speaker.speaking
    assert rig.log.kinds() == ["sentence_started:0", "speech_paused:0"]


def test_pause_and_resume_do_nothing_when_idle(rig: Rig) -> None:
    rig.speaker.pause()
    rig.speaker.resume()
    rig.log.settle()
    assert rig.log.kinds() == []


def test_volume_is_clamped_to_the_configured_range(rig: Rig) -> None:
    rig.speaker.set_volume(-9.0)
    assert rig.output.gain_db == -9.0
    rig.speaker.set_volume(5.0)
    assert rig.output.gain_db == 0.0
    rig.speaker.set_volume(-100.0)
    assert rig.output.gain_db == rig.settings.volume_min_db
    assert -rig.settings.volume_min_db >= 18  # the range the kiosk promises


def test_rate_change_rerenders_what_has_not_been_heard(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(2)
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.speaker.set_rate(rig.settings.rate_wpm + 20)
    rig.output.wait_queued(2)
    rig.play(0)
    rig.play(1)
    rig.log.wait_for(F, index=1)
    rates = {text: rate for text, rate in rig.renderer.calls}
    assert rates[SENTENCES[1]] == rig.settings.rate_wpm + 20
    assert (SENTENCES[0], rig.settings.rate_wpm) in rig.renderer.calls
    dropped = [call[1] for call in rig.output.calls if call[0] == "drop_queued"]
    assert dropped and (0, 1) in dropped[0] and (0, 0) not in dropped[0]


def test_rate_is_clamped(rig: Rig) -> None:
    rig.speaker.set_rate(10_000)
    rig.speaker.speak(["Fast."])
    rig.output.wait_queued(1)
    assert rig.renderer.calls[-1] == ("Fast.", rig.settings.rate_max_wpm)


def test_earcons_play_over_speech_and_unknown_ones_are_ignored(rig: Rig) -> None:
    rig.speaker.earcon("listening")
    rig.speaker.earcon("no-such-sound")
    overlays = [call for call in rig.output.calls if call[0] == "overlay"]
    assert len(overlays) == 1 and overlays[0][1] > 0
    for name in ("understood", "not_understood", "end_of_section"):
        rig.speaker.earcon(name)
    assert len({len(pcm) for pcm in rig.output.overlays}) >= 3  # distinct sounds


def test_lost_device_stops_speech_reports_once_and_recovers(rig: Rig) -> None:
    rig.speaker.speak(SENTENCES)
    rig.output.wait_queued(1)
    rig.play(0, words=1)
    rig.log.wait_for(S, index=0)
    rig.output.lose()
    rig.log.wait_for(EventType.SOUND_UNAVAILABLE)
    rig.speaker.speak(["Anyone there?"])  # must not raise, must not queue
    rig.output.lose()
    rig.log.settle()
    assert not rig.output.queue
    assert rig.log.kinds() == ["sentence_started:0", "speech_stopped", "sound_unavailable"]
    rig.output.restore()
    rig.log.wait_for(EventType.SOUND_AVAILABLE)
    rig.speaker.speak(["Back again."])
    rig.output.wait_queued(1)
    rig.output.advance(1000)
    rig.log.wait_for(EventType.SPEECH_FINISHED)


def test_no_device_at_start_is_reported_once_without_raising() -> None:
    made = Rig(available=False)
    try:
        made.speaker.speak(SENTENCES)
        made.speaker.earcon("listening")
        made.speaker.set_volume(-3)
        made.speaker.pause()
        made.speaker.resume()
        made.speaker.stop()
        made.log.settle()
        assert made.log.kinds() == ["sound_unavailable"]
        assert made.log.events[0]["reason"]
        assert made.renderer.calls == []
    finally:
        made.speaker.close()


def test_synthesis_error_is_reported_and_recovered(rig: Rig) -> None:
    rig.renderer.fail.add("Broken.")
    rig.speaker.speak(["Broken.", "Fine."])
    rig.log.wait_for(EventType.SPEECH_STOPPED)
    unavailable = rig.log.wait_for(EventType.SOUND_UNAVAILABLE)
    assert "synthesis" in unavailable["reason"]
    rig.log.settle()
    assert rig.log.kinds() == ["speech_stopped", "sound_unavailable"]
    rig.speaker.speak(["Fine."])
    rig.log.wait_for(EventType.SOUND_AVAILABLE)
    rig.output.wait_queued(1)
    rig.output.advance(1000)
    rig.log.wait_for(EventType.SPEECH_FINISHED)


def test_empty_speech_finishes_at_once(rig: Rig) -> None:
    rig.speaker.speak([])
    rig.log.wait_for(EventType.SPEECH_FINISHED)
    assert not rig.speaker.speaking


def test_a_failing_event_sink_does_not_stop_the_speaker() -> None:
    made = Rig()
    seen: list[EventType] = []

    def sink(item: Event) -> None:
        seen.append(item.type)
        raise RuntimeError("consumer bug")

    made.speaker._sink = sink
    try:
        made.speaker.speak(["One.", "Two."])
        made.output.wait_queued(1)
        made.output.advance(100)
        made.output.wait_queued(1)
        made.output.advance(100)
        deadline = 50
        while EventType.SPEECH_FINISHED not in seen and deadline:
            made.log.settle(0.05)
            deadline -= 1
        assert EventType.SPEECH_FINISHED in seen
    finally:
        made.speaker.close()


def test_background_prerendering_yields_to_speech(rig: Rig) -> None:
    texts = [f"Background sentence {n}." for n in range(30)]
    rig.speaker.prerender(texts)
    rig.speaker.speak(["Urgent."])
    rig.output.wait_queued(1)
    assert rig.speaker.wait_prerendered(10)
    rendered = [text for text, _ in rig.renderer.calls]
    assert set(texts) <= set(rendered)
    assert rendered.index("Urgent.") < len(rendered) - 1  # not left until the end


def test_close_releases_engines() -> None:
    made = Rig()
    made.speaker.close()
    assert ("close", None) in made.output.calls
    assert made.renderer.closed
    made.speaker.close()  # twice is harmless


def test_prerender_without_arguments_covers_the_library(library: Library) -> None:
    output, renderer, log = FakeOutput(), FakeRenderer(), EventLog()
    speaker = KioskSpeaker(Settings(), renderer, output, log, library)
    try:
        speaker.prerender()
        assert speaker.wait_prerendered(20)
        rendered = {text for text, _ in renderer.calls}
        assert set(library_texts(library)) == rendered
        assert {rate for _, rate in renderer.calls} == {Settings().rate_wpm}
    finally:
        speaker.close()
