"""The audio cache, the lexicon respelling and the renderer that joins them (fake synthesiser)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TypedDict

import numpy as np
import pytest

from kiosk.library import LexiconEntry, Library
from kiosk.speech.cache import AudioCache, cache_key, decode, encode
from kiosk.speech.lexicon import respell
from kiosk.speech.render import Renderer, library_texts
from kiosk.speech.synth import LEAD_IN_S, Rendering, WordMark, _complete, trim
from tests.speech.fakes import FakeSynthesizer, fake_rendering


def entry(word: str, say: str) -> LexiconEntry:
    return LexiconEntry(word, say, None, 1)


def test_entries_round_trip() -> None:
    rendering = fake_rendering("Calcium deposits in the breast.")
    again = decode(encode(rendering))
    assert again.rate == rendering.rate
    assert np.array_equal(again.pcm, rendering.pcm)
    assert again.words == rendering.words


class KeyInputs(TypedDict):
    """cache_key's arguments."""

    text: str
    voice: str
    rate_wpm: int
    lexicon: str
    synthesizer: str


def test_key_changes_with_every_input() -> None:
    base: KeyInputs = {
        "text": "Hello.", "voice": "", "rate_wpm": 150, "lexicon": "abc", "synthesizer": "s1"
    }
    changed: list[KeyInputs] = [
        {**base, "text": "Hello!"}, {**base, "voice": "gmw/en-us"}, {**base, "rate_wpm": 170},
        {**base, "lexicon": "abd"}, {**base, "synthesizer": "s2"},
    ]
    keys = {cache_key(**base)}
    for inputs in changed:
        keys.add(cache_key(**inputs))
    assert len(keys) == 6


