"""The lexicon in both voices: Piper reads a word's `ipa` as a [[ipa|word]] block, the words
around it phonemized in their sentence, espeak-ng its `say` respelling, and a Piper that fails
mid-call has the text said again with the respellings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.library import LexiconEntry, Library
from kiosk.piper_phonemes import BLOCK, ContextPhonemizer, plain_text
from kiosk.piper_worker import _load, _render, firm_onset
from kiosk.speech.lexicon import lexicon_digest, respell
from kiosk.speech.piper import PiperSynthesizer, find_voice
from kiosk.speech.render import Renderer
from kiosk.speech.synth import Rendering
from tests.speech.fakes import FakeSynthesizer

#: Far longer than the word: a rendering that follows it is clearly longer.
LONG_IPA = "hˈɛloʊ ðˈɛɹ mˌaɪ ɡˈʊd ˈoʊld fɹˈɛnd hˌaʊ ˈɑːɹ juː tədˈeɪ"


def lexicon(**entries: tuple[str | None, str | None]) -> dict[str, LexiconEntry]:
    return {word: LexiconEntry(word, say, None, 1, ipa) for word, (say, ipa) in entries.items()}


def test_respell_gives_phonemes_only_to_a_voice_that_reads_them() -> None:
    words = lexicon(benign=("be-nine", "bɪnˈaɪn"), biopsied=(None, "bˈaɪɑːpsiːd"),
                    fibroadenoma=("fie-broh-adenoma", None))
    text = "Benign findings are rarely biopsied; a fibroadenoma is one."
    plain = respell(text, words)
    assert plain.spoken == "be-nine findings are rarely biopsied; a fie-broh-adenoma is one."
    spoken = respell(text, words, phonemes=True)
    assert spoken.spoken == ("[[bɪnˈaɪn|Benign]] findings are rarely [[bˈaɪɑːpsiːd|biopsied]]; "
                             "a fie-broh-adenoma is one.")
    # The highlight still lands on the written words.
    start = spoken.spoken.index("[[bˈaɪ")
    assert spoken.to_original(start, start + len("[[bˈaɪɑːpsiːd|biopsied]]")) == (
        text.index("biopsied"), text.index("biopsied") + len("biopsied"))
    # A changed pronunciation is a new cache key.
    assert lexicon_digest(words) != lexicon_digest(lexicon(benign=("be-nine", "bɪnˈaɪm")))


class _FailsOverDuringTheCall(FakeSynthesizer):
    """Reads phonemes until its first request, which it answers as espeak-ng would."""

    def __init__(self) -> None:
        super().__init__()
        self.reads_phonemes = True

    def synthesize(self, text: str, rate_wpm: int, voice: str) -> Rendering:
        self.reads_phonemes = False
        return super().synthesize(text, rate_wpm, voice)


def test_a_voice_that_falls_back_mid_call_gets_the_respelling() -> None:
    synth = _FailsOverDuringTheCall()
    words = lexicon(benign=("be-nine", "bɪnˈaɪn"))
    renderer = Renderer(synth, None, words, "")
    renderer.render("Benign.", 150)
    assert [text for text, _, _ in synth.requests] == ["[[bɪnˈaɪn|Benign]].", "be-nine."]


def test_piper_says_what_the_ipa_says(piper: PiperSynthesizer) -> None:
    plain = Renderer(piper, None, {}, "").render("Hello.", 150)
    respoken = Renderer(piper, None, lexicon(hello=(None, LONG_IPA)), "").render("Hello.", 150)
    # Thirteen words' phonemes take far longer than one word's.
    assert respoken.duration_s > 3 * plain.duration_s
    # The word keeps its highlight: one mark, on "Hello".
    assert [(mark.start, mark.end) for mark in respoken.words] == [(0, 5)]


class _Recording:
    """The worker's voice, noting the phonemes each run of the model is given."""

    def __init__(self, voice: Any) -> None:
        self.voice = voice
        self.heard: list[str] = []

    def phonemes_to_ids(self, phonemes: list[str]) -> Any:
        self.heard.append("".join(phonemes))
        return self.voice.phonemes_to_ids(phonemes)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.voice, name)


@pytest.fixture(scope="module")
def worker_voice() -> Iterator[_Recording]:
    """The voice as the worker loads it, in this process (the model is run, not just read)."""
    files = find_voice("")
    yield _Recording(_load(str(files.model), str(files.config)))


def model_input(voice: _Recording, text: str) -> str:
    """What the worker gives the model for `text`, its pieces joined."""
    voice.heard.clear()
    _render(voice, ContextPhonemizer(voice), text, 1.0)
    return " ".join(voice.heard)


def piper_own(voice: _Recording, text: str) -> str:
    """How piper-tts itself phonemizes `text` (its [[ ]] blocks without our words)."""
    bare = BLOCK.sub(lambda match: "[[" + match.group(1).rpartition("|")[0] + "]]", text)
    return " ".join("".join(sentence) for sentence in voice.voice.phonemize(bare))


