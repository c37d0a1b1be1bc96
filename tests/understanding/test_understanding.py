"""Text -> intent: commands, names from content, questions answered from content, chatter."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.command_words import CommandsError, check_commands, load_commands
from kiosk.content_parser import load_library
from kiosk.intents import Action, IntentName
from kiosk.library import Library
from kiosk.understanding import Understanding, passage_text, standalone_passage
from kiosk.words import normalize
from tests.support.speech_fixtures import CHATTER, PHRASINGS


@pytest.fixture(scope="module")
def understanding(library: Library) -> Understanding:
    return Understanding(library)


def test_an_answer_stands_on_its_own(understanding: Understanding, library: Library) -> None:
    """Never a fragment: a list item comes with the sentence that introduces the list and the
    whole list; a frightening sentence with the reassurance its paragraph opens with."""
    causes = library.section("calcifications", "causes")
    items = [s.text for s in causes.sentences if s.is_list_item]
    injury = understanding.understand("can an injury to the breast cause calcifications")
    assert (injury.name, injury.section) == (IntentName.ASK, "causes")
    assert injury.answer is not None
    lines = injury.answer.split("\n")
    assert lines[0].startswith("Breast calcifications can form in several different ways.")
    assert lines[0].endswith("Calcification may also occur due to:")
    assert lines[1:] == items  # every item, each on a line of its own
    cancer = understanding.understand("are calcifications cancer")
    assert (cancer.name, cancer.section) == (IntentName.ASK, "benign-or-cancer")
    assert cancer.answer is not None
    assert cancer.answer.startswith("Most breast calcifications are noncancerous (benign).")


def test_no_passage_starts_mid_paragraph_or_ends_on_a_colon(library: Library) -> None:
    for section in library.sections():
        sentences = section.sentences
        for index in range(len(sentences)):
            chosen = standalone_passage(section, index)
            assert index in chosen
            first, last = sentences[chosen.start], sentences[chosen.stop - 1]
            assert not first.is_list_item or chosen.start == 0, (section.id, index)
            if chosen.start > 0 and not sentences[chosen.start - 1].is_list_item:
                assert sentences[chosen.start - 1].line != first.line, (section.id, index)
            assert not last.text.endswith(":"), (section.id, index)
            text = passage_text(section, chosen)
            assert text.count("\n") == sum(s.is_list_item for s in sentences[chosen.start:chosen.stop])


@pytest.mark.parametrize(("text", "expected"), [
    ("next", IntentName.NEXT),
    ("Next, please!", IntentName.NEXT),
    ("go back", IntentName.PREVIOUS),
    ("could you say that again", IntentName.REPEAT),
    ("pause", IntentName.PAUSE),
    ("carry on", IntentName.RESUME),
    ("start reading", IntentName.RESUME),  # not home, for its "start"
    ("please read it to me", IntentName.RESUME),
    ("stop talking please", IntentName.STOP),
    ("take me back to the start", IntentName.HOME),
    ("what can I say?", IntentName.HELP),
    ("slow down a bit", IntentName.SLOWER),
    ("speed up", IntentName.FASTER),
    ("can you speak up", IntentName.LOUDER),
    ("it's too loud", IntentName.QUIETER),
    ("okay that will do", IntentName.STOP),  # a phrasing of fillers alone
    ("what did it just say", IntentName.REPEAT),  # said word for word, a hesitation aside
    ("would you mind stopping please", IntentName.STOP),
])
def test_commands_in_everyday_phrasings(
    understanding: Understanding, text: str, expected: IntentName
) -> None:
    intent = understanding.understand(text)
    assert intent.name is expected, intent
    assert 0.6 <= intent.confidence <= 1.0


def test_topics_and_sections_by_title_and_alias(understanding: Understanding) -> None:
    topic = understanding.understand("tell me about second opinions")
    assert (topic.name, topic.topic) == (IntentName.TOPIC, "second-opinions")
    section = understanding.understand("I'd like to hear about insurance")
    assert (section.name, section.topic, section.section) == (
        IntentName.SECTION, "second-opinions", "insurance",
    )
    title = understanding.understand("the two main types")
    assert (title.name, title.section) == (IntentName.SECTION, "two-types")


def test_questions_are_answered_from_the_passage_that_answers_them(
    understanding: Understanding, library: Library
) -> None:
    micro = understanding.understand("What are microcalcifications?")
    assert (micro.name, micro.section) == (IntentName.ASK, "two-types")
    assert micro.answer is not None and micro.answer.startswith("Microcalcifications are small")
    insurance = understanding.understand("Will insurance pay for a second opinion?")
    assert (insurance.name, insurance.section) == (IntentName.ASK, "insurance")
    assert insurance.answer is not None
    assert insurance.answer in library.section("second-opinions", "insurance").text
    # A request for what the content tells is answered like a question; one word of a
    # statement is not enough.
    request = understanding.understand("tell me about menopause")
    assert (request.name, request.section) == (IntentName.ASK, "what-they-are")
    assert understanding.understand("hmm, let me think").name is IntentName.NONE


@pytest.mark.parametrize("text", [
    "is the bathroom next to the elevator", "what time does the cafeteria open",
    "my husband is parking the car", "the weather is lovely", "my back hurts",
    "who is next in line", "", "   ", "?!", "um", "have you got the time", "please don't stop",
])
def test_chatter_and_noise_are_none(understanding: Understanding, text: str) -> None:
    assert understanding.understand(text).name is IntentName.NONE


def test_vocabulary_comes_from_content(library: Library, tmp_path: Path) -> None:
    """A clinic adds a topic (and an alias to a section): understood with no code change."""
    tree = tmp_path / "en"
    shutil.copytree(library.root, tree)
    (tree / "topics" / "parking.md").write_text(
        '+++\nid = "parking"\ntitle = "Parking and transport"\norder = 3\n'
        'aliases = ["car park", "bus times"]\n+++\n\n'
        "## Where to park {#where}\n\nThe visitor car park is behind the clinic. "
        "Parking is free for the first two hours.\n",
        encoding="utf-8",
    )
    clinic = Understanding(load_library(tree))
    assert clinic.understand("tell me about the car park").topic == "parking"
    answer = clinic.understand("is parking free?")
    assert (answer.name, answer.topic) == (IntentName.ASK, "parking")
    # The bundled content knows nothing of parking.
    assert Understanding(library).understand("tell me about the car park").name is IntentName.NONE


def test_synonyms_negations_and_openings_come_from_content(
    library: Library, tmp_path: Path
) -> None:
    """commands.toml's word lists shape understanding; a clinic edits them without code."""
    bundled = Understanding(library)
    assert bundled.understand("a bit more sound please").name is IntentName.LOUDER
    assert bundled.understand("youre going too quick").name is IntentName.SLOWER
    assert bundled.understand("please don't stop reading").name is IntentName.NONE
    assert bundled.understand("no, stop").name is IntentName.STOP
    wondering = bundled.understand("I was wondering if calcifications are common")
    assert (wondering.name, wondering.section) == (IntentName.ASK, "what-they-are")
    request = bundled.understand("could you tell me about the insurance part")
    assert (request.name, request.section) == (IntentName.SECTION, "insurance")
    tree = tmp_path / "en"
    shutil.copytree(library.root, tree)
    path = tree / "commands.toml"
    text = path.read_text(encoding="utf-8")
    assert '"volume = sound", ' in text and 'negations = ["not", "never"]' in text
    path.write_text(
        text.replace('"volume = sound", ', "").replace('negations = ["not", "never"]', ""),
        encoding="utf-8",
    )
    edited = Understanding(load_library(tree))
    assert edited.understand("a bit more sound please").name is IntentName.NONE
    assert edited.understand("please don't stop reading").name is IntentName.STOP
    path.write_text(text.replace('"volume = sound"', '"volume = sound level"'), encoding="utf-8")
    assert [p.code for p in check_commands(tree)[1]] == ["bad-synonyms"]


