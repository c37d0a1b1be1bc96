"""Issue 19's controller side: "where am I", the Adjust panel, an answer with what was asked and
its two choices, and one primary control a screen. Through the real Controller with fakes."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from kiosk.controller import Screen, Speech
from kiosk.events import EventType
from kiosk.intents import Action, Intent, IntentName, UiRequest
from kiosk.library import Library
from kiosk.usage import UsageLog
from tests.test_controller import Rig


@pytest.fixture
def rig(library: Library) -> Rig:
    return Rig(library)


def targets(rig: Rig) -> list[str]:
    return [item.target for item in rig.controller.focus_items()]


def test_where_am_i_on_every_screen(rig: Rig, library: Library) -> None:
    ctrl, t = rig.controller, library.text
    topic = library.topic("calcifications")
    count = len(topic.sections)
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1] == [t("where.welcome")]
    ctrl.activate("topic:calcifications")
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1] == [t("where.topic", topic=topic.title, count=count)]
    second, third = topic.sections[1], topic.sections[2]
    ctrl.activate(f"section:calcifications/{second.id}")
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1][:2] == [  # then the reading goes on
        t("where.reader", topic=topic.title, number=2, count=count, section=second.title),
        t("where.next", section=third.title),
    ]
    assert ctrl.state.prompt == rig.speaker.spoken[-1][0]  # shown as well as said
    last = topic.sections[-1]
    ctrl.activate(f"section:calcifications/{last.id}")
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1][1] == t("where.last")
    ctrl.key("help")
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1] == [t("where.help")]


def test_where_am_i_by_voice_is_help_carrying_the_action(rig: Rig, library: Library) -> None:
    usage = UsageLog(None)
    rig.controller.usage = usage
    rig.controller.handle(Intent(IntentName.HELP, action=Action.WHERE_AM_I), "voice")
    assert rig.controller.state.screen is Screen.WELCOME  # not the help screen
    assert rig.speaker.spoken[-1] == [library.text("where.welcome")]
    [day] = usage.days().values()
    assert day["intents"]["voice"] == {"where_am_i": 1}


def test_the_adjust_panel_shows_each_setting_with_its_value(rig: Rig, library: Library) -> None:
    ctrl, t = rig.controller, library.text
    ctrl.key("adjust")
    state = ctrl.state
    assert state.adjusting and state.focus is None
    assert targets(rig) == ["slower", "faster", "quieter", "louder", "text_size",
                            "high_contrast", "adjust"]
    assert [i.label for i in ctrl.focus_items()][-1] == t("button.done")
    values = ctrl.adjust_values()
    assert values == (
        t("adjust.speed", value=t("adjust.speed_normal")), t("adjust.volume", step=7, steps=9),
        t("adjust.text_size", step=1, steps=5), t("adjust.contrast_standard"),
    )
    assert rig.speaker.spoken[-1] == [t("adjust.title"), *values]  # said when it opens
    ctrl.key("down")  # the first control
    ctrl.key("activate")
    ctrl.key("activate")  # Slower, twice
    ctrl.activate("louder")
    ctrl.activate("text_size")
    ctrl.activate("high_contrast")
    assert ctrl.adjust_values() == (
        t("adjust.speed", value=t("adjust.speed_slower", steps=2)),
        t("adjust.volume", step=8, steps=9), t("adjust.text_size", step=2, steps=5),
        t("adjust.contrast_high"),
    )
    assert (ctrl.state.rate_wpm, ctrl.state.volume_db) == (110, -3.0)
    settings_events = [e for e in rig.events if e.type is EventType.SETTINGS_CHANGED]
    assert settings_events[0]["adjusting"] is True
    ctrl.key("back")  # Back closes the panel, as Done does
    assert not ctrl.state.adjusting and ctrl.state.screen is Screen.WELCOME
    ctrl.activate("adjust")
    ctrl.activate("adjust")  # Done
    assert not ctrl.state.adjusting


def test_reading_waits_while_the_visitor_adjusts(rig: Rig, library: Library) -> None:
    """The panel is said (a blind visitor must hear it), each change is confirmed at its new
    speed, and Done goes on reading from the sentence the panel cut."""
    ctrl = rig.controller
    section = library.section("calcifications", "symptoms")
    ctrl.activate("section:calcifications/symptoms")
    rig.speaker.hear_sentence(2)  # the title, then the first two sentences
    assert ctrl.state.sentence == 1
    ctrl.activate("adjust")
    assert ctrl.state.adjusting
    assert rig.speaker.spoken[-1][0] == library.text("adjust.title")
    ctrl.activate("faster")
    assert rig.speaker.rate == ctrl.state.rate_wpm == 170
    assert rig.speaker.spoken[-1] == [library.text("button.faster")]
    ctrl.activate("adjust")  # Done
    assert not ctrl.state.adjusting
    assert rig.speaker.spoken[-1] == [s.text for s in section.sentences[1:]]
    assert ctrl.state.speech is Speech.SPEAKING


def test_done_without_reading_before_says_done(rig: Rig, library: Library) -> None:
    rig.controller.activate("adjust")
    rig.controller.activate("adjust")
    assert rig.speaker.spoken[-1] == [library.text("button.done")]


def test_the_end_of_a_visit_closes_the_panel(rig: Rig) -> None:
    rig.controller.activate("adjust")
    rig.controller.end_visit()
    assert not rig.controller.state.adjusting


def test_the_reader_keeps_only_what_reading_needs(rig: Rig) -> None:
    rig.controller.activate("section:calcifications/symptoms")
    assert targets(rig) == ["listen", "previous", "next", "repeat", "talk", "sections",
                            "adjust", "help", "home"]
    rig.controller.activate("sections")
    assert rig.controller.state.screen is Screen.TOPIC


def test_an_answer_offers_its_section_or_another_question(rig: Rig, library: Library) -> None:
    ctrl = rig.controller
    section = library.section("calcifications", "what-they-are")
    answer = section.sentences[1].text
    ctrl.handle(Intent(IntentName.ASK, answer=answer, topic="calcifications",
                       section="what-they-are", heard="what are calcifications"), "voice")
    state = ctrl.state
    assert (state.answer, state.asked) == (answer, "what are calcifications")
    assert targets(rig) == ["read_section", "ask_another", "listen", "home"]
    ctrl.key("where_am_i")
    assert rig.speaker.spoken[-1] == [library.text(
        "where.answer", section=section.title, topic=library.topic("calcifications").title)]
    ctrl.activate("read_section")
    state = ctrl.state
    assert (state.screen, state.section, state.answer, state.asked) == (
        Screen.READER, "what-they-are", None, None)
    assert rig.speaker.spoken[-1][-1] == section.sentences[-1].text  # the whole section
    ctrl.handle(Intent(IntentName.ASK, answer=answer, topic="calcifications",
                       section="what-they-are", heard="what are they"), "voice")
    ctrl.activate("ask_another")
    assert rig.listener.open


def test_one_primary_control_a_screen(rig: Rig) -> None:
    ctrl = rig.controller
    screens: list[Callable[[], None]] = [
        lambda: None,
        lambda: ctrl.activate("topic:calcifications"),
        lambda: ctrl.activate("section:calcifications/symptoms"),
        lambda: ctrl.handle(UiRequest(Action.ADJUST)),
        lambda: ctrl.handle(UiRequest(Action.ADJUST)),
        lambda: ctrl.key("help"),
    ]
    for show in screens:
        show()
        primaries = [item.target for item in ctrl.focus_items() if item.primary]
        assert len(primaries) == 1, (ctrl.state.screen, ctrl.state.adjusting, primaries)


def test_where_am_i_while_reading_goes_on_reading(rig: Rig, library: Library) -> None:
    ctrl, t = rig.controller, library.text
    section = library.section("calcifications", "symptoms")
    ctrl.activate("section:calcifications/symptoms")
    rig.speaker.hear_sentence(3)  # the title, then sentences 0, 1 and 2
    assert ctrl.state.sentence == 2
    ctrl.key("where_am_i")
    said = rig.speaker.spoken[-1]
    assert said[0].startswith(t("where.reader", topic="", number=0, count=0, section="")[:8])
    assert said[2:] == [s.text for s in section.sentences[2:]]  # then on from where it was
    rig.speaker.hear_sentence(2)  # after the two lines, the sentence it had reached
    assert ctrl.state.sentence == 2
    rig.speaker.hear_sentence(3)
    assert ctrl.state.sentence == 3
