"""Real people's speech, not synthetic: each recogniser's word error rate on the recordings in
Debian's `pocketsphinx-testdata` (BSD): "go forward ten meters", playing cards and LibriVox
sentences, with their transcripts.

A recogniser that does well only on espeak-ng's voices shows it here. pocketsphinx runs with its
general English language model (the kiosk's own is built from the content and would not know
these words), so both recognisers are asked the same thing: the words. pocketsphinx alone is the
baseline, measured in the same run.

    apt-get install pocketsphinx-testdata
    .venv/bin/python -m benchmarks.human_speech
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DATA = Path("/usr/share/pocketsphinx/test/data")


def recordings() -> list[tuple[str, np.ndarray, str]]:
    """(name, 16 kHz mono int16 samples, transcript) for every recording with a transcript."""
    from kiosk.listening.audio import read_wav_file

    found = [("goforward", np.fromfile(DATA / "goforward.raw", dtype="<i2"),
              "go forward ten meters")]
    for folder in ("cards", "librivox"):
        listing = next((DATA / folder).glob("*transcription"))
        for line in listing.read_text(encoding="utf-8").splitlines():
            match = re.match(r"<s>(.*)</s>\s*\((.+)\)", line.strip())
            if match is None:
                continue
            words, name = match.group(1).split(), match.group(2)
            found.append((f"{folder}/{name}", read_wav_file(DATA / folder / f"{name}.wav", 60),
                          " ".join(words)))
    return found


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))


def errors(reference: list[str], hypothesis: list[str]) -> int:
    """Word-level edit distance (substitutions, insertions, deletions)."""
    row = list(range(len(hypothesis) + 1))
    for i, said in enumerate(reference, 1):
        previous, row[0] = row[0], i
        for j, heard in enumerate(hypothesis, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           previous + (said != heard))
    return row[-1]


_NUMBERS = {"10": "ten", "4": "four", "7": "seven", "2": "two", "3": "three", "5": "five",
            "6": "six", "8": "eight", "9": "nine", "1": "one"}


def main() -> int:
    if not DATA.is_dir():
        print("pocketsphinx-testdata is not installed: apt-get install pocketsphinx-testdata",
              file=sys.stderr)
        return 2
    from pocketsphinx import Decoder

    from kiosk.listening.neural import NeuralRecognizer

    data = recordings()
    pocketsphinx = Decoder(loglevel="FATAL")
    whisper = NeuralRecognizer()
    whisper.wait_ready()
    totals: dict[str, list[float]] = {"pocketsphinx": [0, 0, 0.0], "whisper tiny.en": [0, 0, 0.0]}
    try:
        for name, samples, transcript in data:
            reference = words(transcript)
            started = time.perf_counter()
            pocketsphinx.start_utt()
            pocketsphinx.process_raw(samples.astype("<i2").tobytes(), False, True)
            pocketsphinx.end_utt()
            hyp = pocketsphinx.hyp()
            heard_ps = hyp.hypstr if hyp is not None else ""
            ps_ms = (time.perf_counter() - started) * 1000
            answer = whisper.transcribe(samples.astype("<i2").tobytes(), timeout_s=30)
            heard_w = answer.text if answer is not None else ""
            # Whisper writes numbers as digits; the transcripts spell them.
            spelled = [_NUMBERS.get(word, word) for word in words(heard_w)]
            for system, heard, ms in (("pocketsphinx", words(heard_ps), ps_ms),
                                      ("whisper tiny.en", spelled,
                                       answer.ms if answer is not None else 0.0)):
                wrong = errors(reference, heard)
                totals[system][0] += wrong
                totals[system][1] += len(reference)
                totals[system][2] += ms
                print(f"{system:<16} {name:<52} {wrong:>2}/{len(reference):<3} {' '.join(heard)}")
    finally:
        whisper.close()
    print()
    for system, (mistakes, count, total_ms) in totals.items():
        print(f"{system:<16} word error rate {mistakes:.0f}/{count:.0f} = {mistakes / count:.1%}, "
              f"{total_ms / len(data):.0f} ms a recording on average ({len(data)} recordings)")
    base = totals["pocketsphinx"][0] / totals["pocketsphinx"][1]
    ours = totals["whisper tiny.en"][0] / totals["whisper tiny.en"][1]
    print(f"whisper tiny.en / pocketsphinx: word errors x{ours / max(base, 1e-9):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
