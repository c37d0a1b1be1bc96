"""Decoder + understanding: audio -> Intent, with out-of-scope speech rejected.

Used by the live listener and by `kiosk recognize`, so both behave the same.
"""

from __future__ import annotations

import logging

import numpy as np

from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening.decoder import Heard, SpeechDecoder
from kiosk.listening.denoise import Denoiser
from kiosk.understanding import Understanding

log = logging.getLogger(__name__)

#: Below this lattice posterior the words heard are not trusted (measured: docs/voice.md)...
MIN_CONFIDENCE = 1e-4
#: ...unless the understanding explains every word they make, down to this posterior.
MIN_CONFIDENCE_WHEN_CLEAR = 1e-6
#: Bytes per chunk when a whole recording is streamed through (30 ms, like the microphone).
STREAM_CHUNK = 960


class Recognizer:
    """One long-lived decoder and one Understanding over the same content."""

    def __init__(
        self,
        library: Library,
        search: str = "lm",
        extra_phrases: tuple[str, ...] = (),
        min_confidence: float = MIN_CONFIDENCE,
    ) -> None:
        self.understanding = Understanding(library)
        self.decoder = SpeechDecoder(
            library, self.understanding.commands, search=search, extra_phrases=extra_phrases,
        )
        self.min_confidence = min_confidence
        # Until one utterance has been decoded, the decoder's running cepstral mean is the
        # model's initial guess, not this microphone's: the first utterance is kept (in memory)
        # so that, if it is not understood, it can be decoded once more with the adapted mean.
        self._first_utterance: list[bytes] | None = []

    def begin(self) -> None:
        if self._first_utterance is not None:
            self._first_utterance.clear()
        self.decoder.begin()

    def feed(self, pcm: bytes) -> None:
        if self._first_utterance is not None:
            self._first_utterance.append(pcm)
        self.decoder.feed(pcm)

    def finish(self) -> Intent:
        """End the utterance; `none` (with what was heard) when unsure or out of scope."""
        intent = self.intent_of(self.decoder.finish())
        kept, self._first_utterance = self._first_utterance, None
        if kept and intent.name is IntentName.NONE:
            self.decoder.begin()
            # Fed as it first arrived, in short pieces: one call over the whole utterance would
            # hold the GIL for a hundred milliseconds or so and stall the UI's frames.
            for piece in kept:
                self.decoder.feed(piece)
            intent = self.intent_of(self.decoder.finish())
        return intent

    def discard(self) -> None:
        """Drop the utterance in progress, unheard (its audio included)."""
        if self._first_utterance is not None:
            self._first_utterance.clear()
        self.decoder.finish()

    def intent_of(self, heard: Heard) -> Intent:
        if not heard.text:
            return Intent(IntentName.NONE, confidence=0.0, heard=None)
        intent = self.understanding.understand(heard.text)
        # Noise lowers the posterior of right answers too, so a clear, fully explained
        # utterance is allowed a lower one than a doubtful one.
        clear = intent.confidence >= 0.99
        floor = self.min_confidence
        if clear:
            floor = min(floor, MIN_CONFIDENCE_WHEN_CLEAR)
        if heard.confidence < floor:
            return Intent(IntentName.NONE, confidence=heard.confidence, heard=intent.heard)
        return Intent(
            intent.name, intent.topic, intent.section, intent.answer,
            intent.confidence * heard.confidence ** 0.1 if intent.name != IntentName.NONE else 0.0,
            intent.heard,
        )

    def recognize(self, samples: np.ndarray) -> Intent:
        """One whole utterance of 16 kHz mono int16 samples, streamed as the live kiosk does."""
        pcm = Denoiser().process(np.asarray(samples, dtype="<i2").tobytes())
        self.begin()
        for start in range(0, len(pcm), STREAM_CHUNK):
            self.feed(pcm[start : start + STREAM_CHUNK])
        return self.finish()
