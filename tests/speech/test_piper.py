"""The natural voice on the real parts: piper-tts with the joe voice in its worker process, and
espeak-ng standing in when the voice is missing or corrupt."""

from __future__ import annotations

import logging
import os
import re
import shutil
import threading
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest

from benchmarks.memory import PIPER_TARGET_MB, memory_kb
from kiosk.config import Settings
from kiosk.library import Library
from kiosk.piper_worker import NICENESS, plan_pieces
from kiosk.speech.piper import (
    FallbackSynthesizer,
    PiperSynthesizer,
    estimate_marks,
    find_voice,
    length_scale,
)
from kiosk.speech.render import build_renderer
from kiosk.speech.synth import Rendering, SynthesisError

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’-]*")


def sentence(library: Library, index: int = 0) -> str:
    section = library.section("calcifications", "benign-or-cancer")
    return section.sentences[index].text


def audible(rendering: Rendering) -> bool:
    return rendering.duration_s > 0.5 and int(np.abs(rendering.pcm.astype(np.int32)).max()) > 3000


def test_a_content_sentence_renders_as_timed_speech(
    piper: PiperSynthesizer, library: Library
) -> None:
    text = sentence(library)
    rendering = piper.synthesize(text, 150, "")
    assert rendering.rate == 22_050
    assert audible(rendering)
    # About the asked-for rate (the calibration is an average over sentences).
    words = len(_WORD.findall(text))
    assert 0.6 * words / 150 * 60 < rendering.duration_s < 1.5 * words / 150 * 60
    # Estimated word marks: one per word, in order, starting with the speech, inside the audio.
    marked = [text[mark.start:mark.end] for mark in rendering.words]
    assert marked == _WORD.findall(text)
    samples = [mark.sample for mark in rendering.words]
    assert samples == sorted(samples) and samples[-1] < len(rendering.pcm)
    assert samples[0] < 0.05 * rendering.rate  # the trimmed audio starts with the first word
    assert samples[-1] > 0.6 * len(rendering.pcm)  # and the last word is heard near the end


def test_a_text_sounds_the_same_every_time(piper: PiperSynthesizer, library: Library) -> None:
    """Piper's sampling noise is off (kiosk.piper_worker.NOISE_SCALE): what the cache holds, what
    is rendered live and what the intelligibility benchmark measured are the same sound."""
    text = sentence(library, 2)
    first, again = piper.synthesize(text, 150, ""), piper.synthesize(text, 150, "")
    assert audible(first)
    assert np.array_equal(first.pcm, again.pcm)
    assert "noise0" in piper.ident  # a new cache key: no rendering made with the noise is kept


def test_the_rate_setting_changes_the_duration(piper: PiperSynthesizer, library: Library) -> None:
    text = sentence(library, 1)
    slow = piper.synthesize(text, 100, "")
    fast = piper.synthesize(text, 220, "")
    assert audible(slow) and audible(fast)
    # 2.2 times the rate: well under two thirds of the time, and not absurdly less.
    assert 0.3 < fast.duration_s / slow.duration_s < 0.65
    assert length_scale(100) > length_scale(150) > length_scale(220)
    assert length_scale(173) == pytest.approx(1.0, abs=0.05)  # the joe voice's own pace


def test_the_worker_runs_below_the_kiosk_s_own_priority(piper: PiperSynthesizer) -> None:
    piper.warm_up()
    worker = piper._process
    assert worker is not None
    assert os.getpriority(os.PRIO_PROCESS, worker.pid) == os.getpriority(os.PRIO_PROCESS, 0) + NICENESS


