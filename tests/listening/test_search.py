"""The recogniser's search: built from content, complete, and validated before the decoder."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.command_words import load_commands
from kiosk.library import Library
from kiosk.listening.audio import AudioError, read_wav, resample, write_wav
from kiosk.listening.decoder import DecoderError, SpeechDecoder
from kiosk.listening.language_model import build_arpa
from kiosk.listening.lexicon import pronunciations
from kiosk.listening.search import (
    SPOKEN_CONTRACTIONS,
    SearchError,
    collect_phrases,
    contracted,
    jsgf_grammar,
    language_model,
    validate_grammar,
)
from kiosk.words import normalize


def _arpa_probability(
    arpa: str,
) -> tuple[Callable[[str, tuple[str, ...]], float], list[str]]:
    probs: dict[tuple[str, ...], float] = {}
    backoffs: dict[tuple[str, ...], float] = {}
    order = 0
    for line in arpa.splitlines():
        header = re.match(r"\\(\d)-grams:", line)
        if header:
            order = int(header.group(1))
            continue
        parts = line.split("\t")
        if order and len(parts) >= 2:
            gram = tuple(parts[1].split())
            probs[gram] = 10 ** float(parts[0])
            if len(parts) == 3:
                backoffs[gram] = 10 ** float(parts[2])

    def p(word: str, history: tuple[str, ...]) -> float:
        if (*history, word) in probs:
            return probs[(*history, word)]
        if not history:
            return 0.0
        return backoffs.get(history, 1.0) * p(word, history[1:])

    vocabulary = [gram[0] for gram in probs if len(gram) == 1]
    return p, vocabulary


def test_language_model_is_a_proper_distribution() -> None:
    arpa = build_arpa([(("go", "back"), 2.0), (("go", "on"), 1.0), (("back", "please"), 1.0)])
    p, vocabulary = _arpa_probability(arpa)
    for history in [("<s>",), ("go",), ("<s>", "go"), ("please",), ("back", "please")]:
        assert math.isclose(sum(p(w, history) for w in vocabulary), 1.0, rel_tol=1e-3)
    # Seen continuations are likelier than unseen ones, and unseen ones stay possible.
    assert p("back", ("<s>", "go")) > p("please", ("<s>", "go")) > 0


def test_every_word_the_search_uses_has_a_pronunciation(library: Library) -> None:
    """Domain words missing from CMUdict must be in content/en/lexicon.toml."""
    phrases = collect_phrases(library, load_commands(library.root))
    known = pronunciations(phrases.words(), library)
    assert sorted(phrases.words() - set(known)) == []
    assert known["microcalcifications"][0].startswith("M AY K R OW")


def test_spoken_contractions_are_listened_for_and_spelled_out_again(library: Library) -> None:
    """"I didn't catch that" is heard as said, and understood as "i did not catch that"."""
    assert contracted(("i", "did", "not", "catch", "that")) == ("i", "didn't", "catch", "that")
    assert contracted(("where", "is", "it", "i", "do", "not", "know")) == (
        "where's", "it", "i", "don't", "know",
    )
    assert contracted(("go", "back")) == ("go", "back")
    for full, spoken in SPOKEN_CONTRACTIONS.items():
        assert normalize(spoken) == list(full), spoken
    phrases = collect_phrases(library, load_commands(library.root))
    commands = {" ".join(p) for p in phrases.commands}
    assert {"i did not catch that", "i didn't catch that"} <= commands
    assert "let's {}" in phrases.wrappers and "let us {}" in phrases.wrappers
    arpa = language_model(phrases)
    assert re.search(r"\tdidn't\t", arpa) and re.search(r"\tlet's\t", arpa)


def test_the_kiosks_own_actions_are_heard_at_a_weight_of_their_own(library: Library) -> None:
    """Every [actions] phrasing is in the language model, but in its own group: as commands,
    their many phrasings (and each inside "please ...") crowded out the short commands."""
    commands = load_commands(library.root)
    phrases = collect_phrases(library, commands)
    said = {tuple(p.split()) for phrasings in commands.actions.values() for p in phrasings}
    assert said and said <= set(phrases.actions)
    assert not said & set(phrases.commands)
    arpa = language_model(phrases)
    assert re.search(r"^\S+\twhere am i(\t|$)", arpa, re.MULTILINE)
    assert not re.search(r"^\S+\tplease where am(\t|$)", arpa, re.MULTILINE)


def test_grammar_is_validated_before_the_decoder_sees_it(library: Library) -> None:
    phrases = collect_phrases(library, load_commands(library.root))
    known = pronunciations(phrases.words(), library)
    grammar = jsgf_grammar(phrases)
    validate_grammar(grammar, known)  # the generated grammar passes
    bad = [
        grammar.replace("public <utterance>", "<utterance>"),
        grammar.replace("<command> = ", "<command> = zzyzxq | ", 1),
        grammar.replace("<name> = ", "<name> = a (b | ", 1),
        grammar.replace(";", "", 1),
        grammar + "<dangling> = <nowhere>;\n",
        "garbage",
    ]
    for text in bad:
        with pytest.raises(SearchError):
            validate_grammar(text, known)


def test_unknown_search_is_a_clear_error(library: Library) -> None:
    with pytest.raises(DecoderError, match="unknown search"):
        SpeechDecoder(library, search="telepathy")


def test_resample_keeps_a_tone_and_drops_what_cannot_be_kept() -> None:
    rate = 44_100
    t = np.arange(rate) / rate
    tone = 10_000 * np.sin(2 * np.pi * 1000 * t) + 10_000 * np.sin(2 * np.pi * 12_000 * t)
    out = resample(tone, rate)
    spectrum = np.abs(np.fft.rfft(out))
    freqs = np.fft.rfftfreq(out.size, 1 / 16_000)
    assert out.size == 16_000
    assert abs(freqs[spectrum.argmax()] - 1000) < 2
    # 12 kHz is above the new Nyquist frequency: it must not fold back to 4 kHz.
    assert spectrum[np.abs(freqs - 4000) < 20].max() < 0.01 * spectrum.max()


def test_read_wav_takes_any_rate_and_channels() -> None:
    stereo = np.zeros((22_050, 2), dtype=np.int16)
    stereo[:, 0] = 1000
    import io
    import wave

    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(22_050)
        wav.writeframes(stereo.tobytes())
    samples = read_wav(buffer.getvalue())
    assert samples.dtype == np.int16 and abs(samples.size - 16_000) <= 1
    assert abs(int(np.median(samples)) - 500) <= 2
    assert read_wav(write_wav(samples)).size == samples.size


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_an_audio_error_not_a_crash(data: bytes) -> None:
    try:
        samples = read_wav(data)
    except AudioError as error:
        assert str(error)
    else:
        assert samples.dtype == np.int16
