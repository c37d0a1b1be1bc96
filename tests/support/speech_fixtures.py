"""Speech fixtures made at test time with espeak-ng: every intent, several voices, rates and noise.

The phrasings here are the MEASUREMENT set. They were written separately from the phrasings the
understanding uses (content/en/commands.toml and the topics' aliases) and must stay different:
`test_fixture_phrasings_are_unseen` checks that none of them is word for word a phrasing or alias
the kiosk was written with. Do not copy a failing fixture into commands.toml; fix the cause.

Audio stays in memory (16 kHz mono int16 arrays); nothing is written to disk.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kiosk.listening.audio import RATE, read_wav

#: (text, intent, topic, section). Slots are None where the intent has none or they are not judged.
PHRASINGS: tuple[tuple[str, str, str | None, str | None], ...] = (
    # next
    ("next section please", "next", None, None),
    ("okay go on to the next bit", "next", None, None),
    ("can we move on please", "next", None, None),
    ("skip to the next one", "next", None, None),
    # previous
    ("go back one please", "previous", None, None),
    ("take me back to the previous part", "previous", None, None),
    ("back to the last section", "previous", None, None),
    ("could we go back", "previous", None, None),
    # repeat
    ("can you repeat that please", "repeat", None, None),
    ("say it again", "repeat", None, None),
    ("sorry i missed that", "repeat", None, None),
    ("read the last sentence again", "repeat", None, None),
    # pause
    ("pause it please", "pause", None, None),
    ("hold on a second", "pause", None, None),
    ("wait a minute", "pause", None, None),
    # resume
    ("please continue", "resume", None, None),
    ("carry on reading", "resume", None, None),
    ("okay keep going with it", "resume", None, None),
    ("resume reading please", "resume", None, None),
    # stop
    ("stop now please", "stop", None, None),
    ("okay stop talking", "stop", None, None),
    ("that's enough thank you", "stop", None, None),
    # home
    ("take me home", "home", None, None),
    ("go to the main menu", "home", None, None),
    ("start from the beginning", "home", None, None),
    ("back to the home screen please", "home", None, None),
    # help
    ("i need some help", "help", None, None),
    ("what am i supposed to say", "help", None, None),
    ("how do i use this thing", "help", None, None),
    ("what can i ask you", "help", None, None),
    # slower
    ("please slow down", "slower", None, None),
    ("could you talk more slowly", "slower", None, None),
    ("you are speaking too fast", "slower", None, None),
    # faster
    ("can you go faster", "faster", None, None),
    ("speed it up please", "faster", None, None),
    ("you're talking too slowly", "faster", None, None),
    # louder
    ("please speak louder", "louder", None, None),
    ("i can't hear you very well", "louder", None, None),
    ("turn the volume up please", "louder", None, None),
    ("could you be a bit louder", "louder", None, None),
    # quieter
    ("that's a bit too loud", "quieter", None, None),
    ("please turn it down a bit", "quieter", None, None),
    ("can you be quieter", "quieter", None, None),
    ("lower the sound please", "quieter", None, None),
    # topic
    ("i'd like to hear about breast calcifications", "topic", "calcifications", None),
    ("tell me about getting a second opinion", "topic", "second-opinions", None),
    ("second opinions please", "topic", "second-opinions", None),
    ("information about calcifications", "topic", "calcifications", None),
    # section
    ("read me the section about insurance", "section", "second-opinions", "insurance"),
    ("the section on symptoms", "section", "calcifications", "symptoms"),
    ("open biopsy and monitoring", "section", "calcifications", "biopsy-and-monitoring"),
    ("follow up visits please", "section", "calcifications", "follow-up"),
    ("your appointment", "section", "second-opinions", "your-appointment"),
    # ask
    ("what are microcalcifications", "ask", "calcifications", "two-types"),
    ("will my insurance cover a second opinion", "ask", "second-opinions", "insurance"),
    ("what causes breast calcifications", "ask", "calcifications", "causes"),
    ("are calcifications a sign of cancer", "ask", "calcifications", "benign-or-cancer"),
    ("can i get a second opinion before my biopsy", "ask", "second-opinions", "around-a-biopsy"),
    ("how often should i repeat my mammogram", "ask", "calcifications", "biopsy-and-monitoring"),
)

#: Chatter that is not for the kiosk: every one must come out `none`.
CHATTER: tuple[str, ...] = (
    "where did i leave my car keys",
    "is the cafeteria open at lunchtime",
    "my son is coming to pick me up",
    "it is really cold outside today",
    "have you seen my reading glasses",
    "what did the nurse say to you",
    "i think it's going to snow later",
    "the magazines here are very old",
    "do you know what time the pharmacy closes",
    "we had pizza for dinner last night",
    "my phone needs charging",
    "i wonder how long they will be",
)

#: Voices for tests (4) and for the benchmark (all 6); voices differ in accent, sex and synthesis.
TEST_VOICES = ("en-us+klatt", "en-us+klatt4", "en-us+f5", "en-gb-x-rp+klatt")
BENCHMARK_VOICES = (*TEST_VOICES, "en-us+klatt2", "en-us+f2")
#: espeak-ng voices pocketsphinx hears badly (reported separately by the benchmark, see docs).
HARD_VOICES = ("en-us", "en-gb-scotland+m3", "en-029+f2")
RATES = (130, 170)
SNR_DB = 10.0


@dataclass(frozen=True, slots=True)
class Clip:
    """One spoken fixture: its audio (16 kHz mono int16) and what it should be understood as."""

    text: str
    intent: str
    topic: str | None
    section: str | None
    voice: str
    rate: int
    noisy: bool
    samples: np.ndarray

    @property
    def label(self) -> str:
        noise = f"{SNR_DB:g}dB" if self.noisy else "clean"
        return f"{self.intent}:{self.text!r}:{self.voice}:{self.rate}:{noise}"


def have_espeak() -> bool:
    return shutil.which("espeak-ng") is not None


def synthesize(text: str, voice: str = "en-us", rate: int = 150) -> np.ndarray:
    """Speak `text` with espeak-ng into memory, as 16 kHz mono int16."""
    result = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(rate), "--stdout", text],
        capture_output=True, check=True, timeout=30,
    )
    return read_wav(result.stdout)


def pink_noise(length: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f) noise, like a room's hum and murmur more than white hiss is."""
    spectrum = np.fft.rfft(rng.standard_normal(length))
    freqs = np.fft.rfftfreq(length, d=1 / RATE)
    spectrum[1:] /= np.sqrt(freqs[1:])
    spectrum[0] = 0
    noise = np.fft.irfft(spectrum, n=length)
    return noise / (np.std(noise) + 1e-12)


