"""Text to audio through the lexicon and the cache: what the Speaker and `kiosk prerender` call."""

from __future__ import annotations

import logging
import shutil
import string
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from kiosk.config import Settings
from kiosk.library import LexiconEntry, Library
from kiosk.sentences import split_sentences
from kiosk.speech.cache import AudioCache, cache_key
from kiosk.speech.lexicon import lexicon_digest, respell
from kiosk.speech.piper import choose_synthesizer
from kiosk.speech.synth import Rendering, Synthesizer, WordMark

log = logging.getLogger(__name__)


def library_texts(library: Library, settings: Settings | None = None) -> Iterator[str]:
    """Every text the kiosk may speak from its content, most needed first, without repeats.

    Section sentences, topic and section titles, and each interface string both whole and split
    into sentences (the controller speaks either); placeholders are filled with every topic or
    section title, and with the idle warning's seconds.
    """
    seen: set[str] = set()
    seconds = int(settings.idle_warning_s) if settings is not None else 30
    topics = [topic.title for topic in library.topics]
    sections = [section.title for section in library.sections()]

    def fill(template: str) -> Iterator[str]:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if not fields:
            yield template
        elif fields == {"topic"}:
            yield from (template.format(topic=title) for title in topics)
        elif fields == {"section"}:
            yield from (template.format(section=title) for title in sections)
        elif fields == {"seconds"}:
            yield template.format(seconds=seconds)

    def candidates() -> Iterator[str]:
        for section in library.sections():
            for sentence in section.sentences:
                yield sentence.text
        for key in sorted(library.strings):
            for text in fill(library.strings[key]):
                yield text
                yield from split_sentences(text)
        yield from topics
        yield from sections

    for text in candidates():
        if text and text not in seen:
            seen.add(text)
            yield text


class Renderer:
    """Renders text with the lexicon applied; cacheable texts go through the cache."""

    def __init__(
        self,
        synthesizer: Synthesizer,
        cache: AudioCache | None,
        lexicon: Mapping[str, LexiconEntry],
        voice: str,
        cacheable: Callable[[str], bool] = lambda _text: True,
    ) -> None:
        self.synthesizer = synthesizer
        self.cache = cache
        self.lexicon = lexicon
        self.voice = voice
        self.cacheable = cacheable
        self._digest = lexicon_digest(lexicon)

    def key(self, text: str, rate_wpm: int) -> str:
        return cache_key(
            text=text, voice=self.voice, rate_wpm=rate_wpm, lexicon=self._digest,
            synthesizer=self.synthesizer.ident,
        )

    def cached(self, text: str, rate_wpm: int) -> Rendering | None:
        """The cached rendering, if there is a sound one."""
        if self.cache is None or not self.cacheable(text):
            return None
        return self.cache.get(self.key(text, rate_wpm))

    def render(self, text: str, rate_wpm: int) -> Rendering:
        """Audio for `text` at `rate_wpm`; word marks index into `text` itself."""
        hit = self.cached(text, rate_wpm)
        if hit is not None:
            return hit
        phonemes = self._reads_phonemes()
        spoken = respell(text, self.lexicon, phonemes)
        raw = self.synthesizer.synthesize(spoken.spoken, rate_wpm, self.voice)
        if phonemes and not self._reads_phonemes():
            # The natural voice failed during this call and espeak-ng read the [[ ]] blocks,
            # which it cannot: say the text again with the respellings.
            spoken = respell(text, self.lexicon)
            raw = self.synthesizer.synthesize(spoken.spoken, rate_wpm, self.voice)
        words = []
        for word in raw.words:
            start, end = spoken.to_original(word.start, word.end)
            if end > start:
                words.append(WordMark(start, end, word.sample))
        rendering = Rendering(raw.pcm, raw.rate, tuple(words))
        if self.cache is not None and self.cacheable(text) and len(rendering.pcm):
            self.cache.put(self.key(text, rate_wpm), rendering)
        return rendering

    def _reads_phonemes(self) -> bool:
        return bool(getattr(self.synthesizer, "reads_phonemes", False))

    def warm_up(self) -> None:
        """Get the synthesiser ready before the first sentence is needed."""
        warm_up = getattr(self.synthesizer, "warm_up", None)
        if callable(warm_up):
            warm_up()

    @property
    def cache_stand_in_for(self) -> str:
        """Why speech is cached in a temporary folder; "" when the configured one is in use."""
        return self.cache.stand_in_for if self.cache is not None else ""

    def close(self) -> None:
        self.synthesizer.close()
        if self.cache is not None and self.cache_stand_in_for:
            shutil.rmtree(self.cache.root, ignore_errors=True)


def open_cache(settings: Settings) -> AudioCache:
    """The speech cache in the configured folder, or a private temporary one if that folder
    cannot be written (read-only, mistyped, full): a bad cache_dir costs speed, never speech."""
    wanted = Path(settings.cache_dir) / "speech"
    max_bytes = settings.cache_max_mb * 1024 * 1024
    try:
        cache = AudioCache(wanted, max_bytes)
        cache.check_writable()
        return cache
    except OSError as error:
        reason = f"{wanted} cannot be written: {error.strerror or error}"
    stand_in = AudioCache(Path(tempfile.mkdtemp(prefix="kiosk-speech-")), max_bytes)
    stand_in.stand_in_for = reason
    log.warning("speech cache %s; using %s until it can be", reason, stand_in.root)
    return stand_in


def build_renderer(settings: Settings, library: Library | None) -> Renderer:
    """The standard renderer: the settings' synthesiser (Piper, or espeak-ng through pyttsx3),
    the settings' cache folder, the library's lexicon.

    Only texts from `library` (content and interface wording) are cached; any other text is
    rendered each time and never stored.
    """
    cache = open_cache(settings)
    known = frozenset(library_texts(library, settings)) if library is not None else frozenset()
    return Renderer(
        choose_synthesizer(settings, cache.scratch),
        cache,
        library.lexicon if library is not None else {},
        settings.voice,
        known.__contains__,
    )
