"""Decoder + understanding: audio -> Intent, with out-of-scope speech rejected.

Used by the live listener and by `kiosk recognize`, so both behave the same.
"""

from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np
from speech_recognition import AudioData

from kiosk.intents import NO_INTENT, Intent, IntentName
from kiosk.library import Library
from kiosk.listening.audio import RATE
from kiosk.listening.decoder import WARPS, Heard, SpeechDecoder
from kiosk.listening.denoise import Denoiser
from kiosk.listening.neural import NeuralHeard, NeuralRecognizer
from kiosk.listening.phrasings import PhrasingIndex, phrasings
from kiosk.sentences import split_sentences
from kiosk.understanding import Understanding

log = logging.getLogger(__name__)

#: Below this lattice posterior the words heard are not trusted (measured: docs/voice.md)...
MIN_CONFIDENCE = 1e-4
#: ...unless the understanding explains every word they make, down to this posterior.
MIN_CONFIDENCE_WHEN_CLEAR = 1e-6
#: The warped decoders' say (docs/voice.md, "Warped decoders"). A decoder this sure of its words
#: (lattice posterior) needs no second opinion; the unwarped decoder's answer when it is less sure
#: is dropped unless a warped decoder understood the same...
SURE_CONFIDENCE = 1e-2
#: ...and when the unwarped decoder's words are not trusted, an intent that two decoders
#: understood, each with at least this posterior, is taken.
AGREED_CONFIDENCE = 1e-6
#: The fast path (docs/voice.md, "Two recognisers"): a command pocketsphinx understood with at
#: least this confidence is acted on at once; everything else, questions included, also goes
#: to the neural pass. Chosen on the natural development audio (clean and in babble at 20 and
#: 10 dB): from 0.4 to 0.6 pocketsphinx was wrong about one time in three, Whisper rarely.
FAST_PATH_CONFIDENCE = 0.6
#: Where Whisper is guessing, pocketsphinx's own answer still stands from this confidence.
FAIRLY_SURE_CONFIDENCE = 0.4
#: Below this mean token log probability Whisper is guessing (in babble it runs on inventing
#: sentences at about -1.2 to -1.7): its words are not acted on.
NEURAL_MIN_LOGPROB = -1.0
#: "Did you mean ...?" (docs/voice.md): when neither recogniser is sure, a command or name that
#: Whisper heard with at least this mean log probability is asked about instead of dropped.
#: (pocketsphinx's unsure answers were asked about too, on the development audio: wrong two
#: times in three, and they made questions of chatter, so they are not.)
NEURAL_MAYBE_LOGPROB = -1.4
#: Phrasings scored by Whisper (docs/voice.md): when neither recogniser's words meant anything,
#: the kiosk phrasings closest to them (this many, by letter trigrams) are scored by Whisper
#: against the audio. The best is taken if it scores at most RESCORE_MAX_DEFICIT (summed token
#: log probability) below Whisper's own words, at least RESCORE_MIN_PER_TOKEN a token, and
#: RESCORE_MIN_MARGIN above the best phrasing that means something else. Chosen on the natural
#: development audio: from 215 to 227 of 264 commands and names clean, 161 to 183 in babble at
#: 20 dB, chatter rejected 58/60 as before clean and 56/60 against 57/60 at 20 dB.
RESCORED_PHRASINGS = 8
RESCORE_MAX_DEFICIT = 6.0
RESCORE_MIN_PER_TOKEN = -4.0
RESCORE_MIN_MARGIN = 4.0
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
        warps: tuple[float, ...] = WARPS,
        neural: NeuralRecognizer | None = None,
    ) -> None:
        self.understanding = Understanding(library)
        #: The second, neural pass (docs/voice.md, "Two recognisers"); None: pocketsphinx alone.
        self.neural = neural
        #: Which pass gave the last answer: "fast", "neural", "rescored" (a kiosk phrasing
        #: scored by Whisper) or "fast-only" (no neural answer).
        self.last_path = "fast"
        #: Utterances the neural pass answered (a count, for the benchmarks; nothing heard).
        self.neural_passes = 0
        # The utterance's audio, in memory until it is decoded, for the neural pass.
        self._audio: list[bytes] = []
        self.decoder = SpeechDecoder(
            library, self.understanding.commands, search=search, extra_phrases=extra_phrases,
            warps=warps,
        )
        self._phrasings: PhrasingIndex | None = None  # built at the first need
        self._meanings: dict[str, Intent] = {}
        self.min_confidence = min_confidence
        # Until one utterance has been decoded, the decoder's running cepstral mean is the
        # model's initial guess, not this microphone's: the first utterance is kept (in memory)
        # so that, if it is not understood, it can be decoded once more with the adapted mean.
        self._first_utterance: list[bytes] | None = []

    def wait_ready(self) -> None:
        """Ready once built (the Hearing protocol: a RecognizerProcess has to wait)."""

    def begin(self) -> None:
        if self._first_utterance is not None:
            self._first_utterance.clear()
        self._audio.clear()
        self.decoder.begin()

    def feed(self, pcm: bytes) -> None:
        if self._first_utterance is not None:
            self._first_utterance.append(pcm)
        if self.neural is not None:
            self._audio.append(pcm)
        self.decoder.feed(pcm)

    def finish(self, neural: bool = True) -> Intent:
        """End the utterance; `none` (with what was heard) when unsure or out of scope.

        `neural` False keeps to pocketsphinx: for speech nobody asked the kiosk to hear (the
        room's talk in wake-phrase mode), which would keep the neural pass busy all day.
        """
        fast = self._finish_fast()
        self.last_path = "fast"
        if not neural or self._sure(fast):
            self._audio.clear()
            return fast
        heard, audio = self._neural_hearing()
        # The audio goes when this returns: it is only kept for scoring the kiosk's phrasings.
        return fast if heard is None else self._combined(fast, heard, audio)

    def hears_stop(self, samples: np.ndarray, min_confidence: float) -> Intent | None:
        """Barge-in: the `stop` a visitor said in this recording, or None.

        The recording is the microphone with the kiosk's own voice cancelled, never wholly: a
        `stop` pocketsphinx is fairly sure of is enough, and Whisper, which writes down the
        kiosk's leftover reading too, may add a stop said as a sentence of its own ("... Please
        stop.") but never overrules one.
        """
        self.stream(samples)
        fast = self._finish_fast()
        self.last_path = "fast"
        if fast.name is IntentName.STOP and fast.confidence >= min_confidence:
            self._audio.clear()
            return fast
        heard, _audio = self._neural_hearing()
        if heard is None or heard.avg_logprob < NEURAL_MIN_LOGPROB:
            return None
        for sentence in split_sentences(heard.text):
            meant = self.understanding.understand(sentence)
            if meant.name is IntentName.STOP and meant.confidence >= min_confidence:
                return meant
        return None

    def _neural_hearing(self) -> tuple[NeuralHeard | None, AudioData | None]:
        """The neural pass over the utterance collected so far, and that utterance (no longer
        kept here); (None, None) without a neural process or audio, (None, audio) when it
        could not answer (`last_path` says which)."""
        pcm, self._audio = b"".join(self._audio), []
        if self.neural is None or not pcm:
            return None, None
        audio = AudioData(pcm, RATE, 2)  # the utterance as it was heard: 16 kHz, 16-bit mono
        del pcm
        heard = self.neural.transcribe(audio)
        self.last_path = "fast-only" if heard is None else "neural"
        self.neural_passes += heard is not None
        return heard, audio

    @staticmethod
    def _sure(fast: Intent) -> bool:
        """pocketsphinx alone is trusted with a command it is sure of, not with a question."""
        return fast.name not in (IntentName.NONE, IntentName.ASK) and (
            fast.confidence >= FAST_PATH_CONFIDENCE)

    def _combined(self, fast: Intent, heard: NeuralHeard, audio: AudioData | None = None
                  ) -> Intent:
        """What the two recognisers together make of an utterance pocketsphinx was unsure of.

        Whisper's words win when it is not guessing, except against a question pocketsphinx
        answered surely and differently; otherwise pocketsphinx's answer if it is fairly sure,
        or what both heard alike. Failing that, a command or name Whisper half heard is asked
        about ("Did you mean ...?"), else nothing: a "didn't catch that" rather than a wrong
        action. With the utterance's `audio`, Whisper also scores the kiosk's phrasings closest
        to what was heard before nothing is the answer.
        """
        fairly_sure = fast.name is not IntentName.NONE and fast.confidence >= FAIRLY_SURE_CONFIDENCE
        meant = self.understanding.understand(heard.text) if heard.text else NO_INTENT
        clear = heard.avg_logprob >= NEURAL_MIN_LOGPROB and bool(heard.text)
        if clear:
            overruled = fast.name is IntentName.ASK and fairly_sure and not _same(fast, meant)
            if (meant.name is not IntentName.NONE or meant.reply) and not overruled:
                return meant
        if fairly_sure:
            return fast
        agreed = _same(meant, fast) if meant.reply is None else meant.reply == fast.reply
        if _understood(meant) and agreed:
            return meant  # two recognisers agreeing are surer than either alone
        # Whisper makes words of noise ("Music"): where pocketsphinx heard no words at all, the
        # utterance was a sound, not speech, and the listener keeps listening (so the heard
        # words stay pocketsphinx's, and nothing is asked).
        half_sure = _askable(meant) and heard.avg_logprob >= NEURAL_MAYBE_LOGPROB
        maybe = meant if half_sure and fast.heard else None
        if maybe is None and audio is not None and fast.heard and heard.text and (
                meant.reply is None):
            rescued = self._rescored(audio, heard.text, fast.heard)
            if rescued is not None:
                self.last_path = "rescored"
                return rescued
        return Intent(IntentName.NONE, confidence=0.0, heard=fast.heard, maybe=maybe)

    def _rescored(self, audio: AudioData, neural_text: str, fast_text: str) -> Intent | None:
        """The kiosk phrasing Whisper finds nearly as likely as its own words in `audio`, if
        one is clearly best (docs/voice.md, "Phrasings scored by Whisper"); None otherwise."""
        if self.neural is None:
            return None
        if self._phrasings is None:
            self._phrasings = PhrasingIndex(phrasings(self.decoder.phrases))
        candidates: list[tuple[str, Intent]] = []
        for text in self._phrasings.closest((neural_text, fast_text), RESCORED_PHRASINGS):
            meant = self._meaning(text)
            if _askable(meant):
                candidates.append((text, meant))
        if not candidates:
            return None
        # Written as Whisper writes a request, so that neither case nor the full stop counts
        # against a phrasing.
        rows = [neural_text, *(f"{text[:1].upper()}{text[1:]}." for text, _ in candidates)]
        scores = self.neural.score(audio, rows)
        if not scores:
            return None
        own, scored = scores[0], sorted(
            zip(scores[1:], (meant for _, meant in candidates), strict=True),
            key=lambda pair: -pair[0].total,
        )
        best, meant = scored[0]
        rival = max((score.total for score, other in scored[1:] if not _same(other, meant)),
                    default=-float("inf"))
        if (own.total - best.total <= RESCORE_MAX_DEFICIT
                and best.per_token >= RESCORE_MIN_PER_TOKEN
                and best.total - rival >= RESCORE_MIN_MARGIN):
            return meant
        return None

    def _meaning(self, text: str) -> Intent:
        """What one of the kiosk's phrasings means (remembered: there are a few thousand)."""
        if text not in self._meanings:
            self._meanings[text] = self.understanding.understand(text)
        return self._meanings[text]

    def _finish_fast(self) -> Intent:
        """pocketsphinx's answer (with the first utterance decoded again if not understood)."""
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

    def close(self) -> None:
        """End the neural process, if there is one."""
        if self.neural is not None:
            self.neural.close()

    def discard(self) -> None:
        """Drop the utterance in progress, unheard (its audio included)."""
        if self._first_utterance is not None:
            self._first_utterance.clear()
        self._audio.clear()
        self.decoder.finish()

    def intent_of(self, heard: Heard) -> Intent:
        """The unwarped decoder's intent if trusted, else one the warped decoders vouch for."""
        # Each decoder's words are understood once; the steps below only compare the results.
        understand = self.understanding.understand
        hearings = [(one, understand(one.text)) for one in (heard, *heard.warped)]
        meant, warped = hearings[0][1], hearings[1:]
        if meant.reply is not None:
            # "yes" or "no": too short for the warped decoders to vouch for; the neural pass,
            # when there is one, hears it too.
            return meant if heard.confidence >= self.min_confidence else replace(meant, reply=None)
        intent = self._trusted(heard, meant, self.min_confidence, MIN_CONFIDENCE_WHEN_CLEAR)
        if not warped:
            return intent
        if intent.name is not IntentName.NONE:
            # Chatter heard as a command tends to be heard differently by each decoder, while a
            # real command is heard alike: a doubtful answer needs a warped decoder to agree.
            if heard.confidence >= SURE_CONFIDENCE or any(
                _same(intent, other) for _, other in warped
            ):
                return intent
            return Intent(IntentName.NONE, confidence=heard.confidence, heard=intent.heard)
        return self._agreed(hearings) or self._sure_warped(warped) or intent

    def _agreed(self, hearings: list[tuple[Heard, Intent]]) -> Intent | None:
        """An intent two decoders understood, each at least fairly sure of its words."""
        fair = [(one, meant) for one, meant in hearings if one.confidence >= AGREED_CONFIDENCE]
        for one, candidate in fair:
            if candidate.name is not IntentName.NONE and sum(
                _same(candidate, other) for _, other in fair
            ) >= 2:
                return self._weighed(candidate, one)
        return None

    def _sure_warped(self, warped: list[tuple[Heard, Intent]]) -> Intent | None:
        """The surest warped decoder's intent, if one is sure on its own."""
        sure = [
            trusted for one, meant in warped
            if (trusted := self._trusted(one, meant, SURE_CONFIDENCE, SURE_CONFIDENCE)).name
            is not IntentName.NONE
        ]
        return max(sure, key=lambda one: one.confidence, default=None)

    def _trusted(self, heard: Heard, meant: Intent, floor: float, clear_floor: float) -> Intent:
        """What one decoder's words mean, or `none` when its posterior is below the floor."""
        if not heard.text:
            return Intent(IntentName.NONE, confidence=0.0, heard=None)
        # Noise lowers the posterior of right answers too, so a clear, fully explained
        # utterance is allowed a lower one than a doubtful one.
        if meant.confidence >= 0.99:
            floor = min(floor, clear_floor)
        if heard.confidence < floor:
            return Intent(IntentName.NONE, confidence=heard.confidence, heard=meant.heard)
        return self._weighed(meant, heard)

    @staticmethod
    def _weighed(intent: Intent, heard: Heard) -> Intent:
        """The understanding's confidence, tempered by how sure the decoder was of the words."""
        # replace(), not a new Intent: the action ("where am I" is `help` with an action) stays.
        return replace(intent, confidence=(
            intent.confidence * heard.confidence ** 0.1 if intent.name != IntentName.NONE else 0.0
        ))

    def stream(self, samples: np.ndarray) -> None:
        """Begin an utterance and feed it a whole recording of 16 kHz mono int16 samples,
        denoised and in microphone-sized pieces, as the live kiosk hears it."""
        pcm = Denoiser().process(np.asarray(samples, dtype="<i2").tobytes())
        self.begin()
        for start in range(0, len(pcm), STREAM_CHUNK):
            self.feed(pcm[start : start + STREAM_CHUNK])

    def recognize(self, samples: np.ndarray) -> Intent:
        """One whole utterance of 16 kHz mono int16 samples, streamed as the live kiosk does."""
        self.stream(samples)
        return self.finish()


def _understood(intent: Intent) -> bool:
    """An intent to act on, or a yes/no reply."""
    return intent.name is not IntentName.NONE or intent.reply is not None


def _askable(intent: Intent) -> bool:
    """A command or a name can be asked about in a few words; a question's answer cannot."""
    return intent.name not in (IntentName.NONE, IntentName.ASK)


def _same(one: Intent, other: Intent) -> bool:
    """Both mean the same thing: the same intent, topic, section, answer and action."""
    return (one.name, one.topic, one.section, one.answer, one.action) == (
        other.name, other.topic, other.section, other.answer, other.action,
    )