def pad(samples: np.ndarray, seconds: float = 0.3) -> np.ndarray:
    """Silence before and after, as a microphone would hear around an utterance."""
    gap = np.zeros(int(RATE * seconds), dtype=np.int16)
    return np.concatenate([gap, samples, gap])


def add_noise(samples: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Mix pink noise at `snr_db` relative to the speech's power (the loud part only)."""
    speech = samples.astype(np.float64)
    active = speech[np.abs(speech) > 0.05 * np.abs(speech).max()] if speech.any() else speech
    power = float(np.mean(active**2)) if active.size else 1.0
    noise = pink_noise(speech.size, rng) * np.sqrt(power / 10 ** (snr_db / 10))
    mixed: np.ndarray = np.clip(np.round(speech + noise), -32768, 32767).astype(np.int16)
    return mixed


def clips(
    items: Sequence[tuple[str, str, str | None, str | None]],
    voices: Sequence[str],
    rates: Sequence[int] = RATES,
    noisy: Sequence[bool] = (False, True),
    voices_per_item: int | None = None,
    seed: int = 4,
) -> Iterator[Clip]:
    """Every item in every condition; `voices_per_item` rotates through voices to keep sets small.

    Clips come grouped by condition (all clean ones, then all noisy ones), as a kiosk hears a
    run of visitors in one room: the decoder adapts to the room between utterances (live CMN),
    so alternating clean and noisy clips would measure a room that changes every few seconds.
    """
    rng = np.random.default_rng(seed)
    spoken: list[tuple[tuple[str, str, str | None, str | None], str, int, np.ndarray]] = []
    for index, item in enumerate(items):
        chosen = list(voices)
        if voices_per_item is not None:
            chosen = [voices[(index + k) % len(voices)] for k in range(voices_per_item)]
        for voice in chosen:
            for rate in rates:
                spoken.append((item, voice, rate, pad(synthesize(item[0], voice, rate))))
    for with_noise in noisy:
        for (text, intent, topic, section), voice, rate, clean in spoken:
            audio = add_noise(clean, SNR_DB, rng) if with_noise else clean
            yield Clip(text, intent, topic, section, voice, rate, with_noise, audio)


def chatter_items() -> list[tuple[str, str, str | None, str | None]]:
    return [(text, "none", None, None) for text in CHATTER]


def is_correct(clip: Clip, intent: str, topic: str | None, section: str | None) -> bool:
    """Right intent, and the right topic/section where the fixture names them."""
    if intent != clip.intent:
        return False
    if clip.topic is not None and topic != clip.topic:
        return False
    return clip.section is None or section == clip.section


def hour_long_wav(path: Path) -> Path:
    """A WAV file whose header declares an hour of 16 kHz mono 16-bit audio: 115 MB of zeros,
    written as a sparse file (nothing but the header takes disk space)."""
    size = 16_000 * 2 * 3600
    fmt = struct.pack("<HHIIHH", 1, 1, 16_000, 32_000, 2, 16)
    with path.open("wb") as file:
        file.write(b"RIFF" + struct.pack("<I", 36 + size) + b"WAVE")
        file.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size))
        file.truncate(44 + size)
    return path
