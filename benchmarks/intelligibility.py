"""How well each voice is understood: an independent recogniser transcribes the kiosk's speech.

Run: .venv/bin/python benchmarks/intelligibility.py [--rates 130,150,170] [--limit N]

Every content sentence and every section title is rendered by each voice through the kiosk's own
renderer (`build_renderer`: the same lexicon respellings, the rate in words per minute), once
with espeak-ng through pyttsx3 and once with Piper (the joe voice, the default), at the kiosk's
default rate unless `--rates` names others (issue 16 item 3: choosing the default rate).

The listener is Moonshine base-en from `moonshine-cpp` (a test extra): never Whisper tiny.en,
which the kiosk's own listening uses, so the kiosk is not judged by the ear it was tuned with.
Printed side by side for the two voices, with issue 16's targets: word error rate (errors/words),
domain words heard right, every meaning-changing error (macro heard as micro or the reverse, a
negation dropped or added, a number changed), and synthesis time per sentence (uncached: what a
visitor waits for before the first sound of a sentence that is not pre-rendered).

A compound the listener writes as two words ("non-cancerous", "micro calcifications") counts as
the one word the content spells ("noncancerous"), and the joins are printed; nothing else is
forgiven (a plural, a split into words the text does not have).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import importlib.metadata
import itertools
import multiprocessing
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.config import BUNDLED_CONTENT, Settings  # noqa: E402
from kiosk.content_parser import load_library  # noqa: E402
from kiosk.library import Library  # noqa: E402
from kiosk.speech.render import Renderer, build_renderer  # noqa: E402

#: Moonshine's models take 16 kHz mono float samples.
LISTENER_RATE = 16_000
#: Moonshine-cpp 0.1.4 keeps about 17 MB per second of audio after every call (measured here:
#: +171 MB for each 10 s clip after a first call that takes 555 MB, freed only when the process
#: ends), so its process is replaced once it holds this much.
LISTENER_RSS_LIMIT_MB = 2000
LISTENER_TIMEOUT_S = 120.0
#: Words that issue 16 names besides the lexicon's.
EXTRA_DOMAIN_WORDS = frozenset({
    "macrocalcification", "macrocalcifications", "microcalcification", "microcalcifications",
    "biopsied", "noncancerous", "fibroadenoma", "radiologist",
})
#: Issue 16's "Done when": (most word errors, least domain recall) per voice.
TARGETS = {"espeak-ng": (0.15, None), "Piper": (0.08, 0.90)}

_ONES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
#: "one" is left out: the content uses it as a pronoun ("no one", "get one").
NUMBER_WORDS = frozenset((*_ONES[:1], *_ONES[2:], *_TENS[2:], "hundred", "thousand"))
NEGATIONS = frozenset({"not", "no", "never", "cannot", "nor", "none", "nothing"})


def spell(number: int) -> str:
    """0..999 in words (the content's numbers are small); larger ones stay digits."""
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    if number < 1000:
        hundreds, rest = divmod(number, 100)
        return f"{_ONES[hundreds]} hundred" + (f" {spell(rest)}" if rest else "")
    return str(number)


def normalise(text: str) -> list[str]:
    """Words as compared: lower case, straight apostrophes, digits spelled out, no punctuation.

    Both sides go through this, so "6" and "six" match, and "follow-up" is "follow up".
    """
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\d+", lambda match: f" {spell(int(match.group(0)))} ", text)
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)*", text)


def join_split_compounds(ref: Sequence[str], hyp: Sequence[str]) -> tuple[list[str], int]:
    """`hyp` with two heard words joined where the text has them as one word, and how many.

    The listener writes "non-cancerous" and "micro calcifications" for words the content spells
    "noncancerous" and "microcalcifications": heard right, spelt apart. Joined only where the
    joined word is in the text and the pair is not (so "may be" never becomes "maybe").
    """
    whole = set(ref)
    pairs = set(itertools.pairwise(ref))
    joined: list[str] = []
    count = 0
    index = 0
    while index < len(hyp):
        if index + 1 < len(hyp):
            pair = (hyp[index], hyp[index + 1])
            if pair[0] + pair[1] in whole and pair not in pairs:
                joined.append(pair[0] + pair[1])
                count += 1
                index += 2
                continue
        joined.append(hyp[index])
        index += 1
    return joined, count


