"""The frozen measurement set through the kiosk's recognisers: pocketsphinx alone (the baseline,
in the same run) against the hybrid (pocketsphinx's fast path, the neural pass for the rest).

    .venv/bin/python -m benchmarks.measure             # both systems, every condition
    .venv/bin/python -m benchmarks.measure --systems hybrid --conditions clean,10

Run it at most once per stop: it is the measurement, not something to tune on (everything
tuned is tuned on the development sets; benchmarks/measurement/README.md). Each system runs in
its own process so its memory is its own; the neural process's peak is added to the hybrid's.

"ms from end of audio to intent": each clip is streamed in 30 ms pieces as a microphone would
deliver it, and the clock starts after the last piece.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("command", "question", "chatter")


@dataclass
class Figures:
    """One system's results: right / clips per (condition, kind), times, memory."""

    name: str
    right: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    total: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    #: "Did you mean ...?" asked (not counted right), and asked about the right meaning.
    asked: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    asked_right: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    ms_all: list[float] = field(default_factory=list)
    ms_fast: list[float] = field(default_factory=list)
    paths: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    peak_rss_mb: float = 0.0
    voices: dict[str, list[int]] = field(default_factory=dict)


def condition_name(condition: float | None) -> str:
    return "clean" if condition is None else f"{condition:g} dB"


def _peak_kb(pid: int) -> int:
    """A process's peak resident memory (VmHWM) in kB, 0 if it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _run(system: str, conditions: tuple[float | None, ...], out: Any) -> None:
    """In a child process: decode the whole set with one system and send back its figures."""
    from kiosk.config import BUNDLED_CONTENT, Settings
    from kiosk.content_parser import load_library
    from kiosk.listening import build_recognizer
    from tests.support.measurement import clips

    library = load_library(BUNDLED_CONTENT / "en")
    settings = Settings(recognizer="hybrid" if system == "hybrid" else "fast")
    recognizer, problem = build_recognizer(settings, library)
    if problem is not None:
        raise SystemExit(f"the {system} recogniser cannot run: {problem}")
    figures = Figures(system)
    per_voice: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for clip in clips(conditions):
        recognizer.stream(clip.samples)
        started = time.perf_counter()  # the last audio has arrived
        intent = recognizer.finish()
        ms = (time.perf_counter() - started) * 1000
        figures.ms_all.append(ms)
        figures.paths[recognizer.last_path] += 1
        if recognizer.last_path == "fast":
            figures.ms_fast.append(ms)
        key = (condition_name(clip.condition), clip.item.kind)
        # Chatter asked about ("Did you mean ...?") was not rejected.
        right = clip.item.is_right(intent.name, intent.topic, intent.section) and not (
            clip.item.kind == "chatter" and intent.maybe is not None)
        if intent.maybe is not None:
            figures.asked[key] += 1
            maybe = intent.maybe
            figures.asked_right[key] += clip.item.is_right(maybe.name, maybe.topic, maybe.section)
        figures.right[key] += right
        figures.total[key] += 1
        if clip.item.kind != "chatter":
            per_voice[clip.voice][0] += right
            per_voice[clip.voice][1] += 1
    neural_pid = recognizer.neural.pid if recognizer.neural is not None else None
    neural_kb = _peak_kb(neural_pid) if neural_pid is not None else 0
    recognizer.close()
    figures.peak_rss_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + neural_kb) / 1024
    figures.voices = dict(per_voice)
    figures.right, figures.total, figures.paths = (
        dict(figures.right), dict(figures.total), dict(figures.paths))
    figures.asked, figures.asked_right = dict(figures.asked), dict(figures.asked_right)
    out.send(figures)


def measure(system: str, conditions: tuple[float | None, ...]) -> Figures:
    context = multiprocessing.get_context("spawn")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(system, conditions, send))
    process.start()
    figures: Figures = receive.recv()
    process.join()
    return figures


def _print(results: list[Figures], conditions: tuple[float | None, ...]) -> None:
    names = [condition_name(c) for c in conditions]
    print(f"{'system':<10}{'kind':<10}" + "".join(f"{n:>16}" for n in names))
    for figures in results:
        for kind in KINDS:
            row = ""
            for name in names:
                right = figures.right.get((name, kind), 0)
                total = figures.total.get((name, kind), 0)
                row += f"{f'{right}/{total} {right / max(total, 1):.1%}':>16}"
            print(f"{figures.name:<10}{kind:<10}{row}")
    for figures in results:
        if figures.asked:
            asked = ", ".join(
                f"{name} {kind} {figures.asked_right.get((name, kind), 0)}/"
                f"{figures.asked[(name, kind)]}"
                for name in names for kind in KINDS if (name, kind) in figures.asked)
            print(f"{figures.name}: 'Did you mean ...?' asked (about the right meaning/asked): "
                  f"{asked}")
    for figures in results:
        ms, fast = np.array(figures.ms_all), np.array(figures.ms_fast)
        fast_text = (f"fast path p50 {np.percentile(fast, 50):.1f} ms, p95 "
                     f"{np.percentile(fast, 95):.1f} ms ({fast.size} clips); " if fast.size else "")
        print(f"{figures.name}: end of audio to intent, {fast_text}all p50 "
              f"{np.percentile(ms, 50):.1f} ms, p95 {np.percentile(ms, 95):.1f} ms "
              f"({ms.size} clips); paths {figures.paths}; peak RSS {figures.peak_rss_mb:.0f} MB")
        voices = ", ".join(f"{voice} {r}/{t}" for voice, (r, t) in sorted(figures.voices.items()))
        print(f"  {figures.name} commands, names and questions by voice: {voices}")
    baseline = next((f for f in results if f.name == "fast"), None)
    for figures in results:
        if baseline is None or figures is baseline:
            continue
        ratios = []
        for name in names:
            for kind in KINDS:
                ours = figures.right.get((name, kind), 0)
                theirs = baseline.right.get((name, kind), 0)
                ratios.append(f"{name} {kind} x{ours / max(theirs, 1):.2f}")
        print(f"{figures.name} / fast (pocketsphinx alone): " + ", ".join(ratios))
    print("targets: commands >= 95% clean and at 20 dB, >= 90% at 10 dB; questions >= 90% "
          "clean, >= 80% in babble; chatter >= 93% rejected; p95 <= 100 ms on the fast path, "
          "<= 600 ms over all")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--systems", default="fast,hybrid", help="fast, hybrid or both")
    parser.add_argument("--conditions", default="clean,20,10,5",
                        help="clean and/or babble SNRs in dB")
    args = parser.parse_args(argv)
    conditions = tuple(None if c.strip() == "clean" else float(c)
                       for c in args.conditions.split(","))
    results = []
    for system in args.systems.split(","):
        results.append(measure(system.strip(), conditions))
        print(f"... {system} done", file=sys.stderr, flush=True)
    _print(results, conditions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