def test_fillers_and_glue_alone_are_not_commands(understanding: Understanding) -> None:
    """ "what can I do" asks for help, but "what" alone or "go home after this" does not."""
    assert understanding.understand("what can I do").name is IntentName.HELP
    assert understanding.understand("wait, wait").name is IntentName.PAUSE
    for text in ("what", "so what", "let's go home after this"):
        assert understanding.understand(text).name is IntentName.NONE, text


@pytest.mark.parametrize(("text", "reply"), [
    ("yes", "yes"), ("um yes please", "yes"), ("That's right.", "yes"), ("yeah", "yes"),
    ("No, thank you.", "no"), ("nope", "no"), ("not that one", "no"), ("I didn't", "no"),
])
def test_yes_and_no_are_replies(understanding: Understanding, text: str, reply: str) -> None:
    """The answers to "Did you mean ...?": no intent of their own, a reply instead."""
    meant = understanding.understand(text)
    assert (meant.name, meant.reply) == (IntentName.NONE, reply)
    assert understanding.reply(text) == reply


def test_a_reply_word_inside_a_command_stays_a_command(understanding: Understanding) -> None:
    for text, name in (("no more", IntentName.STOP), ("yes next please", IntentName.NEXT),
                       ("right go back", IntentName.PREVIOUS)):
        meant = understanding.understand(text)
        assert (meant.name, meant.reply) == (name, None), text
    assert understanding.understand("yes I am here for my appointment").reply is None