#: Phonemes the development sentences were tried with (docs/speech.md).
NONCANCEROUS, BIOPSIED = "nˌɑːnkˈænsɚɹəs", "bˈaɪɑːpsiːd"


@pytest.mark.parametrize(("text", "word", "ipa"), [
    ("Most are a noncancerous finding.", "noncancerous", NONCANCEROUS),
    ("Such calcifications should be biopsied to be sure.", "biopsied", BIOPSIED),
    ("Noncancerous or a sign of cancer", "noncancerous", NONCANCEROUS),
])
def test_the_words_around_a_phoneme_block_are_said_as_in_the_sentence(
    worker_voice: _Recording, text: str, word: str, ipa: str
) -> None:
    """piper-tts phonemizes the text before a block on its own, as if it ended a sentence ("a"
    became the letter "ˈeɪ", "be" a stressed "bˈiː"); the worker phonemizes the whole sentence
    with the word in place and puts the block's phonemes in the word's place."""
    spoken = respell(text, lexicon(**{word: (None, ipa)}), phonemes=True).spoken
    plain = " ".join("".join(s) for s in worker_voice.voice.phonemize(text))
    alone = "".join("".join(s) for s in worker_voice.voice.phonemize(word))
    assert alone in plain and ipa not in plain
    heard = model_input(worker_voice, spoken)
    # Exactly the sentence's own phonemes, with the block's phonemes for the word's.
    assert heard == plain.replace(alone, ipa)
    if f" a {word}" in text:
        assert " ɐ " + ipa in heard and "ˈeɪ" in piper_own(worker_voice, spoken)
    if f" be {word}" in text:
        assert " biː " + ipa in heard and "bˈiː " + ipa in piper_own(worker_voice, spoken)


def test_blocks_find_their_own_word_in_order(worker_voice: _Recording) -> None:
    """Each block takes the place of its own word: the same word written before it, or said
    inside a longer word, is not taken for it; a bare Piper block gets a stand-in word."""
    phonemizer = ContextPhonemizer(worker_voice)
    text = ("Microcalcifications, calcifications and [[X1|calcifications]]: "
            "a [[X2|calcifications]] and the [[ˈæ]] or [[Y]].")
    plain, blocks = plain_text(text)
    assert plain == ("Microcalcifications, calcifications and calcifications: "
                     "a calcifications and the item or thing.")
    assert [(word, before) for _, word, before in blocks] == [
        ("calcifications", 1), ("calcifications", 2), ("item", 0), ("thing", 0)]
    [sentence] = phonemizer.sentences(text)
    said = "".join(sentence.phonemes)
    swapped = ["".join(sentence.phonemes[a:b]) for a, b in sentence.blocks]
    assert swapped == ["X1", "X2", "ˈæ", "Y"]
    assert said.startswith("mˌaɪkɹoʊkˌælsɪfɪkˈeɪʃənz, kˌælsɪfɪkˈeɪʃənz ænd X1: ɐ X2 ænd ðɪʲ ˈæ")


def test_every_block_of_the_bundled_content_finds_its_word(
    worker_voice: _Recording, library: Library
) -> None:
    """No lexicon word of the content falls back to espeak-ng's own phonemes, and none of a
    block's bar or written word reaches the model."""
    from benchmarks.intelligibility import content_texts

    phonemizer = ContextPhonemizer(worker_voice)
    blocks = 0
    for text in content_texts(library):
        spoken = respell(text, library.lexicon, phonemes=True).spoken
        sentences = phonemizer.sentences(spoken)
        assert sum(len(s.blocks) for s in sentences) == len(BLOCK.findall(spoken)), text
        assert not any("|" in s.phonemes for s in sentences)
        blocks += len(BLOCK.findall(spoken))
    assert blocks > 0


def test_the_bundled_lexicon_keeps_macro_apart_from_micro(
    worker_voice: _Recording, library: Library
) -> None:
    """Piper's own phonemizer reduces macro- to "mˈækɹə", a vowel away from "micro"; the
    lexicon gives it a full "oʊ"."""
    text = "Macrocalcifications and microcalcifications differ."
    phonemizer = ContextPhonemizer(worker_voice)

    def heard(spoken: str) -> str:
        return "".join("".join(s.phonemes) for s in phonemizer.sentences(spoken))

    assert "mˌækɹək" in heard(text)
    said = heard(respell(text, library.lexicon, phonemes=True).spoken)
    assert "mˌækɹoʊk" in said and "mˌaɪkɹoʊk" in said


