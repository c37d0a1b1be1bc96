"""The lexicon in both voices: Piper reads a word's `ipa` as a [[ipa|word]] block, the words
around it phonemized in their sentence, espeak-ng its `say` respelling, and a Piper that fails
mid-call has the text said again with the respellings."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.library import LexiconEntry, Library
from kiosk.piper_phonemes import BLOCK, ContextPhonemizer, plain_text
from kiosk.piper_worker import _load, _render
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