def test_a_worker_killed_mid_sentence_costs_at_most_that_sentence(
    piper: PiperSynthesizer, library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    piper.warm_up()
    victim = piper._process
    assert victim is not None
    sent = threading.Event()
    send = piper._worker.send

    def send_and_tell(request: Mapping[str, Any]) -> None:
        send(request)
        sent.set()

    outcome: list[Rendering | SynthesisError] = []

    def speak() -> None:
        try:
            outcome.append(piper.synthesize(" ".join([sentence(library, 2)] * 3), 150, ""))
        except SynthesisError as error:
            outcome.append(error)

    caplog.set_level(logging.WARNING, logger="kiosk.speech.piper")
    with patch.object(piper._worker, "send", send_and_tell):
        worker = threading.Thread(target=speak)
        worker.start()
        assert sent.wait(30)
        victim.kill()  # as the out-of-memory killer would, mid-synthesis
        worker.join(120)
    assert len(outcome) == 1
    assert isinstance(outcome[0], SynthesisError) or audible(outcome[0])
    assert "natural voice process ended" in caplog.text
    after = piper.synthesize(sentence(library, 1), 150, "")
    assert audible(after)
    assert piper._process is not None and piper._process.pid != victim.pid


def test_the_worker_stays_within_its_memory_target_on_the_longest_sentence(
    tmp_path: Path, library: Library
) -> None:
    # A fresh worker, so its peak covers loading the model too. The decoder's scratch memory
    # grows with the audio one run makes: whole, this sentence peaked at 420-520 MB.
    longest = max((s.text for topic in library.topics for section in topic.sections
                   for s in section.sentences), key=len)
    settings = Settings()
    synth = PiperSynthesizer(tmp_path, find_voice(""))
    try:
        renderings = [synth.synthesize(longest, settings.rate_wpm, "")]
        # The slowest rate a visitor can choose makes the most audio; twice, as a sentence
        # rendered again once took 80 MB more than the first time (onnxruntime's patterns).
        renderings += [synth.synthesize(longest, settings.rate_min_wpm, "") for _ in range(2)]
        assert synth._process is not None
        figures = memory_kb(synth._process.pid)
        assert figures is not None, "the worker ended"
        peak = figures[1] / 1024  # VmHWM: the most it has held
    finally:
        synth.close()
    assert peak <= PIPER_TARGET_MB, f"worker peaked at {peak:.0f} MB"
    for rendering in renderings:
        assert audible(rendering)
        # Rendered in pieces and joined with a clause's pause: no silence longer than that.
        quiet = np.abs(rendering.pcm.astype(np.int32)) <= 64
        edges = np.flatnonzero(np.diff(np.concatenate(([0], quiet.astype(np.int8), [0]))))
        assert (edges[1::2] - edges[::2]).max() < 0.6 * rendering.rate


def test_long_sentences_are_cut_after_clauses_and_never_inside_raw_phonemes() -> None:
    phonemes = list("ɪf juː ɡɛt ɐ baɪʲˈɑːpsi, juː kæn sˈiːk ɐ sˈɛkənd əpˈɪniən; "
                    "ðə dˈɑːktɚ wɪl lˈʊk æt ðə ɹɪzˈʌlts ænd ðə fˈɪlmz ɔːɹ ðə ɹᵻpˈɔːɹts.")

    def pieces(phonemes: list[str], limit: int, keep: list[tuple[int, int]] | None = None
               ) -> list[tuple[str, bool]]:
        return [("".join(phonemes[a:b]), clause)
                for a, b, clause in plan_pieces(phonemes, limit, keep or [])]

    assert pieces(phonemes, 200) == [("".join(phonemes), False)]
    # Whole clauses while they fit; a clause too long alone is cut between words, before an
    # unstressed word ("and") rather than inside a phrase.
    assert pieces(phonemes, 60) == [
        ("ɪf juː ɡɛt ɐ baɪʲˈɑːpsi, juː kæn sˈiːk ɐ sˈɛkənd əpˈɪniən;", True),
        ("ðə dˈɑːktɚ wɪl lˈʊk æt ðə ɹɪzˈʌlts", False),
        ("ænd ðə fˈɪlmz ɔːɹ ðə ɹᵻpˈɔːɹts.", False),
    ]
    # A [[ phonemes ]] block is one piece of sound even with a comma in it.
    raw = list("həlˈoʊ, wˈɜːld")
    greeting = list("sˈeɪ ") + raw + list(", ðˈɛn stˈɑːp.")
    assert pieces(greeting, 12) == [("sˈeɪ həlˈoʊ,", True), ("wˈɜːld,", True),
                                    ("ðˈɛn stˈɑːp.", False)]
    assert pieces(greeting, 12, [(5, 5 + len(raw))]) == [
        ("sˈeɪ", False), ("həlˈoʊ, wˈɜːld,", True), ("ðˈɛn stˈɑːp.", False)]


def test_estimated_marks_share_the_audible_span_by_weight() -> None:
    pcm = np.zeros(1_000, dtype=np.int16)
    pcm[100:901] = 5_000
    # "ab, c": a word, a pause token with no letters, a word; weights in phonemes.
    marks = estimate_marks([[0, 2, 4], [3, 3, 4], [4, 5, 2]], pcm)
    assert [(m.start, m.end, m.sample) for m in marks] == [(0, 2, 100), (4, 5, 100 + 800 * 8 // 10)]
    assert estimate_marks([[0, 2, 4]], np.zeros(50, dtype=np.int16)) == ()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return replace(Settings(), cache_dir=tmp_path / "cache")


def render_with(settings: Settings, library: Library, texts: list[str]) -> tuple[str, list[Rendering]]:
    renderer = build_renderer(settings, library)
    try:
        renderings = [renderer.render(text, 150) for text in texts]
        return renderer.synthesizer.ident, renderings  # the engine that spoke, not the wanted
    finally:
        renderer.close()


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_voice_falls_back_to_espeak_said_once(
    damage: str, settings: Settings, library: Library, tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = tmp_path / "voices" / "clinic.onnx"
    if damage == "corrupt":
        model.parent.mkdir()
        joe = find_voice("")
        model.write_bytes(joe.model.read_bytes()[:200_000])  # cut short, as a failed copy is
        shutil.copy(joe.config, model.with_name("clinic.onnx.json"))
    caplog.set_level(logging.WARNING, logger="kiosk.speech.piper")
    ident, renderings = render_with(
        replace(settings, piper_voice=str(model)), library,
        [library.text("button.help"), sentence(library)],
    )
    assert ident.startswith("pyttsx3-")
    assert all(audible(r) for r in renderings)
    fallbacks = [r.getMessage() for r in caplog.records if "espeak-ng instead" in r.getMessage()]
    assert len(fallbacks) == 1, fallbacks
    reason = "no Piper voice model at" if damage == "missing" else "did not start"
    assert reason in fallbacks[0] and str(model) in fallbacks[0]


def test_cache_keys_differ_per_engine(settings: Settings, library: Library) -> None:
    text = library.text("button.help")
    piper_renderer = build_renderer(settings, library)
    espeak_renderer = build_renderer(replace(settings, synthesizer="pyttsx3"), library)
    stand_in = build_renderer(replace(settings, piper_voice="/nowhere/voice.onnx"), library)
    try:
        assert isinstance(piper_renderer.synthesizer, FallbackSynthesizer)
        assert piper_renderer.synthesizer.ident.startswith("piper-")
        assert piper_renderer.key(text, 150) != espeak_renderer.key(text, 150)
        # espeak-ng standing in for Piper files its audio as espeak-ng's, never as Piper's.
        assert stand_in.key(text, 150) == espeak_renderer.key(text, 150)
        natural = piper_renderer.render(text, 150)
        assert piper_renderer.cached(text, 150) is not None
        assert espeak_renderer.cached(text, 150) is None
        espeak = espeak_renderer.render(text, 150)
        assert natural.duration_s != espeak.duration_s
    finally:
        for renderer in (piper_renderer, espeak_renderer, stand_in):
            renderer.close()
