"""Regenerate tests/understanding/data/decoded_dev.jsonl: what the recogniser hears of spoken dev
lines (read by tests/understanding/decoded_dev.py).

Each line (chatter of our own, and in-scope lines from dev_phrasings.py) is spoken by espeak-ng in
one of four voices at 150 wpm, a quarter of them also with pink noise at 10 dB, and decoded by one
long-lived Recognizer per batch the way the kiosk streams it (denoised, 30 ms pieces). The words each decoder
heard and their lattice posteriors are kept, with the kiosk's answer at the time; no audio is
written anywhere. It takes a few minutes:
    nice .venv/bin/python -m tests.understanding.make_decoded_dev
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.content_parser import load_library
from kiosk.intents import IntentName
from kiosk.library import Library
from kiosk.listening.decoder import Heard
from kiosk.listening.recognizer import Recognizer
from tests.support.speech_fixtures import add_noise, have_espeak, pad, synthesize
from tests.understanding import dev_phrasings as dev
from tests.understanding.decoded_dev import BATCHES, DATA, Clip, clip_row

VOICES = ("en-us+klatt3", "en-us+f3", "en-us+m3", "en-gb-x-rp+f5")
RATE = 150
SNR_DB = 10.0

#: Waiting-room talk and questions the content cannot answer, written for this set (not in
#: dev_phrasings.py), some with words the kiosk knows ("second", "read", "results").
CHATTER = (
    "the vending machine ate my coins",
    "could you grab me a leaflet from the rack",
    "what number are they calling now",
    "is the canteen on the ground floor",
    "my car is in the short stay car park",
    "i think it is going to snow later",
    "have you got a spare charger",
    "the receptionist was very helpful",
    "shall we get a sandwich afterwards",
    "my granddaughter starts school next week",
    "how many people are ahead of us",
    "is there a lift to the second floor",
    "i should have worn a warmer jumper",
    "do they sell stamps in the shop downstairs",
    "the bus was twenty minutes late",
    "can you read the sign on that door",
    "i can never find anywhere to park",
    "what are we having for tea tonight",
    "my neighbour is feeding the cat",
    "did you bring the letter from the hospital",
    "who won the football on saturday",
    "i am going to ring my brother",
    "how far is the train station from here",
    "this chair is really uncomfortable",
    "is that clock right",
    "when does the last bus leave",
    "she always gets my name wrong",
    "we could go to the garden centre afterwards",
    "the paint in here is a lovely colour",
    "is there a pharmacy nearby",
    "i need to top up my parking",
    "they have changed the carpets since last time",
    "do you fancy a biscuit",
    "how do you spell your surname",
    "what time did they say the results would be ready",
    "can you keep an eye on my shopping",
    "the television in the corner is not working",
    "i wonder if the shop sells newspapers",
    "tell me when they call us",
    "where did i put my keys",
    "i feel a bit dizzy",
    "look at the rain coming down",
)


#: More of the same for the second batch, which was first used to check that changes made while
#: looking at the first batch carry over.
SECOND_CHATTER = (
    "the kettle in the staff room is broken",
    "did you feed the dog this morning",
    "my feet are killing me",
    "is there a post office near here",
    "we need milk on the way home",
    "what channel is the match on",
    "i left the oven on i think",
    "my cousin is getting married in june",
    "they moved the bus stop",
    "can you lend me a pound for the machine",
    "the nurse said room three",
    "i have got a dentist appointment tomorrow",
    "how is your mum doing",
    "do you know where the exit is",
    "it was raining when we came in",
    "i must remember to buy bread",
    "the lift is out of order again",
    "what did you have for breakfast",
    "is the gift shop open on sundays",
    "my grandson plays the violin",
    "this magazine is from last year",
    "we should book a taxi home",
    "did you hear about the new road",
    "i can smell coffee somewhere",
    "the heating is on full blast",
    "are you warm enough",
    "my tablets are in my handbag",
    "where is the nearest cash point",
    "i will phone you later",
    "the clock on the wall is slow",
)

Line = tuple[str, str, str]


@dataclass(frozen=True)
class Batch:
    """Which lines are spoken, in which voice (by offset), which again in noise."""

    name: str
    lines: list[Line]
    voice_offset: int
    noisy_from: int
    seed: int


def _line_set(
    commands: Sequence[tuple[str, IntentName]],
    names: Sequence[tuple[str, IntentName, str, str | None]],
    questions: Sequence[tuple[str, frozenset[str]]],
    chatter: Sequence[str],
) -> list[Line]:
    """(kind, what is said, expected) for each line."""
    found: list[Line] = [("command", text, str(name)) for text, name in commands]
    found += [
        ("name", text, " ".join(str(p) for p in (name, topic, section) if p))
        for text, name, topic, section in names
    ]
    found += [("question", text, " ".join(sorted(sections))) for text, sections in questions]
    found += [("chatter", text, str(IntentName.NONE)) for text in chatter]
    return found


def batches() -> list[Batch]:
    """Two spreads of dev_phrasings.py's in-scope lines (every intent) with our chatter."""
    first = _line_set(dev.COMMANDS[::4], dev.NAMES[::4], dev.QUESTIONS[::2], CHATTER)
    second = _line_set(
        dev.COMMANDS[2::4] + dev.FRESH_COMMANDS[::3], dev.NAMES[2::4] + dev.FRESH_NAMES[::2],
        dev.QUESTIONS[1::2] + dev.FRESH_QUESTIONS, SECOND_CHATTER,
    )
    return [Batch(BATCHES[0], first, 0, 0, 20261125), Batch(BATCHES[1], second, 2, 1, 7)]