def test_get_put_and_no_temporary_files_left(tmp_path: Path) -> None:
    cache = AudioCache(tmp_path, 10_000_000)
    rendering = fake_rendering("One two.")
    assert cache.get("ab" * 32) is None
    cache.put("ab" * 32, rendering)
    hit = cache.get("ab" * 32)
    assert hit is not None and np.array_equal(hit.pcm, rendering.pcm)
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert names == ["ab" * 32 + ".kpcm"]


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage"])
def test_damaged_entries_are_detected_and_removed(tmp_path: Path, damage: str) -> None:
    cache = AudioCache(tmp_path, 10_000_000)
    key = "cd" * 32
    cache.put(key, fake_rendering("Some words to keep."))
    path = cache.path(key)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 7]
    elif damage == "flip":
        data[len(data) // 2] ^= 0x40
    elif damage == "empty":
        data = bytearray()
    else:
        data = bytearray(b"not audio at all" * 10)
    path.write_bytes(bytes(data))
    assert cache.get(key) is None
    assert not path.exists()


def test_size_bound_drops_least_recently_used(tmp_path: Path) -> None:
    one = len(encode(fake_rendering("a b c d e")))
    cache = AudioCache(tmp_path, int(one * 3.5))
    keys = [f"{n:02d}" * 32 for n in range(5)]
    for index, key in enumerate(keys):
        cache.put(key, fake_rendering("a b c d e"))
        old = time.time() - 100 + index
        os.utime(cache.path(key), (old, old))
        if index == 2:
            assert cache.get(keys[0]) is not None  # used: now the most recent
    assert cache.size_bytes() <= one * 3.5
    assert cache.contains(keys[4])
    assert not cache.contains(keys[1])  # oldest unused went first


def test_respelling_maps_words_back_to_the_original() -> None:
    text = "A Fibroadenoma is not cancer; fibroadenomas are common."
    lexicon = {
        "fibroadenoma": entry("fibroadenoma", "fie-broh-adenoma"),
        "fibroadenomas": entry("fibroadenomas", "fie-broh-adenomas"),
    }
    spoken = respell(text, lexicon)
    assert spoken.spoken == "A fie-broh-adenoma is not cancer; fie-broh-adenomas are common."
    start = spoken.spoken.index("fie-broh-adenoma ")
    assert text[slice(*spoken.to_original(start, start + 16))] == "Fibroadenoma"
    cancer = spoken.spoken.index("cancer")
    assert text[slice(*spoken.to_original(cancer, cancer + 6))] == "cancer"
    common = spoken.spoken.index("common")
    assert text[slice(*spoken.to_original(common, common + 6))] == "common"


def test_respelling_leaves_parts_of_words_alone() -> None:
    spoken = respell("Mammograms and a mammogram.", {"mammogram": entry("mammogram", "MAM")})
    assert spoken.spoken == "Mammograms and a MAM."


def test_renderer_caches_only_cacheable_text_and_applies_the_lexicon(tmp_path: Path) -> None:
    synth = FakeSynthesizer()
    cache = AudioCache(tmp_path, 10_000_000)
    lexicon = {"fibroadenoma": entry("fibroadenoma", "fie-broh-adenoma")}
    content = "A fibroadenoma is benign."
    renderer = Renderer(synth, cache, lexicon, "", {content}.__contains__)
    first = renderer.render(content, 150)
    again = renderer.render(content, 150)
    assert synth.requests == [("A fie-broh-adenoma is benign.", 150, "")]
    assert np.array_equal(first.pcm, again.pcm)
    assert [content[w.start:w.end] for w in again.words] == ["A", "fibroadenoma", "is", "benign."]
    renderer.render(content, 170)  # another rate is another entry
    assert len(synth.requests) == 2
    renderer.render("What a visitor might say.", 150)
    renderer.render("What a visitor might say.", 150)
    assert len(synth.requests) == 4  # never stored
    assert len(list(tmp_path.rglob("*.kpcm"))) == 2


def test_trim_cuts_lead_in_and_caps_the_tail() -> None:
    rate = 1000
    pcm = np.zeros(3000, dtype=np.int16)
    pcm[500:1500] = 5000
    trimmed = trim(Rendering(pcm, rate, (WordMark(0, 3, 600),)))
    lead = int(LEAD_IN_S * rate)
    assert trimmed.pcm[lead] == 5000 and trimmed.pcm[lead - 1] == 0  # after the short lead-in
    assert len(trimmed.pcm) == lead + 1000 + 350
    assert trimmed.words[0].sample == 600 - (500 - lead)


def test_incomplete_audio_is_recognised() -> None:
    pcm = np.ones(1000, dtype=np.int16)
    assert _complete(Rendering(pcm, 1000, (WordMark(0, 1, 10), WordMark(2, 3, 900))))
    assert not _complete(Rendering(pcm, 1000, (WordMark(0, 1, 10), WordMark(2, 3, 1000))))


def test_library_texts_cover_content_and_interface(library: Library) -> None:
    texts = list(library_texts(library))
    assert len(texts) == len(set(texts))
    for section in library.sections():
        for sentence in section.sentences:
            assert sentence.text in texts
    assert library.text("prompt.listening") in texts
    topic = library.topics[0]
    assert library.text("screen.end_of_topic", topic=topic.title) in texts
    assert library.text("button.talk") in texts


def test_a_damaged_entry_is_rendered_again(tmp_path: Path) -> None:
    synth = FakeSynthesizer()
    cache = AudioCache(tmp_path, 10_000_000)
    text = "Calcium deposits are common."
    renderer = Renderer(synth, cache, {}, "", {text}.__contains__)
    first = renderer.render(text, 150)
    path = cache.path(renderer.key(text, 150))
    path.write_bytes(path.read_bytes()[:-100])  # cut short, as a crash mid-write could
    again = renderer.render(text, 150)
    assert len(synth.requests) == 2
    assert np.array_equal(again.pcm, first.pcm)
    hit = cache.get(renderer.key(text, 150))
    assert hit is not None and np.array_equal(hit.pcm, first.pcm)


def test_a_cache_folder_that_cannot_be_written_costs_speed_not_speech(
    tmp_path: Path, library: Library
) -> None:
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.speech.render import build_renderer, open_cache

    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    writable = open_cache(replace(Settings(), cache_dir=tmp_path / "fine"))
    assert writable.stand_in_for == "" and writable.root == tmp_path / "fine" / "speech"

    renderer = build_renderer(replace(Settings(), cache_dir=blocked), library)
    assert renderer.cache is not None
    stand_in = renderer.cache.root
    try:
        assert str(blocked / "speech") in renderer.cache.stand_in_for
        assert stand_in != blocked / "speech" and stand_in.is_dir()
        text = library.text("button.help")
        # The real synthesiser speaks, and the rendering is cached in the stand-in folder.
        assert renderer.render(text, 150).duration_s > 0.2
        assert renderer.cached(text, 150) is not None
    finally:
        renderer.close()
    assert not stand_in.exists()  # the stand-in does not outlive the renderer
    assert blocked.read_text(encoding="utf-8").startswith("a file")