def test_replies_come_from_commands_toml(library: Library, tmp_path: Path) -> None:
    tree = tmp_path / "en"
    shutil.copytree(library.root, tree)
    path = tree / "commands.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('"yeah", ', '"aye", '), encoding="utf-8")
    edited = Understanding(load_library(tree))
    assert (edited.reply("aye"), edited.reply("yeah")) == ("yes", None)
    path.write_text(text.replace("\nno = [", "\nnay = [", 1), encoding="utf-8")
    assert [p.code for p in check_commands(tree)[1]] == ["unknown-reply"]


@pytest.mark.parametrize(("text", "action"), [
    ("where am I", Action.WHERE_AM_I), ("Um, which section is this?", Action.WHERE_AM_I),
    ("where am I now please", Action.WHERE_AM_I), ("settings", Action.ADJUST),
    ("adjust please", Action.ADJUST), ("What page is this?", Action.WHERE_AM_I),
    ("where have I got to", Action.WHERE_AM_I), ("display settings", Action.ADJUST),
])
def test_the_kiosks_own_actions_are_asked_for_as_help(
    understanding: Understanding, text: str, action: Action
) -> None:
    """ "where am I" and "adjust" have no intent of their own (INTENTS.md is fixed): `help`,
    carrying the action; matched word for word, so a question keeps its meaning."""
    meant = understanding.understand(text)
    assert (meant.name, meant.action, meant.as_json_fields()["intent"]) == (
        IntentName.HELP, action, "help")
    for other in ("where is the toilet", "where am I supposed to go", "help"):
        assert understanding.understand(other).action is None, other


@pytest.mark.parametrize("text", [
    "what section am I on", "which page am I on?", "what screen is this", "what part am I on",
    "which section are we in", "um, what section are we on",
])
def test_where_am_i_said_with_other_small_words_is_still_where_am_i(
    understanding: Understanding, text: str
) -> None:
    """The [words] action_synonyms: "on" for "in", "which" for "what", "page", "part" or
    "screen" for "section", "we are" for "I am" (before, "what screen is this" went home)."""
    assert understanding.understand(text).action is Action.WHERE_AM_I, text


@pytest.mark.parametrize("text", [
    "what is on this page", "which page is best", "where is the toilet",
    "what part of the breast is this", "what section should I read",
])
def test_the_action_synonyms_do_not_make_other_sentences_actions(
    understanding: Understanding, text: str
) -> None:
    assert understanding.understand(text).action is None, text


