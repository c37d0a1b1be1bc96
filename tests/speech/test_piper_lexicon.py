"""The lexicon in both voices: Piper reads a word's `ipa` as a [[ ]] block, espeak-ng its `say`
respelling, and a Piper that fails mid-call has the text said again with the respellings."""

from __future__ import annotations

from kiosk.library import LexiconEntry, Library
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
    assert spoken.spoken == (
        "[[bɪnˈaɪn]] findings are rarely [[bˈaɪɑːpsiːd]]; a fie-broh-adenoma is one.")
    # The highlight still lands on the written words.
    start = spoken.spoken.index("[[bˈaɪ")
    assert spoken.to_original(start, start + len("[[bˈaɪɑːpsiːd]]")) == (
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
    assert [text for text, _, _ in synth.requests] == ["[[bɪnˈaɪn]].", "be-nine."]


def test_piper_says_what_the_ipa_says(piper: PiperSynthesizer) -> None:
    plain = Renderer(piper, None, {}, "").render("Hello.", 150)
    respoken = Renderer(piper, None, lexicon(hello=(None, LONG_IPA)), "").render("Hello.", 150)
    # Thirteen words' phonemes take far longer than one word's.
    assert respoken.duration_s > 3 * plain.duration_s
    # The word keeps its highlight: one mark, on "Hello".
    assert [(mark.start, mark.end) for mark in respoken.words] == [(0, 5)]


def test_the_bundled_lexicon_keeps_macro_apart_from_micro(library: Library) -> None:
    """Piper's own phonemizer reduces macro- to "mˈækɹə", a vowel away from "micro"; the
    lexicon gives it a full "oʊ"."""
    from piper import PiperVoice  # the phonemizer alone, without the model's session

    voice_files = find_voice("")
    voice = PiperVoice.load(str(voice_files.model), config_path=str(voice_files.config))
    text = "Macrocalcifications and microcalcifications differ."

    def heard(spoken: str) -> str:
        return "".join("".join(sentence) for sentence in voice.phonemize(spoken))

    assert "mˌækɹək" in heard(text)
    said = heard(respell(text, library.lexicon, phonemes=True).spoken)
    assert "mˌækɹoʊk" in said and "mˌaɪkɹoʊk" in said
