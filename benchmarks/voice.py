"""Voice benchmark: the kiosk's listener against SpeechRecognition's `recognize_sphinx` baseline.

Both hear the same espeak-ng set (tests/support/speech_fixtures.py: phrasings never used to write
the understanding, several voices, two rates, clean and with pink noise at 10 dB SNR, plus
chatter that must come out `none`). The baseline's text goes through the kiosk's own
understanding, so the comparison is of recognition alone. Each system runs in its own process so
peak RSS is its own.

    .venv/bin/python -m benchmarks.voice                 # kiosk (lm search) vs baseline
    .venv/bin/python -m benchmarks.voice --searches lm,jsgf,kws --no-baseline
    .venv/bin/python -m benchmarks.voice --searches lm,lm-unwarped --no-baseline
    .venv/bin/python -m benchmarks.voice --voices-per-item 6 --hard   # bigger set, hard voices

"ms from end of audio to intent": the kiosk streams each clip in 30 ms chunks as a microphone
would, and the clock starts after the last chunk is fed; the baseline cannot stream, so its clock
covers the whole `recognize_sphinx` call on the finished recording.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Run as a script (`python benchmarks/voice.py`), the repository root is not on the path, and the
# clip set lives in tests/support; the spawned measuring processes import this module too.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@dataclass(frozen=True)
class Result:
    """One system's figures."""

    name: str
    clean: float
    noisy: float
    rejection: float
    p50_ms: float
    p95_ms: float
    peak_rss_mb: float
    clips: int
    per_voice: dict[str, float]


def _clip_set(voices_per_item: int, hard: bool) -> list[Any]:
    from tests.support.speech_fixtures import (
        BENCHMARK_VOICES,
        HARD_VOICES,
        PHRASINGS,
        chatter_items,
        clips,
    )

    voices = HARD_VOICES if hard else BENCHMARK_VOICES
    per_item = min(voices_per_item, len(voices))
    return list(clips([*PHRASINGS, *chatter_items()], voices, voices_per_item=per_item))


def _run(system: str, voices_per_item: int, hard: bool, out: Any) -> None:
    """In a child process: decode the whole set with one system and send back its figures."""
    from kiosk.config import BUNDLED_CONTENT
    from kiosk.content_parser import load_library
    from kiosk.understanding import Understanding
    from tests.support.speech_fixtures import is_correct

    library = load_library(BUNDLED_CONTENT / "en")
    data = _clip_set(voices_per_item, hard)
    times: list[float] = []
    rows: list[tuple[str, str, bool, bool]] = []
    if system == "baseline":
        import speech_recognition as sr

        understanding = Understanding(library)
        recognizer = sr.Recognizer()

        def decode(samples: np.ndarray) -> Any:
            audio = sr.AudioData(samples.astype("<i2").tobytes(), 16_000, 2)
            start = time.perf_counter()
            try:
                text = recognizer.recognize_sphinx(audio)
            except sr.UnknownValueError:
                text = ""
            intent = understanding.understand(text)
            times.append(time.perf_counter() - start)
            return intent
    else:
        from kiosk.listening.decoder import WARPS
        from kiosk.listening.recognizer import Recognizer

        # "lm-unwarped": the same search with the unwarped decoder alone (docs/voice.md).
        search, _, variant = system.partition("-")
        kiosk = Recognizer(library, search=search, warps=() if variant == "unwarped" else WARPS)

        def decode(samples: np.ndarray) -> Any:
            kiosk.stream(samples)
            start = time.perf_counter()  # the last audio has arrived
            intent = kiosk.finish()
            times.append(time.perf_counter() - start)
            return intent

    for clip in data:
        intent = decode(clip.samples)
        right = is_correct(clip, intent.name, intent.topic, intent.section)
        rows.append((clip.intent, clip.voice, clip.noisy, right))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    def share(select: Any) -> float:
        chosen = [right for intent, voice, noisy, right in rows if select(intent, voice, noisy)]
        return float(np.mean(chosen)) if chosen else float("nan")

    voices = sorted({voice for _, voice, _, _ in rows})
    ms = np.array(times) * 1000
    out.send(Result(
        name=system if system == "baseline" else f"kiosk ({system})",
        clean=share(lambda i, v, n: i != "none" and not n),
        noisy=share(lambda i, v, n: i != "none" and n),
        rejection=share(lambda i, v, n: i == "none"),
        p50_ms=float(np.percentile(ms, 50)),
        p95_ms=float(np.percentile(ms, 95)),
        peak_rss_mb=peak,
        clips=len(rows),
        per_voice={v: share(lambda i, voice, n, v=v: i != "none" and voice == v) for v in voices},
    ))


def measure(system: str, voices_per_item: int, hard: bool) -> Result:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(system, voices_per_item, hard, send))
    process.start()
    result: Result = receive.recv()
    process.join()
    return result


def _print(results: list[Result]) -> None:
    print(f"{'system':<16}{'clean':>8}{'10dB':>8}{'reject':>8}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'RSS MB':>9}{'clips':>7}")
    for r in results:
        print(f"{r.name:<16}{r.clean:>8.1%}{r.noisy:>8.1%}{r.rejection:>8.1%}{r.p50_ms:>9.1f}"
              f"{r.p95_ms:>9.1f}{r.peak_rss_mb:>9.0f}{r.clips:>7}")
    for r in results:
        voices = ", ".join(f"{v} {a:.0%}" for v, a in r.per_voice.items())
        print(f"  {r.name} in-scope accuracy by voice: {voices}")
    baseline = next((r for r in results if r.name == "baseline"), None)
    if baseline is not None:
        for r in results:
            if r is baseline:
                continue
            clean_ratio = r.clean / max(baseline.clean, 1e-9)
            print(f"{r.name} / baseline: accuracy clean x{clean_ratio:.2f}, "
                  f"10 dB x{r.noisy / max(baseline.noisy, 1e-9):.2f}, rejection "
                  f"x{r.rejection / max(baseline.rejection, 1e-9):.2f}; "
                  f"{baseline.p50_ms / max(r.p50_ms, 1e-9):.1f}x faster at p50, "
                  f"{baseline.p95_ms / max(r.p95_ms, 1e-9):.1f}x at p95; "
                  f"RSS x{r.peak_rss_mb / max(baseline.peak_rss_mb, 1e-9):.2f}")
    print("targets: clean >= 95%, 10 dB >= 90%, rejection >= 90%, p95 < 100 ms, >= 10x faster")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--searches", default="lm",
        help="kiosk searches: lm,jsgf,kws; lm-unwarped is lm without the warped decoders",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip recognize_sphinx")
    parser.add_argument("--voices-per-item", type=int, default=1,
                        help="voices each phrasing is spoken in (the set rotates through them)")
    parser.add_argument("--hard", action="store_true",
                        help="use the espeak-ng voices pocketsphinx hears badly instead")
    args = parser.parse_args(argv)
    results = []
    for search in args.searches.split(","):
        results.append(measure(search.strip(), args.voices_per_item, args.hard))
        print(f"... {results[-1].name} done", file=sys.stderr, flush=True)
    if not args.no_baseline:
        results.append(measure("baseline", args.voices_per_item, args.hard))
    _print(results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
