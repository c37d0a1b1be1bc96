# mypy: disable-error-code="comparison-overlap"
"""The controller as a state machine: record its events and compare the sequence, with fake engines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from unittest.mock import patch

import pytest

from kiosk.config import Settings
from kiosk.controller import Controller, Screen, Speech
from kiosk.events import Event, EventType, event
from kiosk.intents import Action, Intent, IntentName, UiRequest
from kiosk.library import Library
from kiosk.understanding import passage_text
from tests.fakes import FakeListener, FakeSpeaker


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """A controller wired to fakes, recording every event it emits."""

    def __init__(self, library: Library, settings: Settings | None = None) -> None:
        self.clock = FakeClock()
        self.settings = settings or Settings()
        self.controller = Controller(self.settings, library, clock=self.clock)
        self.speaker = FakeSpeaker(self.controller.on_engine_event)
        self.listener = FakeListener(self.controller.on_engine_event)
        self.controller.attach(self.speaker, self.listener)
        self.events: list[Event] = []
        self.controller.subscribe(self.events.append)

    def kinds(self) -> list[str]:
        return [str(e.type) for e in self.events]

    def said(self) -> list[str]:
        """Everything handed to the speaker, flattened."""
        return [text for batch in self.speaker.spoken for text in batch]

    def intent(self, name: str, *, topic: str | None = None, section: str | None = None,
               answer: str | None = None) -> None:
        self.controller.handle(Intent(IntentName(name), topic=topic, section=section, answer=answer))


@pytest.fixture
def rig(library: Library) -> Rig:
    return Rig(library)


def test_attach_passes_rate_and_volume(rig: Rig) -> None:
    assert rig.speaker.rate == rig.settings.rate_wpm
    assert rig.speaker.volume == rig.settings.volume_db
    assert rig.controller.state.screen is Screen.WELCOME


def test_event_sequence_idle_reading_listening_error(rig: Rig, library: Library) -> None:
    """welcome -> topic -> reading a section -> listening -> microphone lost."""
    rig.intent("topic", topic="calcifications")
    rig.controller.activate("section:calcifications/symptoms")
    rig.speaker.hear_sentence(1)
    rig.controller.talk()
    rig.listener.sink(event(EventType.MICROPHONE_UNAVAILABLE, reason="unplugged"))
    kinds = rig.kinds()
    assert kinds == [
        "screen_changed", "prompt",  # topic screen, its intro spoken
        "speech_stopped",  # choosing a section cuts the intro
        "screen_changed", "reading_position",  # reader, position 0
        "sentence_started",
        "speech_stopped",  # Talk stops the reading
        "prompt",  # "Listening."
        "listening_started",
        "prompt",  # microphone unavailable, shown and spoken
        "microphone_unavailable",
    ]
    state = rig.controller.state
    assert state.screen is Screen.READER
    assert (state.topic, state.section, state.sentence) == ("calcifications", "symptoms", 0)
    assert not state.microphone_available
    assert state.status == library.text("status.microphone_unavailable")
    assert rig.speaker.spoken[-1] == [library.text("status.microphone_unavailable")]


def test_reading_follows_heard_sentences(rig: Rig, library: Library) -> None:
    section = library.section("calcifications", "symptoms")
    rig.intent("section", topic="calcifications", section="symptoms")
    texts, start = rig.speaker.calls[-1][1]
    assert texts[0] == library.text("screen.reader_intro", section=section.title)
    assert list(texts[1:]) == [s.text for s in section.sentences]
    assert start == 0
    for spoken in (1, 2, 3):
        rig.speaker.hear_sentence(spoken)
        assert rig.controller.state.sentence == spoken - 1
    positions = [e["sentence"] for e in rig.events if e.type is EventType.READING_POSITION]
    assert positions == [0, 1, 2]


def test_stale_sentence_event_from_replaced_speech_is_ignored(rig: Rig) -> None:
    rig.intent("section", topic="calcifications", section="symptoms")
    old_text = rig.speaker.speaking[3]
    rig.intent("section", topic="calcifications", section="causes")
    # A late report from the old section must not move the new section's highlight.
    rig.controller.on_engine_event(event(EventType.SENTENCE_STARTED, index=3, text=old_text))
    assert rig.controller.state.sentence == 0


def test_single_section_ends_with_end_of_section(rig: Rig, library: Library) -> None:
    rig.intent("section", topic="calcifications", section="what-they-are")
    rig.speaker.play_to_end()
    state = rig.controller.state
    assert state.section == "what-they-are"
    assert state.sentence == len(library.section("calcifications", "what-they-are").sentences) - 1
    assert ("earcon", "end_of_section") in rig.speaker.calls
    assert rig.speaker.spoken[-1] == [library.text("screen.end_of_section")]


def test_read_all_flows_section_to_section_until_stopped(rig: Rig, library: Library) -> None:
    topic = library.topic("second-opinions")
    rig.intent("topic", topic="second-opinions")
    rig.controller.activate("read_all")
    assert rig.controller.state.reading_all
    seen = [rig.controller.state.section]
    for _ in range(2):
        rig.speaker.play_to_end()
        seen.append(rig.controller.state.section)
    assert seen == [s.id for s in topic.sections[:3]]
    rig.intent("stop")
    assert rig.controller.state.speech is Speech.IDLE
    assert not rig.controller.state.reading_all
    rig.speaker.play_to_end()  # nothing in flight: stays put
    assert rig.controller.state.section == topic.sections[2].id


def test_read_all_ends_at_end_of_topic(rig: Rig, library: Library) -> None:
    topic = library.topic("second-opinions")
    rig.intent("topic", topic="second-opinions")
    rig.controller.activate("read_all")
    for _ in topic.sections:
        rig.speaker.play_to_end()
    assert rig.controller.state.section == topic.sections[-1].id
    assert rig.speaker.spoken[-1] == [library.text("screen.end_of_topic", topic=topic.title)]
    assert not rig.controller.state.reading_all


def test_stale_finish_does_not_skip_a_section(rig: Rig) -> None:
    rig.intent("topic", topic="second-opinions")
    rig.controller.activate("read_all")
    rig.speaker.hear_sentence(1)
    first = rig.controller.state.section
    rig.intent("next")
    second = rig.controller.state.section
    assert second != first
    # The old section's "finished" arrives late: it must not move on again.
    rig.controller.on_engine_event(event(EventType.SPEECH_FINISHED))
    assert rig.controller.state.section == second


def test_next_previous_and_repeat(rig: Rig, library: Library) -> None:
    sections = library.topic("calcifications").sections
    rig.intent("section", topic="calcifications", section=sections[1].id)
    rig.intent("next")
    assert rig.controller.state.section == sections[2].id
    rig.intent("previous")
    rig.intent("previous")
    assert rig.controller.state.section == sections[0].id
    rig.speaker.hear_sentence(2)  # intro is 0: section sentence 1
    rig.intent("repeat")
    texts, start = rig.speaker.calls[-1][1]
    assert texts[start:] == (sections[0].sentences[1].text,)
    assert rig.controller.state.sentence == 1


def test_pause_resume_and_stop(rig: Rig) -> None:
    rig.intent("section", topic="calcifications", section="symptoms")
    rig.intent("pause")
    assert rig.controller.state.speech is Speech.PAUSED
    assert rig.speaker.paused
    rig.intent("resume")
    assert rig.controller.state.speech is Speech.SPEAKING
    assert rig.speaker.calls[-1] == ("resume", None)
    rig.intent("stop")
    assert rig.controller.state.speech is Speech.IDLE
    assert rig.speaker.calls[-1] == ("stop", None)
    # Resume after stop reads on from the highlighted sentence.
    rig.intent("resume")
    assert rig.controller.state.speech is Speech.SPEAKING
    assert rig.speaker.names()[-1] == "speak"


def test_listen_button_toggles(rig: Rig) -> None:
    rig.intent("section", topic="calcifications", section="symptoms")
    labels = {item.target: item.label for item in rig.controller.focus_items()}
    assert labels["listen"] == "Pause"
    rig.controller.activate("listen")
    assert rig.controller.state.speech is Speech.PAUSED
    rig.controller.activate("listen")
    assert rig.controller.state.speech is Speech.SPEAKING


def test_ask_speaks_the_answer_and_highlights_its_sentences(rig: Rig, library: Library) -> None:
    section = library.section("calcifications", "what-they-are")
    answer = " ".join(s.text for s in section.sentences[1:])
    rig.intent("ask", answer=answer, topic="calcifications", section="what-they-are")
    state = rig.controller.state
    assert (state.screen, state.section, state.answer) == (Screen.READER, "what-they-are", answer)
    assert state.sentence == 1
    texts, _ = rig.speaker.calls[-1][1]
    assert texts[0] == library.text("screen.answer_intro", section=section.title)
    assert " ".join(texts[1:]) == answer
    rig.speaker.hear_sentence(2)
    assert rig.controller.state.sentence == 2


def test_an_answer_with_a_list_speaks_and_highlights_each_item(
    rig: Rig, library: Library
) -> None:
    section = library.section("calcifications", "causes")
    answer = passage_text(section, range(len(section.sentences)))
    rig.intent("ask", answer=answer, topic="calcifications", section="causes")
    texts, _ = rig.speaker.calls[-1][1]
    assert list(texts[1:]) == [s.text for s in section.sentences]  # items not run together
    rig.speaker.hear_sentence(len(texts) - 1)  # the last list item
    assert rig.controller.state.sentence == len(section.sentences) - 1


def test_ask_without_a_section_still_speaks(rig: Rig) -> None:
    rig.intent("ask", answer="Some passage.")
    assert rig.speaker.spoken[-1] == ["Some passage."]
    assert rig.controller.state.screen is Screen.WELCOME


def test_none_intent_only_prompts(rig: Rig, library: Library) -> None:
    rig.intent("topic", topic="calcifications")
    before = rig.controller.state
    rig.intent("none")
    after = rig.controller.state
    assert rig.speaker.spoken[-1] == [library.text("prompt.out_of_scope")]
    assert (after.screen, after.topic, after.rate_wpm, after.volume_db) == (
        before.screen, before.topic, before.rate_wpm, before.volume_db
    )


def test_unknown_topic_or_section_prompts_and_stays(rig: Rig, library: Library) -> None:
    rig.intent("topic", topic="no-such-topic")
    rig.intent("section", topic="calcifications", section="no-such-section")
    assert rig.controller.state.screen is Screen.WELCOME
    assert rig.speaker.spoken[-1] == [library.text("prompt.not_understood")]


def test_rate_and_volume_steps_within_limits(rig: Rig, library: Library) -> None:
    s = rig.settings
    for _ in range(50):
        rig.intent("louder")
    assert rig.controller.state.volume_db == 0.0 == rig.speaker.volume
    assert rig.speaker.spoken[-1] == [library.text("prompt.at_loudest")]
    for _ in range(50):
        rig.intent("quieter")
    assert rig.controller.state.volume_db == s.volume_min_db == rig.speaker.volume
    assert 0.0 - s.volume_min_db >= 18
    for _ in range(50):
        rig.intent("faster")
    assert rig.controller.state.rate_wpm == s.rate_max_wpm == rig.speaker.rate
    for _ in range(50):
        rig.intent("slower")
    assert rig.controller.state.rate_wpm == s.rate_min_wpm == rig.speaker.rate
    changes = [e for e in rig.events if e.type is EventType.SETTINGS_CHANGED]
    assert changes and changes[-1]["rate_wpm"] == s.rate_min_wpm


def test_settings_change_while_reading_does_not_interrupt(rig: Rig) -> None:
    rig.intent("section", topic="calcifications", section="symptoms")
    speaks = rig.speaker.names().count("speak")
    rig.intent("faster")
    assert rig.speaker.names().count("speak") == speaks
    assert rig.speaker.rate == rig.settings.rate_wpm + rig.settings.rate_step_wpm


def test_text_size_steps_to_twice_and_wraps(rig: Rig) -> None:
    steps = rig.settings.text_scale_steps
    scales = []
    for _ in range(steps + 1):
        rig.controller.activate("text_size")
        scales.append(rig.controller.state.text_scale)
    assert scales[steps - 1] == 2.0
    assert scales[-1] == 1.0
    assert scales[:steps] == sorted(scales[:steps])


def test_keypad_path_from_welcome_to_end_of_section(rig: Rig, library: Library) -> None:
    """Down, down ... activate: every focus change is spoken, then the section is read."""
    c = rig.controller
    c.key("down")  # first key press: speech mode on, focus the first tile
    assert c.state.speech_mode
    focus = [e for e in rig.events if e.type is EventType.FOCUS_CHANGED]
    assert focus[-1]["target"] == "topic:calcifications"
    # The first move of a visit also says how to use the kiosk.
    assert rig.speaker.spoken[-1] == [library.text("screen.how_to_start"), focus[-1]["label"]]
    c.key("up")
    c.key("down")
    assert rig.speaker.spoken[-1] == [focus[-1]["label"]]
    c.key("activate")
    assert c.state.screen is Screen.TOPIC
    c.key("down")
    c.key("down")
    second = library.topic("calcifications").sections[1]
    assert c.state.focus == f"section:calcifications/{second.id}"
    assert rig.speaker.spoken[-1] == [second.title]
    c.key("activate")
    assert (c.state.screen, c.state.section) == (Screen.READER, second.id)
    rig.speaker.play_to_end()
    assert c.state.sentence == len(second.sentences) - 1
    assert rig.speaker.spoken[-1] == [library.text("screen.end_of_section")]


def test_focus_wraps_and_back_goes_up_a_level(rig: Rig) -> None:
    c = rig.controller
    c.key("up")
    assert c.state.focus == c.focus_items()[-1].target
    c.activate("topic:calcifications")
    c.activate("section:calcifications/causes")
    c.key("back")
    assert c.state.screen is Screen.TOPIC
    c.key("back")
    assert c.state.screen is Screen.WELCOME


def test_help_then_back_returns(rig: Rig, library: Library) -> None:
    rig.intent("topic", topic="calcifications")
    rig.intent("help")
    assert rig.controller.state.screen is Screen.HELP
    assert library.text("screen.help_voice") in rig.said()
    rig.controller.activate("back")
    assert (rig.controller.state.screen, rig.controller.state.topic) == (Screen.TOPIC, "calcifications")


def test_touch_to_hear_in_speech_mode(rig: Rig, library: Library) -> None:
    c = rig.controller
    c.touch("topic:calcifications")  # not in speech mode: a touch activates
    assert c.state.screen is Screen.TOPIC
    c.handle(Intent(IntentName.HOME))
    c.activate("listen_screen")  # speech mode on
    c.touch("topic:second-opinions")
    assert c.state.screen == Screen.WELCOME
    assert c.state.focus == "topic:second-opinions"
    assert rig.speaker.spoken[-1] == [library.topic("second-opinions").title]
    rig.clock.now += 0.3
    c.touch("topic:second-opinions")  # the double tap activates
    assert (c.state.screen, c.state.topic) == (Screen.TOPIC, "second-opinions")


def test_touch_slow_second_tap_only_speaks_again(rig: Rig) -> None:
    c = rig.controller
    c.activate("listen_screen")
    c.touch("talk")
    rig.clock.now += 2.0
    c.touch("talk")
    assert rig.listener.calls.count(("start_listening", None)) == 0


def test_voice_heard_intent_is_handled(rig: Rig) -> None:
    rig.controller.talk()
    assert rig.listener.open and rig.controller.state.listening
    rig.listener.hear(Intent(IntentName.TOPIC, topic="second-opinions"))
    assert rig.controller.state.screen is Screen.TOPIC
    assert not rig.controller.state.listening
    assert ("earcon", "understood") in rig.speaker.calls
    rig.controller.talk()
    rig.listener.not_understood()
    assert rig.speaker.spoken[-1] == [rig.controller.text("prompt.not_understood")]


def test_speaking_makes_listener_deaf_until_done(rig: Rig) -> None:
    rig.intent("section", topic="calcifications", section="what-they-are")
    assert rig.listener.deaf
    rig.intent("stop")
    assert not rig.listener.deaf


def test_idle_warning_then_reset(rig: Rig, library: Library) -> None:
    c, s = rig.controller, rig.settings
    c.handle(Intent(IntentName.SECTION, topic="calcifications", section="causes"))
    c.handle(Intent(IntentName.LOUDER))
    c.activate("text_size")
    c.activate("high_contrast")
    rig.speaker.play_to_end()
    rig.speaker.play_to_end()  # "End of section."
    c.tick()
    assert c.state.idle_seconds_left is None
    rig.clock.now += s.idle_timeout_s - s.idle_warning_s + 0.1
    c.tick()
    left = c.state.idle_seconds_left
    assert left is not None and left >= 20
    assert c.state.focus == "continue"
    warnings = [e for e in rig.events if e.type is EventType.IDLE_WARNING]
    assert warnings[-1]["seconds_left"] == left
    assert rig.speaker.spoken[-1] == [library.text("prompt.idle_warning", seconds=left)]
    rig.speaker.play_to_end()
    rig.clock.now += s.idle_warning_s
    c.tick()
    state = c.state
    assert state.screen is Screen.WELCOME
    assert (state.volume_db, state.rate_wpm, state.text_scale, state.high_contrast) == (
        s.volume_db, s.rate_wpm, 1.0, s.high_contrast
    )
    assert (state.topic, state.section, state.speech_mode) == (None, None, False)
    assert rig.speaker.volume == s.volume_db
    assert EventType.VISIT_ENDED in [e.type for e in rig.events]
    # An empty kiosk does not warn again.
    n = len(rig.events)
    rig.speaker.play_to_end()
    rig.clock.now += s.idle_timeout_s * 3
    c.tick()
    assert [e.type for e in rig.events[n:]].count(EventType.IDLE_WARNING) == 0


def _at_idle_warning(rig: Rig) -> None:
    """A topic opened, then nothing until the idle warning is shown and said."""
    c, s = rig.controller, rig.settings
    c.handle(Intent(IntentName.TOPIC, topic="calcifications"))
    rig.speaker.play_to_end()
    rig.clock.now += s.idle_timeout_s - s.idle_warning_s + 1
    c.tick()
    assert c.state.idle_seconds_left is not None
    rig.speaker.play_to_end()


def test_idle_warning_continue_extends_the_visit(rig: Rig) -> None:
    c, s = rig.controller, rig.settings
    _at_idle_warning(rig)
    c.key("activate")  # the focused "Continue"
    assert c.state.idle_seconds_left is None
    rig.speaker.play_to_end()
    rig.clock.now += s.idle_warning_s + 1
    c.tick()
    assert c.state.screen is Screen.TOPIC


def test_a_stray_touch_or_key_is_presence_through_the_one_door(rig: Rig) -> None:
    """A touch or key that asks for nothing still means someone is there: it goes through
    handle() like every input, clears the idle warning silently, is not counted and does not
    start speech mode."""
    c, s = rig.controller, rig.settings
    _at_idle_warning(rig)
    spoken = len(rig.speaker.spoken)
    with patch.object(Controller, "handle", autospec=True, side_effect=Controller.handle) as door:
        c.note_activity("keypad")
        c.key("no such action")  # not in the keypad table: presence too
    presence = UiRequest(Action.PRESENCE)
    assert [call.args[1:] for call in door.call_args_list] == [(presence, "keypad")] * 2
    assert c.state.idle_seconds_left is None
    assert len(rig.speaker.spoken) == spoken  # nothing said
    assert not c.state.speech_mode
    assert "presence" not in str(c.usage.days())
    rig.clock.now += s.idle_timeout_s - 1
    c.tick()
    assert c.state.screen is Screen.TOPIC  # the idle clock started again at the key


def test_listening_to_speech_is_not_idle(rig: Rig) -> None:
    c, s = rig.controller, rig.settings
    c.handle(Intent(IntentName.TOPIC, topic="calcifications"))
    c.activate("read_all")
    for _ in range(8):  # each heard sentence shows someone may be listening
        rig.clock.now += s.idle_timeout_s - s.idle_warning_s - 1
        following = rig.speaker.position + 1
        if following < len(rig.speaker.speaking):
            rig.speaker.hear_sentence(following)
        else:
            rig.speaker.play_to_end()  # on to the next section
        c.tick()
    assert c.state.screen is Screen.READER
    assert c.state.idle_seconds_left is None
    # A speaker that goes quiet without saying so does not keep the visit open for ever.
    rig.clock.now += s.idle_timeout_s + 1
    c.tick()
    assert c.state.screen == Screen.WELCOME


def test_sound_lost_and_back(rig: Rig, library: Library) -> None:
    c = rig.controller
    c.on_engine_event(event(EventType.SOUND_UNAVAILABLE, reason="no device"))
    assert not c.state.sound_available
    assert c.state.status == library.text("status.sound_unavailable")
    c.on_engine_event(event(EventType.SOUND_AVAILABLE))
    assert c.state.sound_available and c.state.status == ""
    assert rig.speaker.spoken[-1] == [library.text("status.sound_back")]


def test_microphone_back_clears_status(rig: Rig, library: Library) -> None:
    c = rig.controller
    c.on_engine_event(event(EventType.MICROPHONE_UNAVAILABLE, reason="x"))
    c.talk()
    assert rig.listener.calls.count(("start_listening", None)) == 0
    assert rig.speaker.spoken[-1] == [library.text("status.microphone_unavailable")]
    c.on_engine_event(event(EventType.MICROPHONE_AVAILABLE))
    assert c.state.microphone_available and c.state.status == ""


def test_every_intent_on_every_screen_keeps_a_valid_state(library: Library) -> None:
    """No intent on any screen raises or leaves the controller pointing at missing content."""
    rig = Rig(library)
    openers: dict[Screen, Callable[[Controller], None]] = {
        Screen.WELCOME: lambda c: c.handle(Intent(IntentName.HOME)),
        Screen.TOPIC: lambda c: c.handle(Intent(IntentName.TOPIC, topic="calcifications")),
        Screen.READER: lambda c: c.activate("section:second-opinions/insurance"),
        Screen.HELP: lambda c: c.handle(Intent(IntentName.HELP)),
    }
    for screen, open_screen in openers.items():
        for name in IntentName:
            open_screen(rig.controller)
            assert rig.controller.state.screen is screen
            rig.controller.handle(
                Intent(name, topic="second-opinions", section="insurance", answer="Yes.")
            )
            state = rig.controller.state
            if state.topic is not None:
                library.topic(state.topic)
            if state.section is not None:
                assert state.topic is not None
                section = library.section(state.topic, state.section)
                assert 0 <= state.sentence < len(section.sentences)


def test_default_settings_allow_eighteen_db(library: Library) -> None:
    settings = replace(Settings(), volume_min_db=-18.0)
    rig = Rig(library, settings)
    for _ in range(20):
        rig.intent("quieter")
    assert rig.controller.state.volume_db == -18.0


def test_listening_prompt_clears_when_the_microphone_closes(rig: Rig) -> None:
    rig.controller.talk()
    assert rig.controller.state.prompt == rig.controller.text("prompt.listening")
    rig.listener.stop_listening()
    assert rig.controller.state.prompt == ""
    assert not rig.controller.state.listening


# ----- "Did you mean ...?" --------------------------------------------------------------------

def _doubtful(maybe: Intent) -> Event:
    return event(EventType.HEARD, intent=Intent(IntentName.NONE, confidence=0.0, maybe=maybe))


def _reply(answer: str) -> Event:
    return event(EventType.HEARD, intent=Intent(IntentName.NONE, confidence=0.0, reply=answer))


def test_a_doubtful_hearing_is_asked_about_and_yes_acts_on_it(rig: Rig) -> None:
    ctrl = rig.controller
    ctrl.on_engine_event(_doubtful(Intent(IntentName.TOPIC, topic="second-opinions")))
    asked = ctrl.text("prompt.did_you_mean", meaning="Second opinions")
    assert rig.speaker.spoken[-1] == [asked]
    assert ctrl.state.maybe == Intent(IntentName.TOPIC, topic="second-opinions")
    assert [item.target for item in ctrl.focus_items()[:2]] == ["yes", "no"]
    assert ctrl.state.screen is Screen.WELCOME  # nothing done yet
    assert not rig.listener.open
    rig.speaker.play_to_end()
    assert rig.listener.open  # the answer needs no second press of Talk
    ctrl.on_engine_event(_reply("yes"))
    assert (ctrl.state.screen, ctrl.state.topic, ctrl.state.maybe) == (
        Screen.TOPIC, "second-opinions", None)


def test_no_asks_to_say_it_again_and_listens(rig: Rig) -> None:
    ctrl = rig.controller
    ctrl.on_engine_event(_doubtful(Intent(IntentName.NEXT)))
    assert rig.speaker.spoken[-1] == [
        ctrl.text("prompt.did_you_mean", meaning=ctrl.text("meaning.next"))]
    ctrl.key("back")  # 7 on the keypad
    assert ctrl.state.maybe is None
    assert rig.speaker.spoken[-1] == [ctrl.text("prompt.say_again")]
    rig.speaker.play_to_end()
    assert rig.listener.open
    assert ctrl.state.screen is Screen.WELCOME


def test_the_question_is_answered_by_keypad_and_touch(rig: Rig) -> None:
    ctrl = rig.controller
    ctrl.on_engine_event(_doubtful(Intent(IntentName.SECTION, topic="calcifications",
                                          section="causes")))
    assert ctrl.state.focus == "yes"
    ctrl.key("activate")  # 5 on the keypad
    assert (ctrl.state.screen, ctrl.state.section) == (Screen.READER, "causes")
    ctrl.on_engine_event(_doubtful(Intent(IntentName.HOME)))
    ctrl.touch("no")  # speech mode is on after voice: one touch speaks, a double tap acts
    ctrl.touch("no")
    assert ctrl.state.maybe is None
    assert ctrl.state.screen is Screen.READER


def test_another_wish_replaces_the_question_and_a_stray_yes_is_not_understood(rig: Rig) -> None:
    ctrl = rig.controller
    ctrl.on_engine_event(_doubtful(Intent(IntentName.TOPIC, topic="second-opinions")))
    ctrl.on_engine_event(event(EventType.HEARD, intent=Intent(IntentName.TOPIC,
                                                              topic="calcifications")))
    assert (ctrl.state.topic, ctrl.state.maybe) == ("calcifications", None)
    assert "yes" not in [item.target for item in ctrl.focus_items()]
    ctrl.on_engine_event(_reply("yes"))
    assert rig.speaker.spoken[-1] == [ctrl.text("prompt.not_understood")]
    assert ctrl.state.topic == "calcifications"


def test_the_question_and_its_answers_are_counted(library: Library) -> None:
    from kiosk.usage import UsageLog

    usage = UsageLog(None)
    ctrl = Controller(Settings(), library, usage=usage)
    ctrl.attach(FakeSpeaker(ctrl.on_engine_event), FakeListener(ctrl.on_engine_event))
    ctrl.on_engine_event(_doubtful(Intent(IntentName.LOUDER)))
    ctrl.on_engine_event(_reply("no"))
    ctrl.on_engine_event(_doubtful(Intent(IntentName.LOUDER)))
    ctrl.on_engine_event(_reply("yes"))
    (day,) = usage.days().values()
    assert day["intents"]["voice"] == {"did_you_mean": 2, "no": 1, "yes": 1, "louder": 1}


def test_every_keypad_action_and_every_control_has_a_request(library: Library) -> None:
    """The tables are complete: a key the settings allow, or a control on any screen, that
    mapped to nothing would do nothing."""
    from kiosk.config import KEYPAD_ACTIONS
    from kiosk.inputs import KEYPAD, control_request

    assert set(KEYPAD) == set(KEYPAD_ACTIONS)
    ctrl = Controller(Settings(), library)
    ctrl.attach(FakeSpeaker(ctrl.on_engine_event), FakeListener(ctrl.on_engine_event))
    targets = {item.target for item in ctrl.focus_items()}
    ctrl.activate("topic:calcifications")
    targets |= {item.target for item in ctrl.focus_items()}
    ctrl.activate("section:calcifications/two-types")
    targets |= {item.target for item in ctrl.focus_items()}
    ctrl.handle(Intent(IntentName.HELP))
    targets |= {item.target for item in ctrl.focus_items()}
    assert {"talk", "listen", "back", "read_all", "listen_screen"} <= targets
    assert [target for target in targets if control_request(target) is None] == []
    assert control_request("nothing-such") is None


def test_talk_back_and_focus_moves_are_counted_like_intents(library: Library) -> None:
    """Every input goes through handle(), so the figures count Talk and Back too (they never
    reached the old intent door)."""
    from kiosk.usage import UsageLog

    usage = UsageLog(None)
    ctrl = Controller(Settings(), library, usage=usage)
    ctrl.attach(FakeSpeaker(ctrl.on_engine_event), FakeListener(ctrl.on_engine_event))
    ctrl.touch("topic:calcifications")
    ctrl.touch("talk")
    ctrl.key("down")
    ctrl.key("back")
    ctrl.key("activate")
    (day,) = usage.days().values()
    assert day["intents"]["touch"] == {"topic": 1, "talk": 1}
    # Back on the topic screen goes home, where nothing is focused: activate moves to the first.
    assert day["intents"]["keypad"] == {"focus_next": 2, "back": 1}
    assert ctrl.state.screen is Screen.WELCOME


def test_a_state_change_may_name_every_field_of_the_state_and_nothing_else() -> None:
    """StateChange types the controller's _set; it must keep to ControllerState's fields."""
    from dataclasses import fields
    from typing import get_type_hints

    from kiosk.controller import ControllerState
    from kiosk.controller.state import StateChange

    assert get_type_hints(StateChange) == get_type_hints(ControllerState)
    assert set(StateChange.__annotations__) == {field.name for field in fields(ControllerState)}


def test_repeat_with_nothing_said_yet_reads_the_screen(library: Library) -> None:
    """A fresh controller (the kiosk just started, or new content just taken between visits)
    has said nothing: "repeat" reads the screen instead of leaving a blind visitor in silence."""
    ctrl = Controller(Settings(), library)
    speaker = FakeSpeaker(ctrl.on_engine_event)
    ctrl.attach(speaker, FakeListener(ctrl.on_engine_event))
    ctrl.key("repeat")
    assert speaker.spoken, "repeat said nothing"
    assert speaker.spoken[-1][:2] == [ctrl.text("screen.app_title"), ctrl.text("screen.welcome")]


def test_a_heard_event_without_an_intent_is_passed_on_without_one(library: Library) -> None:
    """The controller passes HEARD on to the UI without the intent (its words); one that comes
    in without an intent must be passed on the same way, not break the controller."""
    ctrl = Controller(Settings(), library)
    ctrl.attach(FakeSpeaker(ctrl.on_engine_event), FakeListener(ctrl.on_engine_event))
    seen: list[Event] = []
    ctrl.subscribe(seen.append)
    ctrl.on_engine_event(event(EventType.HEARD))
    assert [(e.type, e["intent"]) for e in seen] == [(EventType.HEARD, None)]


def test_a_control_nobody_knows_is_not_counted(library: Library) -> None:
    from kiosk.usage import UsageLog

    usage = UsageLog(None)
    ctrl = Controller(Settings(), library, usage=usage)
    ctrl.attach(FakeSpeaker(ctrl.on_engine_event), FakeListener(ctrl.on_engine_event))
    ctrl.activate("no-such-control")
    ctrl.activate("talk")
    (day,) = usage.days().values()
    assert day["intents"] == {"touch": {"talk": 1}}