def _decode(recognizer: Recognizer, samples: np.ndarray) -> Heard:
    """Every decoder's hearing of one utterance, streamed as the live kiosk does."""
    recognizer.stream(samples)
    return recognizer.decoder.finish()


def _rows(library: Library, batch: Batch) -> list[str]:
    """One batch decoded by a fresh Recognizer: the clean lines first, then the noisy ones."""
    recognizer = Recognizer(library)
    rng = np.random.default_rng(batch.seed)
    todo = batch.lines
    clips = [(i, VOICES[(i + batch.voice_offset) % len(VOICES)], False) for i in range(len(todo))]
    # A quarter of the lines again in noise (every fourth, so each voice and kind gets some).
    clips += [
        (i, VOICES[(i + batch.voice_offset + 1) % len(VOICES)], True)
        for i in range(batch.noisy_from, len(todo), 4)
    ]
    # The first utterance sets the decoder's running cepstral mean (the kiosk decodes it twice).
    _decode(recognizer, pad(synthesize(todo[0][1], VOICES[0], RATE)))
    rows: list[str] = []
    for index, voice, noisy in clips:
        kind, text, expected = todo[index]
        samples = pad(synthesize(text, voice, RATE))
        if noisy:
            samples = np.clip(add_noise(samples, SNR_DB, rng), -32768, 32767).astype(np.int16)
        heard = _decode(recognizer, samples)
        answer = recognizer.intent_of(heard)
        kiosk = " ".join(str(p) for p in (answer.name, answer.topic, answer.section) if p)
        warped = tuple((one.text, float(f"{one.confidence:.3g}")) for one in heard.warped)
        clip = Clip(kind, text, expected, voice, noisy, heard.text,
                    float(f"{heard.confidence:.3g}"), warped, kiosk)
        rows.append(clip_row(batch.name, clip) + "\n")
        print(f"{kind:8} {'noisy' if noisy else 'clean'} {text!r} -> {heard.text!r} "
              f"{heard.confidence:.2g} -> {kiosk}", flush=True)
    return rows


def main() -> None:
    if not have_espeak():
        raise SystemExit("espeak-ng is needed")
    library = load_library(Path(__file__).resolve().parents[2] / "content" / "en")
    rows = [row for batch in batches() for row in _rows(library, batch)]
    DATA.write_text("".join(rows), encoding="utf-8")

if __name__ == "__main__":
    main()