def align(ref: Sequence[str], hyp: Sequence[str]) -> tuple[int, list[bool]]:
    """Word edit distance, and for each reference word whether it was heard as itself."""
    rows, cols = len(ref) + 1, len(hyp) + 1
    cost = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        cost[i][0] = i
    for j in range(cols):
        cost[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            same = ref[i - 1] == hyp[j - 1]
            cost[i][j] = min(cost[i - 1][j - 1] + (0 if same else 1),
                             cost[i - 1][j] + 1, cost[i][j - 1] + 1)
    heard = [False] * len(ref)
    i, j = len(ref), len(hyp)
    while i > 0 and j > 0:
        same = ref[i - 1] == hyp[j - 1]
        if cost[i][j] == cost[i - 1][j - 1] + (0 if same else 1):
            heard[i - 1] = same
            i, j = i - 1, j - 1
        elif cost[i][j] == cost[i - 1][j] + 1:
            i -= 1
        else:
            j -= 1
    return cost[-1][-1], heard


def meaning_changes(ref: Sequence[str], hyp: Sequence[str]) -> list[str]:
    """What the listener heard that changes the medical meaning, as short labels."""
    said, got = " ".join(ref), " ".join(hyp)
    # Counted in the joined text, so "micro calcifications" heard in two words still counts.
    changes = []
    if got.count("micro") > said.count("micro"):
        changes.append("micro heard for macro" if said.count("macro") > got.count("macro")
                       else "micro heard, not said")
    if got.count("macro") > said.count("macro"):
        changes.append("macro heard for micro" if said.count("micro") > got.count("micro")
                       else "macro heard, not said")

    def negations(words: Sequence[str]) -> int:
        return sum(1 for word in words if word in NEGATIONS or word.endswith("n't"))

    if negations(ref) != negations(hyp):
        changes.append("negation " + ("dropped" if negations(ref) > negations(hyp) else "added"))
    if sorted(w for w in ref if w in NUMBER_WORDS) != sorted(w for w in hyp if w in NUMBER_WORDS):
        changes.append("number changed")
    return changes


def content_texts(library: Library) -> list[str]:
    """Every content sentence, then every section title, without repeats."""
    texts = [s.text for section in library.sections() for s in section.sentences]
    texts += [section.title for section in library.sections()]
    return list(dict.fromkeys(text for text in texts if text.strip()))


def domain_words(library: Library) -> frozenset[str]:
    """The lexicon's words that the content uses and everyday English lacks (those it spells out
    for the recogniser with `phones`), and the words issue 16 names. An entry only for how a
    voice says an everyday word ("benign", "aren't") does not make it a domain word, so the set
    stays the one measured before (41 occurrences)."""
    used = {word for text in content_texts(library) for word in normalise(text)}
    return frozenset(word for word, entry in library.lexicon.items()
                     if word in used and entry.phones) | EXTRA_DOMAIN_WORDS


def to_listener_rate(pcm: npt.NDArray[np.int16], rate: int) -> npt.NDArray[np.float32]:
    """Float samples at 16 kHz. Resampled in the frequency domain: band-limited, so the
    22.05 kHz voices do not alias into the band the listener hears (no scipy here)."""
    samples = pcm.astype(np.float64) / 32768.0
    if rate != LISTENER_RATE and len(samples):
        wanted = round(len(samples) * LISTENER_RATE / rate)
        spectrum = np.fft.rfft(samples)[: wanted // 2 + 1]
        samples = np.fft.irfft(spectrum, wanted) * (wanted / len(samples))
    # Half a second of silence after the speech, as a visitor's pause would give: the renderer
    # caps the tail, and a recogniser may lose a last word that ends at the very last sample.
    return np.concatenate([samples, np.zeros(LISTENER_RATE // 2)]).astype(np.float32)


def _listener_main(connection: Connection) -> None:
    """The listener's process: load Moonshine base-en, then transcribe each array it is sent.

    The package's own numpy entry point is broken in 0.1.4 (it calls ctypes.c_float_p, which does
    not exist), so its C function is called directly with a pointer into the array: the kiosk's
    synthesised speech never has to be written to a file.
    """
    import moonshine_cpp
    import psutil

    process = psutil.Process()
    model = moonshine_cpp.MoonshineModel()  # base-en, shipped inside the wheel
    lib = moonshine_cpp.moonshine_lib
    connection.send(("ready", process.memory_info().rss))
    while True:
        try:
            audio = connection.recv()
        except EOFError:
            return
        if audio is None:
            return
        samples = np.ascontiguousarray(audio, dtype=np.float32)
        text = ctypes.c_char_p(0)
        error = lib.moonshine_transcribe(
            model.model_handle, samples.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            samples.size, ctypes.byref(text))
        heard = (text.value or b"").decode("utf-8", "replace") if error == 0 else None
        if text.value is not None:
            lib.moonshine_free_text(text)
        connection.send((heard if heard is not None else f"!error {error}",
                         process.memory_info().rss))


class Listener:
    """Moonshine in a child process, replaced when its memory passes the limit."""

    def __init__(self, rss_limit_mb: int = LISTENER_RSS_LIMIT_MB) -> None:
        self.rss_limit = rss_limit_mb * 1024 * 1024
        self._context = multiprocessing.get_context("spawn")  # no fork of onnxruntime threads
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._rss = 0
        self.restarts = 0
        self.calls = 0
        self.peak_rss = 0
        self.grown = 0  # bytes kept by calls after a process's first (which sets up), summed
        self.grown_audio_s = 0.0
        self._first = True
        self.audio_s = 0.0
        self.busy_s = 0.0

    def _start(self) -> Connection:
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_listener_main, args=(child,), daemon=True)
        process.start()
        child.close()
        if not parent.poll(LISTENER_TIMEOUT_S):
            process.kill()
            raise RuntimeError("Moonshine did not load")
        _, self._rss = parent.recv()
        self._process, self._connection = process, parent
        self._first = True
        return parent

    def transcribe(self, audio: npt.NDArray[np.float32]) -> str:
        connection = self._connection or self._start()
        began = time.monotonic()
        connection.send(audio)
        if not connection.poll(LISTENER_TIMEOUT_S):
            self.close()
            raise RuntimeError("Moonshine did not answer")
        heard, rss = connection.recv()
        self.busy_s += time.monotonic() - began
        self.calls += 1
        self.audio_s += len(audio) / LISTENER_RATE
        if not self._first:
            self.grown += max(0, rss - self._rss)
            self.grown_audio_s += len(audio) / LISTENER_RATE
        self._first = False
        self._rss = rss
        self.peak_rss = max(self.peak_rss, rss)
        if rss > self.rss_limit:
            self.close()
            self.restarts += 1
        if str(heard).startswith("!error"):
            raise RuntimeError(f"Moonshine failed: {heard}")
        return str(heard)

    def close(self) -> None:
        connection, process = self._connection, self._process
        self._connection = self._process = None
        if connection is not None:
            with contextlib.suppress(BrokenPipeError, OSError):
                connection.send(None)
            connection.close()
        if process is not None:
            process.join(5)
            if process.is_alive():
                process.kill()
                process.join(5)


@dataclass
class Score:
    """One voice at one rate: what was said, what was heard, and how long synthesis took."""

    voice: str
    rate: int
    errors: int = 0
    words: int = 0
    domain: int = 0
    domain_heard: int = 0
    #: (domain word, the content text, what the listener wrote) for each miss.
    misheard: list[tuple[str, str, str]] = field(default_factory=list)
    changes: list[tuple[str, str, str]] = field(default_factory=list)
    synth_s: list[float] = field(default_factory=list)
    joined: int = 0  # compounds heard as two words ("non cancerous") and counted as one

    def add(self, text: str, heard: str, domain: frozenset[str]) -> None:
        ref = normalise(text)
        hyp, joined = join_split_compounds(ref, normalise(heard))
        self.joined += joined
        errors, right = align(ref, hyp)
        self.errors += errors
        self.words += len(ref)
        for word, ok in zip(ref, right, strict=True):
            if word in domain:
                self.domain += 1
                self.domain_heard += ok
                if not ok:
                    self.misheard.append((word, text, heard.strip()))
        for change in meaning_changes(ref, hyp):
            self.changes.append((change, text, heard.strip()))

    @property
    def missed(self) -> Counter[str]:
        """How often each domain word was missed."""
        return Counter(word for word, _, _ in self.misheard)

    @property
    def wer(self) -> float:
        return self.errors / max(self.words, 1)

    @property
    def recall(self) -> float:
        return self.domain_heard / max(self.domain, 1)


def measure(renderer: Renderer, label: str, rates: Sequence[int], texts: Sequence[str],
            listener: Listener, domain: frozenset[str]) -> list[Score]:
    """Render every text at every rate with one voice, and score what the listener heard."""
    scores = []
    for rate in rates:
        score = Score(label, rate)
        for text in texts:
            began = time.monotonic()
            rendering = renderer.render(text, rate)  # uncached: each (text, rate) is new
            score.synth_s.append(time.monotonic() - began)
            heard = listener.transcribe(to_listener_rate(rendering.pcm, rendering.rate))
            score.add(text, heard, domain)
        scores.append(score)
    return scores


def open_voice(settings: Settings, library: Library, synthesizer: str) -> Renderer:
    """The kiosk's renderer for one synthesiser, started; refuses a Piper that fell back."""
    renderer = build_renderer(replace(settings, synthesizer=synthesizer), library)
    renderer.warm_up()  # the worker's start-up is not a sentence's synthesis time
    reason = getattr(renderer.synthesizer, "fallback_reason", "")
    if reason:
        renderer.close()
        raise SystemExit(f"Piper is not speaking ({reason}); nothing to compare")
    return renderer


def report(pairs: Sequence[tuple[Score, Score]], texts: int, listener: Listener) -> None:
    """Print the two voices side by side for each rate, then every meaning-changing error."""
    def pct(part: int, whole: int) -> str:
        return f"{100 * part / max(whole, 1):.1f}% ({part}/{whole})"

    def mean_ms(score: Score) -> float:
        return 1000 * statistics.fmean(score.synth_s)

    def p95_ms(score: Score) -> float:
        ordered = sorted(score.synth_s)
        return 1000 * ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]

    for espeak, piper in pairs:
        print(f"\nrate {espeak.rate} wpm{'':21}{'espeak-ng':>22}{'Piper joe':>22}")
        rows = [
            ("word error rate (errors/words)", pct(espeak.errors, espeak.words),
             pct(piper.errors, piper.words)),
            ("domain words heard right", pct(espeak.domain_heard, espeak.domain),
             pct(piper.domain_heard, piper.domain)),
            ("meaning-changing errors", str(len(espeak.changes)), str(len(piper.changes))),
            ("compounds heard as two words", str(espeak.joined), str(piper.joined)),
            ("synthesis per sentence, mean", f"{mean_ms(espeak):.0f} ms",
             f"{mean_ms(piper):.0f} ms"),
            ("synthesis per sentence, p95", f"{p95_ms(espeak):.0f} ms",
             f"{p95_ms(piper):.0f} ms"),
        ]
        for name, left, right in rows:
            print(f"  {name:<32}{left:>22}{right:>22}")
        print(f"  {'time ratio Piper/espeak (mean)':<32}{mean_ms(piper) / mean_ms(espeak):>44.2f}")
        for score in (espeak, piper):
            most_wer, least_recall = TARGETS["Piper" if score is piper else "espeak-ng"]
            met = score.wer <= most_wer and not score.changes and (
                least_recall is None or score.recall >= least_recall)
            target = f"WER <= {most_wer:.0%}" + (
                f", domain >= {least_recall:.0%}" if least_recall is not None else "")
            verdict = "met" if met else "NOT met"
            print(f"  target {score.voice} ({target}, no meaning change): {verdict}")
            if score.missed:
                missed = ", ".join(f"{w} x{n}" for w, n in score.missed.most_common())
                print(f"  domain words missed, {score.voice}: {missed}")
    print("\nmeaning-changing errors (said | heard):")
    found = False
    for espeak, piper in pairs:
        for score in (espeak, piper):
            for change, said, heard in score.changes:
                found = True
                print(f"  [{score.voice} {score.rate}] {change}: {said!r} | {heard!r}")
    if not found:
        print("  none")
    print("\ndomain words missed (word: said | heard):")
    for espeak, piper in pairs:
        for score in (espeak, piper):
            for word, said, heard in score.misheard:
                print(f"  [{score.voice} {score.rate}] {word}: {said!r} | {heard!r}")
    version = importlib.metadata.version("moonshine-cpp")
    kept = listener.grown / 2**20 / max(listener.grown_audio_s, 1)
    print(f"\nlistener: Moonshine base-en (moonshine-cpp {version}), {listener.calls} calls on "
          f"{listener.audio_s:.0f} s of audio in {listener.busy_s:.0f} s; peak RSS "
          f"{listener.peak_rss / 2**20:.0f} MB, kept {kept:.1f} MB per audio second, process "
          f"replaced {listener.restarts} times; {texts} texts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rates", default="",
                        help="words per minute, comma-separated (default: the kiosk's own)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N texts (smoke run)")
    args = parser.parse_args()

    library = load_library(BUNDLED_CONTENT / "en")
    texts = content_texts(library)
    if args.limit:
        texts = texts[: args.limit]
    domain = domain_words(library)
    work = Path(tempfile.mkdtemp(prefix="kiosk-intelligibility-"))
    settings = replace(Settings(), cache_dir=work / "cache")  # a fresh cache: nothing pre-rendered
    rates = [int(r) for r in args.rates.split(",") if r.strip()] or [settings.rate_wpm]
    print(f"{len(texts)} texts, {sum(len(normalise(t)) for t in texts)} words a voice; rates "
          f"{', '.join(map(str, rates))} wpm; domain words: {', '.join(sorted(domain))}")
    listener = Listener()
    try:
        scores = {}
        for label, synthesizer in (("espeak-ng", "pyttsx3"), ("Piper", "piper")):
            renderer = open_voice(settings, library, synthesizer)
            try:
                scores[label] = measure(renderer, label, rates, texts, listener, domain)
            finally:
                renderer.close()
        report(list(zip(scores["espeak-ng"], scores["Piper"], strict=True)), len(texts), listener)
    finally:
        listener.close()
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
