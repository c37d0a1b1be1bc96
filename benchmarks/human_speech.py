"""Real people's speech, not synthetic: each recogniser's word error rate on two corpora.

- Debian's `pocketsphinx-testdata` (BSD): "go forward ten meters", playing cards and LibriVox
  sentences, with their transcripts.
- Debian's `asterisk-core-sounds-en-wav` (CC-BY-SA, Allison Smith): short telephone prompts
  ("Please enter your password followed by the pound key."), recorded at 8 kHz and resampled to
  16 kHz here. Their transcripts come in `asterisk-core-sounds-en`, in core-sounds-en.txt.gz.

A recogniser that does well only on espeak-ng's voices shows it here. pocketsphinx runs with its
general English language model (the kiosk's own is built from the content and would not know
these words), so both recognisers are asked the same thing: the words. pocketsphinx alone is the
baseline, measured in the same run. Times are what the caller waits for a whole recording
(for Whisper, in its own process, with the pipe there and back).

    apt-get install pocketsphinx-testdata asterisk-core-sounds-en-wav asterisk-core-sounds-en
    .venv/bin/python -m benchmarks.human_speech          # --each: every clip's words too
"""

from __future__ import annotations

import argparse
import gzip
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = Path("/usr/share/pocketsphinx/test/data")
# The -wav package installs the voice's own folder; `en` is an alternatives link that another
# voice's package may take over, and the transcripts are of this voice.
SOUNDS = (Path("/usr/share/asterisk/sounds/en_US_f_Allison"),
          Path("/usr/share/asterisk/sounds/en"))
# Upstream ships the list beside the sounds; Debian moves it into asterisk-core-sounds-en's docs.
DEBIAN_PROMPT_LIST = Path("/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz")
#: Longest prompt kept, in seconds: the kiosk hears short requests, not IVR menus.
LONGEST_PROMPT_S = 5.0
#: Most prompts measured; more would add run time, not information.
MOST_PROMPTS = 200

Clip = tuple[str, np.ndarray, str]


def testdata() -> list[Clip]:
    """(name, 16 kHz mono int16 samples, transcript) for every recording with a transcript."""
    from kiosk.listening.audio import read_wav_file

    if not DATA.is_dir():
        raise FileNotFoundError("apt-get install pocketsphinx-testdata")
    found = [("goforward", np.fromfile(DATA / "goforward.raw", dtype="<i2"),
              "go forward ten meters")]
    for folder in ("cards", "librivox"):
        listing = next((DATA / folder).glob("*transcription"))
        for line in listing.read_text(encoding="utf-8").splitlines():
            match = re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip())
            if match is None:
                continue
            said, name = match.group(1).split(), match.group(2)
            found.append((f"{folder}/{name}", read_wav_file(DATA / folder / f"{name}.wav", 60),
                          " ".join(said)))
    return found


def spoken(transcript: str) -> str | None:
    """The words said in a prompt's transcript, or None if they cannot be scored as words.

    Notes in brackets ("[ascending tones]", "(simple tone sound plays)", "at [@]") are not
    speech. A lone digit is said as its name ("press 1"); longer numbers ("dial 1234", "28.8")
    and symbols ("press *") have several spoken forms, so those prompts are left out.
    """
    said = re.sub(r"\[[^]]*\]|\([^)]*\)|<[^>]*>", " ", transcript).strip()
    if not re.search(r"[A-Za-z0-9]", said) or re.search(r"[^A-Za-z0-9 ,.?!'\";:-]", said):
        return None
    if re.search(r"\d[\d.]*\d|\d[A-Za-z]|[A-Za-z.]\d", said):
        return None
    return said


