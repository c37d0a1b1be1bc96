"""Background talk for the waiting-room conditions: several talkers at once (babble), mixed under
an utterance at a chosen signal-to-noise ratio, and reaching past its ends, as in a real room
where the kiosk hears the others before and after the visitor speaks.

The talkers are espeak-ng voices that neither the development nor the measurement clips use,
reading everyday sentences that are neither phrasings nor content. Made in memory at test time.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from kiosk.listening.audio import RATE
from tests.support.speech_fixtures import synthesize

#: Voices that speak only in the background.
BABBLE_VOICES = ("en-us+m1", "en-gb+m2", "en-us+f1", "en-gb-x-rp+Steph")
BABBLE_TEXT = (
    "the traffic on the ring road was terrible again this morning",
    "she said the garden looks lovely now that the roses are out",
    "we should book the holiday before the prices go up in spring",
    "did you watch the match on saturday it went to extra time",
    "my neighbour has a new puppy and it barks all night long",
    "they are building flats where the old cinema used to be",
    "i made soup with the leftover vegetables from sunday",
    "the bus was twenty minutes late and it was pouring with rain",
    "our grandson starts school in september he is so excited",
    "the bakery on the corner sells the best bread in town",
    "we drove up to the coast for the day last weekend",
    "he has been painting the kitchen for three weeks now",
)
#: Background talk before and after the utterance, seconds.
LEAD_S = 0.8


@cache
def babble(seconds: float, talkers: int = 4, seed: int = 0) -> np.ndarray:
    """`talkers` voices at once, each reading sentences back to back, float64, unit RMS."""
    length = int(seconds * RATE)
    rng = np.random.default_rng(seed)
    mix = np.zeros(length)
    for talker in range(talkers):
        voice = BABBLE_VOICES[talker % len(BABBLE_VOICES)]
        order = rng.permutation(len(BABBLE_TEXT))
        speech: list[np.ndarray] = [np.zeros(int(rng.uniform(0, 1.5) * RATE))]
        filled = speech[0].size
        for index in order:
            if filled >= length:
                break
            said = synthesize(BABBLE_TEXT[index], voice, int(rng.integers(140, 190)))
            said = said.astype(np.float64)
            said /= np.sqrt(np.mean(said**2)) + 1e-9
            speech.append(said)
            filled += said.size
        mix += np.concatenate(speech)[:length] if filled >= length else np.pad(
            np.concatenate(speech), (0, length - filled))
    normalized: np.ndarray = mix / (np.sqrt(np.mean(mix**2)) + 1e-9)
    return normalized


def with_babble(samples: np.ndarray, snr_db: float, offset_s: float = 0.0) -> np.ndarray:
    """The utterance with babble `snr_db` below its loud part, and LEAD_S of babble alone before
    and after it; `offset_s` picks where in a long babble track this clip's room starts."""
    lead = np.zeros(int(LEAD_S * RATE))
    speech = np.concatenate([lead, samples.astype(np.float64), lead])
    loud = np.abs(samples.astype(np.float64))
    active = loud[loud > 0.05 * loud.max()] if loud.any() else loud
    power = float(np.mean(active**2)) if active.size else 1.0
    track = babble(60.0)
    start = int(offset_s * RATE) % max(1, track.size - speech.size)
    background = track[start:start + speech.size] * np.sqrt(power / 10 ** (snr_db / 10))
    mixed: np.ndarray = np.clip(np.round(speech + background), -32768, 32767).astype(np.int16)
    return mixed