def _edited_commands(library: Library, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the bundled content whose commands.toml has `old` (once) made `new`."""
    tree = tmp_path / "en"
    shutil.copytree(library.root, tree)
    path = tree / "commands.toml"
    path.write_text(path.read_text(encoding="utf-8").replace(old, new, 1), encoding="utf-8")
    return tree


def test_a_bad_action_synonym_is_reported(library: Library, tmp_path: Path) -> None:
    tree = _edited_commands(library, tmp_path, '"in = on, at"', '"in = on top of"')
    assert [p.code for p in check_commands(tree)[1]] == ["bad-action-synonyms"]


def test_an_unknown_action_in_commands_toml_is_reported(library: Library, tmp_path: Path) -> None:
    tree = _edited_commands(library, tmp_path, "\nadjust = [", "\nfly = [")
    assert [p.code for p in check_commands(tree)[1]] == ["unknown-action"]


def test_commands_file_problems_are_reported(library: Library, tmp_path: Path) -> None:
    tree = _edited_commands(library, tmp_path, "next = [", "nxet = [")
    path = tree / "commands.toml"
    result, problems = check_commands(tree)
    codes = {problem.code for problem in problems}
    assert result is None and {"unknown-command", "missing-command"} <= codes
    path.write_text("[commands\n", encoding="utf-8")
    with pytest.raises(CommandsError) as error:
        load_commands(tree)
    assert error.value.problems[0].code == "syntax"
    path.unlink()
    assert check_commands(tree)[1][0].code == "missing"


def test_fixture_phrasings_are_unseen(library: Library) -> None:
    """The measurement phrasings are not word for word what the understanding was written with."""
    commands = load_commands(library.root)
    written = {" ".join(normalize(p)) for p in commands.phrases()}
    for topic in library.topics:
        written.update(" ".join(normalize(a)) for a in topic.aliases)
        for section in topic.sections:
            written.update(" ".join(normalize(a)) for a in section.aliases)
    seen = [text for text, *_ in PHRASINGS if " ".join(normalize(text)) in written]
    seen += [text for text in CHATTER if " ".join(normalize(text)) in commands.background]
    assert seen == []


def test_normalize_spells_out_contractions_and_numbers() -> None:
    assert normalize("I can't hear you, it's 6 o’clock") == [
        "i", "can", "not", "hear", "you", "it", "is", "six", "o", "clock",
    ]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=200))
def test_random_text_always_gets_a_clean_answer(understanding: Understanding, text: str) -> None:
    intent = understanding.understand(text)
    assert intent.name in set(IntentName)
    assert 0.0 <= intent.confidence <= 1.0
    if intent.name is IntentName.ASK:
        assert intent.answer and intent.topic and intent.section


def test_kiosk_validate_checks_the_commands_file(library: Library, tmp_path: Path) -> None:
    from kiosk.content_parser import validate_tree

    tree = tmp_path / "en"
    shutil.copytree(library.root, tree)
    assert validate_tree(tree)[1] == []
    path = tree / "commands.toml"
    path.write_text(path.read_text().replace('carriers = [', 'carriers = ["no slot", ', 1),
                    encoding="utf-8")
    loaded, problems = validate_tree(tree)
    assert loaded is None
    assert [p.code for p in problems] == ["bad-carriers"]


@pytest.mark.parametrize("text", [
    "keep ahead",  # keep going or keep reading, skip ahead or go ahead: two commands as likely
    "how many keep are ahead about",  # scattered keywords among other words
    "is there what are stop please the you",  # one command word drowned in loose words
    "i need to stop up my parking",  # 'up' of 'shut up' explains 'stop' only in part
])
def test_misheard_talk_with_command_words_in_it_is_not_a_command(
    understanding: Understanding, text: str
) -> None:
    assert understanding.understand(text).name is IntentName.NONE


def test_a_command_with_loose_words_around_it_is_less_than_sure(
    understanding: Understanding,
) -> None:
    plain = understanding.understand("can you skip this please")
    assert plain.name is IntentName.NEXT and plain.confidence >= 0.99
    loose = understanding.understand("too to see you skip")
    assert loose.name is IntentName.NEXT and 0.6 <= loose.confidence < 0.99


def test_a_command_with_a_word_left_unexplained_is_not_sure(understanding: Understanding) -> None:
    # The recogniser accepts a fully explained utterance (>= 0.99) at a lower posterior.
    intent = understanding.understand("go back to the start of the chapter")
    assert intent.name is IntentName.HOME and intent.confidence < 0.99


def test_a_question_word_after_a_pronoun_does_not_make_a_question(
    understanding: Understanding,
) -> None:
    # "i am ..." is a statement: one content word of it is not answered...
    assert understanding.understand("i am here you can we my process").name is IntentName.NONE
    # ...while a hesitation before the question word is fine.
    assert understanding.understand("um so what does suspicious mean").name is IntentName.ASK


def test_an_answer_resting_on_one_word_is_less_sure_than_one_resting_on_several(
    understanding: Understanding,
) -> None:
    narrow = understanding.understand("what does suspicious mean")
    broad = understanding.understand("what is a full field digital mammogram")
    assert narrow.name is broad.name is IntentName.ASK
    assert narrow.confidence < 0.99 <= broad.confidence
