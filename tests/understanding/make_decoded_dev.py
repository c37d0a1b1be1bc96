"""Regenerate tests/understanding/decoded_dev.py: what the recogniser hears of spoken dev lines.

Each line (chatter of our own, and in-scope lines from dev_phrasings.py) is spoken by espeak-ng in
one of four voices at 150 wpm, a quarter of them also with pink noise at 10 dB, and decoded by one
long-lived Recognizer the way the kiosk streams it (denoised, 30 ms pieces). The words each decoder
heard and their lattice posteriors are kept, with the kiosk's answer at the time; no audio is
written anywhere. It takes a few minutes:
    nice .venv/bin/python -m tests.understanding.make_decoded_dev
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kiosk.intents import IntentName
from kiosk.library import load_library
from kiosk.listening.decoder import Heard
from kiosk.listening.denoise import Denoiser
from kiosk.listening.recognizer import STREAM_CHUNK, Recognizer
from tests.support.speech_fixtures import add_noise, have_espeak, pad, synthesize
from tests.understanding import dev_phrasings as dev

VOICES = ("en-us+klatt3", "en-us+f3", "en-us+m3", "en-gb-x-rp+f5")
RATE = 150
SNR_DB = 10.0
OUT = Path(__file__).with_name("decoded_dev.py")
ROWS_START = "CLIPS: tuple[Clip, ...] = (\n"

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


def lines() -> list[tuple[str, str, str]]:
    """(kind, what is said, expected) for every line: a spread of dev_phrasings.py's in-scope
    lines (every intent) and the chatter above."""
    found: list[tuple[str, str, str]] = []
    found += [("command", text, str(name)) for text, name in dev.COMMANDS[::4]]
    found += [
        ("name", text, " ".join(str(p) for p in (name, topic, section) if p))
        for text, name, topic, section in dev.NAMES[::4]
    ]
    found += [("question", text, " ".join(sorted(sections))) for text, sections in dev.QUESTIONS[::2]]
    found += [("chatter", text, str(IntentName.NONE)) for text in CHATTER]
    return found


def _decode(recognizer: Recognizer, samples: np.ndarray) -> Heard:
    """Every decoder's hearing of one utterance, streamed as the live kiosk does."""
    pcm = Denoiser().process(np.asarray(samples, dtype="<i2").tobytes())
    recognizer.begin()
    for start in range(0, len(pcm), STREAM_CHUNK):
        recognizer.feed(pcm[start : start + STREAM_CHUNK])
    return recognizer.decoder.finish()


def main() -> None:
    if not have_espeak():
        raise SystemExit("espeak-ng is needed")
    library = load_library(Path(__file__).resolve().parents[2] / "content" / "en")
    recognizer = Recognizer(library)
    rng = np.random.default_rng(20261125)
    todo = lines()
    clips: list[tuple[int, str, bool]] = [(i, VOICES[i % len(VOICES)], False) for i in range(len(todo))]
    # A quarter of the lines again in noise (every fourth, so each voice and kind gets some).
    clips += [(i, VOICES[(i + 1) % len(VOICES)], True) for i in range(0, len(todo), 4)]
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
        rows.append(
            f"    Clip({kind!r}, {text!r}, {expected!r}, {voice!r}, {noisy!r},\n"
            f"         {heard.text!r}, {float(f'{heard.confidence:.3g}')!r},\n"
            f"         {warped!r},\n"
            f"         {kiosk!r}),\n"
        )
        print(f"{kind:8} {'noisy' if noisy else 'clean'} {text!r} -> {heard.text!r} "
              f"{heard.confidence:.2g} -> {kiosk}", flush=True)
    # The file's own header (docstring and the Clip type) is kept; only its rows are remade.
    old = OUT.read_text(encoding="utf-8")
    header = old[: old.index(ROWS_START) + len(ROWS_START)]
    OUT.write_text(header + "".join(rows) + ")\n", encoding="utf-8")




if __name__ == "__main__":
    main()
