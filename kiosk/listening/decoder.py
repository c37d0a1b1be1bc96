"""One long-lived pocketsphinx 5 decoder with a search built from content.

Loaded once (a second or so) and reused for every utterance: a short command then decodes in tens
of milliseconds. Audio is fed as it arrives, so most decoding is done by the time speech ends.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.command_words import CommandWords, load_commands
from kiosk.library import Library
from kiosk.listening.audio import RATE
from kiosk.listening.lexicon import (
    acoustic_model_path,
    dictionary_text,
    missing_words,
    pronunciations,
)
from kiosk.listening.search import (
    SEARCH_KINDS,
    Phrases,
    SearchError,
    collect_phrases,
    jsgf_grammar,
    keyphrases,
    language_model,
    validate_grammar,
)

log = logging.getLogger(__name__)

#: Decoder settings chosen by measurement (docs/voice.md): the second "flat" pass at the end of an
#: utterance cost ~100 ms at p95 for a few points of accuracy in noise; the lattice (bestpath)
#: gives the posterior used to reject out-of-scope speech.
DECODER_OPTIONS: dict[str, Any] = {"fwdflat": False, "bestpath": True, "dither": False}

#: Frequency warps (vocal-tract length) of the extra decoders that hear each utterance beside the
#: unwarped one: voices longer and shorter than the acoustic model's average are heard better by
#: one of them (docs/voice.md, "Warped decoders"). Each costs one more decode of the same audio.
WARPS: tuple[float, ...] = (0.88, 1.12)

#: Keyphrase-spotting threshold (a log-likelihood ratio): lower spots more, with more false alarms.
KWS_THRESHOLD = 1e-25


class DecoderError(RuntimeError):
    """The recogniser could not be set up; `code` is stable."""

    code = "decoder"


@dataclass(frozen=True, slots=True)
class Heard:
    """What the decoder made of one utterance: words and how sure it is (0..1)."""

    text: str
    confidence: float
    frames: int
    #: What the decoders listening with a warped frequency axis made of the same audio.
    warped: tuple[Heard, ...] = ()


class SpeechDecoder:
    """A pocketsphinx Decoder loaded once, with a content-built search; thread-safe."""

    def __init__(
        self,
        library: Library,
        commands: CommandWords | None = None,
        search: str = "lm",
        options: dict[str, Any] | None = None,
        extra_phrases: tuple[str, ...] = (),
        warps: tuple[float, ...] = (),
    ) -> None:
        if search not in SEARCH_KINDS:
            raise DecoderError(f"unknown search {search!r}; known: {', '.join(SEARCH_KINDS)}")
        self.search = search
        self.full_utt = False
        commands = commands if commands is not None else load_commands(library.root)
        phrases = collect_phrases(library, commands, extra_phrases)
        known = pronunciations(phrases.words(), library)
        self.missing = missing_words(phrases.words(), known)
        if self.missing:
            # Phrases with unknown words are left out rather than misheard; `kiosk doctor` and the
            # tests list them so the lexicon can be completed.
            log.warning(
                "no pronunciation for %d words; phrases using them are not listened for: %s",
                len(self.missing), ", ".join(self.missing[:20]),
            )
            phrases = phrases.without(self.missing)
        self.phrases: Phrases = phrases
        self._lock = threading.Lock()
        self._in_utterance = False
        with tempfile.TemporaryDirectory(prefix="kiosk-search-") as folder:
            # pocketsphinx reads its dictionary and language model from files; these hold only
            # words and phrases from the content (never audio) and are deleted at once.
            dict_path = Path(folder) / "kiosk.dict"
            dict_path.write_text(dictionary_text(known), encoding="utf-8")
            config: dict[str, Any] = {
                "hmm": str(acoustic_model_path()), "dict": str(dict_path), "lm": None,
                "samprate": RATE, "loglevel": "FATAL", **DECODER_OPTIONS, **(options or {}),
            }
            try:
                self._decoder = self._load(search, config, phrases, known, Path(folder))
                # The same search on a warped frequency axis: one decoder per warp.
                self._warped = [
                    self._load(search, {
                        **config, "warp_type": "inverse_linear", "warp_params": f"{warp:g}",
                    }, phrases, known, Path(folder))
                    for warp in warps
                ]
            except (RuntimeError, ValueError, SearchError) as error:
                raise DecoderError(f"could not set up the {search} search: {error}") from error

    @staticmethod
    def _load(
        search: str, config: dict[str, Any], phrases: Phrases, known: dict[str, list[str]],
        folder: Path,
    ) -> Any:
        """One pocketsphinx Decoder with the content-built search active."""
        from pocketsphinx import Decoder

        if search == "lm":
            lm_path = folder / "kiosk.lm"
            if not lm_path.exists():
                lm_path.write_text(language_model(phrases), encoding="utf-8")
            decoder = Decoder(**config)
            decoder.add_lm_file("kiosk", str(lm_path))
        elif search == "jsgf":
            grammar = jsgf_grammar(phrases)
            validate_grammar(grammar, known)
            decoder = Decoder(**config)
            decoder.add_jsgf_string("kiosk", grammar)
        else:
            kws_path = folder / "kiosk.kws"
            kws_path.write_text(
                "".join(f"{p} /{KWS_THRESHOLD}/\n" for p in keyphrases(phrases)),
                encoding="utf-8",
            )
            decoder = Decoder(**config)
            decoder.add_kws("kiosk", str(kws_path))
        decoder.activate_search("kiosk")
        return decoder

    def _all(self) -> list[Any]:
        return [self._decoder, *self._warped]

    def begin(self) -> None:
        """Start a new utterance (dropping any unfinished one)."""
        with self._lock:
            for decoder in self._all():
                if self._in_utterance:
                    decoder.end_utt()
                decoder.start_utt()
            self._in_utterance = True

    def feed(self, pcm: bytes) -> None:
        """Decode more 16 kHz mono s16le audio of the current utterance."""
        with self._lock:
            if not self._in_utterance:
                for decoder in self._all():
                    decoder.start_utt()
                self._in_utterance = True
            if pcm:
                for decoder in self._all():
                    decoder.process_raw(pcm, False, self.full_utt)

    def finish(self) -> Heard:
        """End the utterance and return what was heard (with the warped decoders' hearing)."""
        with self._lock:
            if not self._in_utterance:
                return Heard("", 0.0, 0)
            self._in_utterance = False
            heard = [self._result(decoder) for decoder in self._all()]
            centre = heard[0]
            return Heard(centre.text, centre.confidence, centre.frames, tuple(heard[1:]))

    def _result(self, decoder: Any) -> Heard:
        decoder.end_utt()
        hyp = decoder.hyp()
        frames = int(decoder.n_frames())
        if hyp is None or not hyp.hypstr.strip():
            return Heard("", 0.0, frames)
        words = [w for w in hyp.hypstr.split() if not w.startswith(("<", "["))]
        text = " ".join(w.split("(", 1)[0] for w in words)
        confidence = 1.0
        if self.search == "lm":
            # The lattice posterior of the best path: low when other word strings were about
            # as likely, as they are when the words spoken are not in the kiosk's vocabulary.
            confidence = float(min(1.0, max(0.0, hyp.prob)))
        return Heard(text, confidence, frames)

    def decode(self, samples: np.ndarray) -> Heard:
        """Decode one whole utterance of 16 kHz mono int16 samples."""
        self.begin()
        self.feed(np.asarray(samples, dtype=np.int16).tobytes())
        return self.finish()