def asterisk_prompts() -> list[Clip]:
    """Every spoken prompt of at most LONGEST_PROMPT_S, at most MOST_PROMPTS of them spread
    evenly over the names in sorted order (chosen before anything is recognised)."""
    from kiosk.listening.audio import AudioError, read_wav_file

    folder = next((path for path in SOUNDS if path.is_dir()), None)
    lists = (DEBIAN_PROMPT_LIST,) if folder is None else (folder / "core-sounds-en.txt",
                                                           DEBIAN_PROMPT_LIST)
    listing = next((path for path in lists if path.is_file()), None)
    if folder is None or listing is None:
        raise FileNotFoundError("apt-get install asterisk-core-sounds-en-wav "
                                "asterisk-core-sounds-en (the transcripts are in the latter)")
    data = listing.read_bytes()
    text = (gzip.decompress(data) if listing.suffix == ".gz" else data).decode("utf-8")
    prompts = dict(line.split(":", 1) for line in text.splitlines()
                   if ":" in line and not line.startswith(";"))
    eligible: list[Clip] = []
    for name in sorted(prompts, key=str.strip):
        said = spoken(prompts[name])
        path = folder / f"{name.strip()}.wav"
        if said is None or not path.is_file():
            continue
        try:
            samples = read_wav_file(path, LONGEST_PROMPT_S)
        except AudioError:  # longer than LONGEST_PROMPT_S
            continue
        eligible.append((name.strip(), samples, said))
    if len(eligible) <= MOST_PROMPTS:
        return eligible
    return [eligible[i * len(eligible) // MOST_PROMPTS] for i in range(MOST_PROMPTS)]


_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth",
             "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}
# Written forms the transcripts spell out.
_SAME = {"mr": "mister", "mrs": "missus"}


def spelled(number: int) -> list[str]:
    """An integer in words ("1234" -> one thousand two hundred thirty four)."""
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        return [_TENS[number // 10]] + ([_ONES[number % 10]] if number % 10 else [])
    for size, name in ((10**9, "billion"), (10**6, "million"), (1000, "thousand"),
                       (100, "hundred")):
        if number >= size:
            rest = number % size
            return spelled(number // size) + [name] + (spelled(rest) if rest else [])
    raise AssertionError(number)


def words(text: str) -> list[str]:
    """Lower-case words with numbers spelled out: Whisper writes "10" and "1st", the
    transcripts "ten" and "first" (and the prompts "press 1", said "press one")."""
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text.lower().replace("-", " "))
    found: list[str] = []
    for token in re.findall(r"[a-z0-9']+", text):
        token = token.strip("'")
        number = re.fullmatch(r"(\d{1,12})(st|nd|rd|th)?", token)
        if number is None:
            found += [_SAME.get(token, token)] if token else []
            continue
        said = spelled(int(number.group(1)))
        if number.group(2):
            last = said[-1]
            said[-1] = _ORDINALS.get(last) or (last[:-1] + "ieth" if last.endswith("y")
                                               else last + "th")
        found += said
    return found


def errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, said in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (said != heard))
    return row[-1]


@dataclass
class Tally:
    """One recogniser's figures on one corpus."""

    errors: int = 0
    words: int = 0
    failures: int = 0
    ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.errors / max(self.words, 1)


CORPORA: tuple[tuple[str, Callable[[], list[Clip]]], ...] = (
    ("pocketsphinx-testdata", testdata),
    ("asterisk core sounds", asterisk_prompts),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--each", action="store_true", help="print every clip's words")
    args = parser.parse_args()

    corpora: list[tuple[str, list[Clip]]] = []
    for corpus, load in CORPORA:
        try:
            corpora.append((corpus, load()))
        except FileNotFoundError as missing:
            print(f"{corpus} is not installed, left out: {missing}", file=sys.stderr)
    if not corpora:
        return 2
    from pocketsphinx import Decoder
    from speech_recognition import AudioData

    from kiosk.listening.neural import NeuralRecognizer

    pocketsphinx = Decoder(loglevel="FATAL")
    whisper = NeuralRecognizer()
    whisper.wait_ready()
    systems = ("pocketsphinx", "whisper tiny.en")
    results: list[tuple[str, list[Clip], dict[str, Tally]]] = []
    try:
        # The first inference pays for setting up; a kiosk has done that before anyone speaks.
        whisper.transcribe(AudioData(bytes(32_000), 16_000, 2), timeout_s=30)
        for corpus, clips in corpora:
            tallies = {system: Tally() for system in systems}
            results.append((corpus, clips, tallies))
            for name, samples, transcript in clips:
                reference = words(transcript)
                pcm = samples.astype("<i2").tobytes()
                started = time.perf_counter()
                pocketsphinx.start_utt()
                pocketsphinx.process_raw(pcm, False, True)
                pocketsphinx.end_utt()
                hyp = pocketsphinx.hyp()
                heard_ps = hyp.hypstr if hyp is not None else ""
                ps_ms = (time.perf_counter() - started) * 1000
                started = time.perf_counter()
                answer = whisper.transcribe(AudioData(pcm, 16_000, 2), timeout_s=30)
                whisper_ms = (time.perf_counter() - started) * 1000
                heard_w = answer.text if answer is not None else ""
                tallies["whisper tiny.en"].failures += answer is None
                for system, heard, ms in (("pocketsphinx", words(heard_ps), ps_ms),
                                          ("whisper tiny.en", words(heard_w), whisper_ms)):
                    wrong = errors(reference, heard)
                    tally = tallies[system]
                    tally.errors += wrong
                    tally.words += len(reference)
                    tally.ms.append(ms)
                    if args.each:
                        print(f"{system:<16} {name:<52} {wrong:>2}/{len(reference):<3} "
                              f"{' '.join(heard)}")
    finally:
        whisper.close()
    for corpus, clips, tallies in results:
        print(f"\n{corpus}: {len(clips)} clips, {tallies['pocketsphinx'].words} words")
        base = tallies["pocketsphinx"].rate
        for system, tally in tallies.items():
            ratio = (f", x{tally.rate / base:.2f} pocketsphinx's errors"
                     if base and system != systems[0] else "")
            failed = f", no answer {tally.failures} times" if tally.failures else ""
            print(f"  {system:<16} WER {tally.rate:6.1%} ({tally.errors}/{tally.words} words"
                  f"{ratio}); {np.percentile(tally.ms, 50):5.0f} ms p50, "
                  f"{np.percentile(tally.ms, 95):5.0f} ms p95 an utterance{failed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