def test_espeak_gets_a_pause_before_a_number_and_piper_does_not() -> None:
    """espeak-ng ran a number into the word before it ("every 6" heard as "never exists", "to
    12" as "turt-well"): it gets a comma after that word; the highlight stays on the text."""
    text = "Repeating mammograms every 6 to 12 months; come back in 6 months, or 3."
    spoken = respell(text, {})
    assert spoken.spoken == ("Repeating mammograms every, 6 to, 12 months; come back in, 6 months,"
                             " or, 3.")
    every = spoken.spoken.index("every,")
    assert text[slice(*spoken.to_original(every, every + len("every,")))] == "every"
    months = spoken.spoken.rindex("months")
    assert text[slice(*spoken.to_original(months, months + 6))] == "months"
    # A respelled word before a number keeps its respelling, and the pause.
    assert respell("every 6", lexicon(every=("evry", None))).spoken == "evry, 6"
    # Piper says numbers clearly as written.
    assert respell(text, {}, phonemes=True).spoken == text


def test_a_new_way_of_respelling_is_a_new_cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    import kiosk.speech.lexicon as module

    before = lexicon_digest({})
    monkeypatch.setattr(module, "RESPELLING", module.RESPELLING + "-next")
    assert lexicon_digest({}) != before


def test_the_bundled_lexicon_says_the_negation_in_full_with_either_apostrophe(
    library: Library
) -> None:
    """espeak-ng's "aren't usually" was heard as "on to usually": both voices say "are not"."""
    text = "Calcifications that appear benign aren’t usually biopsied."
    said = "Calcifications that appear benign are not usually biopsied."
    assert respell(text, library.lexicon).spoken == said
    assert respell(text.replace("’", "'"), library.lexicon).spoken == said
    assert " are not usually [[" in respell(text, library.lexicon, phonemes=True).spoken


@pytest.mark.parametrize(("text", "without", "with_lexicon"), [
    # "Benign" opening a line was heard as "The nine": a schwa, stress on the second syllable.
    ("Benign or a sign of cancer", "bᵻnˈaɪn ɔːɹ", "bəˈnaɪn ɔːɹ"),
    ("benign", "bᵻnˈaɪn", "bəˈnaɪn"),
    # "a noncancerous change" opening a line was heard as "And not cancers": "non" stressed,
    # and a word break after it.
    ("a noncancerous change in your breast", "ɐ nˌɑːŋkˈænsɚɹəs", "ɐ nˈɑːn kˈænsɚɹəs"),
    # "fibroadenoma" was heard "fibro-weddingoma": a word break after "fibro".
    ("such as a fibroadenoma or breast cyst", "ɐ fˌɪbɹədənˈoʊmə", "ɐ fˌaɪbɹoʊ ˌædɪnˈoʊmə"),
    # Said in full: "are not".
    ("Calcifications that appear benign aren’t usually biopsied.", "ˌɑːɹnt jˈuːʒuːəli",
     "ɑːɹ nˌɑːt jˈuːʒuːəli"),
])
def test_the_bundled_lexicon_changes_what_piper_says(
    worker_voice: _Recording, library: Library, text: str, without: str, with_lexicon: str
) -> None:
    """What the model is given for the bundled entries, against the same text without them."""
    plain = model_input(worker_voice, text)
    spoken = model_input(worker_voice, respell(text, library.lexicon, phonemes=True).spoken)
    assert without in plain and with_lexicon not in plain
    assert with_lexicon in spoken and without not in spoken


def test_espeak_says_the_pauses_and_the_negation_in_its_audio(
    tmp_path_factory: pytest.TempPathFactory, library: Library
) -> None:
    """The real espeak-ng: each pause before a number lengthens the audio (about 0.29 s at 150
    wpm here), and the lexicon's "are not" is what it reads."""
    from kiosk.speech.synth import Pyttsx3Synthesizer

    espeak = Pyttsx3Synthesizer(tmp_path_factory.mktemp("espeak-scratch"))
    try:
        text = "Every 6 to 12 months."
        as_written = espeak.synthesize(text, 150, "").duration_s
        rendered = Renderer(espeak, None, library.lexicon, "").render(text, 150)
        assert rendered.duration_s > as_written + 2 * 0.15
        negation = "They aren’t usually biopsied."
        full = espeak.synthesize("They are not usually biopsied.", 150, "")
        said = Renderer(espeak, None, library.lexicon, "").render(negation, 150)
        assert abs(said.duration_s - full.duration_s) < 0.005
        # Both words of "are not" light up the written "aren’t".
        assert [negation[w.start:w.end] for w in said.words][:4] == [
            "They", "aren’t", "aren’t", "usually"]
    finally:
        espeak.close()


def test_a_voiced_stop_opening_a_run_is_given_twice() -> None:
    # "Before", "Benign": the joe voice otherwise starts them with a voiced ramp heard as "The".
    assert firm_onset(list("bᵻnˈaɪn")) == list("bbᵻnˈaɪn")
    assert firm_onset(list("ˈdɪfɹənsᵻz")) == list("ˈddɪfɹənsᵻz")
    assert firm_onset([" ", *"ɡˈɛɾɪŋ"]) == [" ", *"ɡɡˈɛɾɪŋ"]
    # Only a run's first sound, and only voiced stops.
    assert firm_onset(list("pɹˈɑːbəbli bᵻnˈaɪn")) == list("pɹˈɑːbəbli bᵻnˈaɪn")
    assert firm_onset([]) == []
