"""Soak: thousands of scripted visits to one kiosk, on the real parts; does it stay the same size?

Run: .venv/bin/python benchmarks/soak.py [--visits 2000] [--trace N]   (`make soak`)

One kiosk process, the whole time: the real window on a private Xvfb display, the real speaker
(the natural voice's worker) playing into a PulseAudio null sink, the real listener on a
pipe-source microphone with the neural recogniser's process behind it. Each visit, through the
real controller:
  touch    a topic tile and a section (Controller.activate, as a tap does);
  keypad   a focus move and an activation, as key events into the window;
  voice    every VOICE_EVERY visits, Talk and a spoken request fed into the microphone;
  the end  the idle timeout passes (the controller's clock is moved on) and the visit ends,
           as a visitor walking away.

Printed: the kiosk's memory (RSS of its own process, and with its workers added), its threads
and open file descriptors, at the start, after the warm-up (a tenth of the visits, at least
50) and at the end, with the growth after warm-up per visit. Targets (issue 17): RSS grows by
under 10 MB over 2,000 visits after warm-up; threads and descriptors stay flat. The exit status
is 0 when they are met.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: A spoken request every this many visits (each takes a few seconds to say and decode).
VOICE_EVERY = 20
RSS_GROWTH_TARGET_MB = 10.0
#: Visits before the figures count: the interface builds its spare controls and sentences,
#: and the speech cache its index, over the first fifty or so (measured: 270 -> 274 MB).
WARM_UP_VISITS = 50
#: The kiosk's own RSS is also printed every this many visits, to tell a leak from a warm-up.
SERIES_EVERY = 20
#: Frames kept for each allocation with --trace.
TRACE_FRAMES = 12
TARGET_VISITS = 2000
#: What the visitors say: a command, a name, a question.
SAID = ("next section please", "second opinions", "what causes breast calcifications")


def process_figures(pid: int) -> dict[str, float]:
    """RSS (MB) of the kiosk's process, and of it with its workers; its threads and
    descriptors. The workers' memory rises and falls by tens of MB with the sentence or the
    utterance at hand, so the growth target is judged on the kiosk's own process."""
    import psutil

    main = psutil.Process(pid)
    own = main.memory_info().rss
    total = own
    for child in main.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return {"rss_mb": own / 2**20, "all_rss_mb": total / 2**20, "threads": main.num_threads(),
            "fds": main.num_fds()}


def live_objects() -> dict[str, int]:
    """How many objects of each type the garbage collector tracks and has not frozen
    (containers: widgets, lists, dicts, Kivy's textures), and how many it has frozen: to see
    what piles up over the visits without tracemalloc."""
    import collections
    import gc

    gc.collect()
    counts = collections.Counter(type(thing).__qualname__ for thing in gc.get_objects())
    # The kiosk freezes what lives as long as it does (gc.freeze): those are not listed above,
    # and garbage frozen by mistake is never collected, so their number is watched too.
    counts["(frozen, all types)"] = gc.get_freeze_count()
    return dict(counts)


def memory_breakdown() -> dict[str, float]:
    """This process's resident memory by kind (MB), from its smaps as benchmarks/memory.py reads
    them, and glibc's malloc figures (mallinfo2): to tell a leak (malloc's bytes in use grow), a
    fragmenting heap (its free bytes grow) and memory outside malloc (anonymous mappings: the GL
    driver's textures, Python's arenas) apart. Empty where neither is available."""
    from benchmarks.memory import mappings_kb

    kinds: dict[str, float] = {}
    for name, (rss_kb, _private) in mappings_kb(os.getpid()).items():
        kind = ({"[heap]": "heap", "[anon]": "anonymous"}.get(name)
                or ("other" if name.startswith("[") else "files"))
        kinds[kind] = kinds.get(kind, 0.0) + rss_kb / 1024
    try:
        import ctypes

        class MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]

        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
        mallinfo2.restype = MallInfo2
        info = mallinfo2()
        kinds["malloc_in_use"] = (info.uordblks + info.hblkhd) / 2**20
        kinds["malloc_free"] = info.fordblks / 2**20
    except (OSError, AttributeError):
        pass
    return kinds


def child(visits: int, fifo: Path, folder: Path, trace: int = 0) -> None:
    """Inside the kiosk's process: run the visits on its UI thread, print one JSON line."""
    from benchmarks.memory import mappings_kb  # noqa: F401  (here, not at the warm-up's sample)
    from kiosk.config import Settings
    from kiosk.ui.run import create_app
    from tests.support.microphone import MicrophoneFeeder
    from tests.support.speech_fixtures import pad, synthesize

    class Clock:
        """Real time plus an offset that walks the idle timeout past in an instant."""

        offset = 0.0

        def __call__(self) -> float:
            return time.monotonic() + self.offset

    clock = Clock()
    settings = replace(Settings(), fullscreen=False, cache_dir=folder / "cache",
                       state_dir=folder / "state")
    app = create_app(settings, clock=clock, size=(1280, 800))
    from kivy.clock import Clock as KivyClock
    from kivy.core.window import Window

    microphone = MicrophoneFeeder(fifo)
    spoken = [pad(synthesize(text, "en-us", 150), 0.4).astype("<i2").tobytes() for text in SAID]
    samples: dict[str, dict[str, float]] = {}
    series: list[float] = []
    warm_up = max(WARM_UP_VISITS, visits // 10)
    done = {"visits": 0, "voice": 0, "heard": 0}
    traced: list[str] = []
    halfway: dict[str, tracemalloc.Snapshot] = {}
    counted: dict[str, dict[str, int]] = {}

    def press(action: str) -> None:
        code = next(code for code, name in app.keymap.items() if name == action)
        Window.dispatch("on_key_down", code, 0, None, [])

    def visit(number: int) -> Iterator[float]:
        ctrl, library = app.controller, app.library
        assert ctrl is not None and library is not None, "visits start once content has loaded"
        # Quicker than a visitor: every request cuts the speech of the one before, which
        # stresses the speaker as much as patience would not.
        ctrl.activate("topic:calcifications" if number % 2 else "topic:second-opinions")
        yield 0.04
        press("down")
        yield 0.03
        press("activate")
        yield 0.04
        topic = ctrl.state.topic or "calcifications"
        section = library.topic(topic).sections[number % 2].id
        ctrl.activate(f"section:{topic}/{section}")
        yield 0.1
        if number % VOICE_EVERY == 0:
            done["voice"] += 1
            ctrl.activate("talk")
            yield 0.6  # the earcon, then the microphone opens
            before = ctrl.state
            microphone.speech.put(spoken[(number // VOICE_EVERY) % len(spoken)])
            waited = 0.0
            while ctrl.state == before and waited < 6.0:
                yield 0.2
                waited += 0.2
            done["heard"] += ctrl.state != before
        clock.offset += settings.idle_timeout_s + 1  # the visitor walks away
        ctrl.tick()  # as the UI's clock does twice a second: the visit ends
        yield 0.05

    def script() -> Iterator[float]:
        while app.controller is None:
            yield 0.1
        yield 3.0  # the engines settle (the voice and the recogniser load)
        samples["start"] = process_figures(os.getpid())
        for number in range(visits):
            yield from visit(number)
            done["visits"] += 1
            if (number + 1) % SERIES_EVERY == 0:
                series.append(round(process_figures(os.getpid())["rss_mb"], 1))
            if number + 1 == warm_up:
                # Counted first: the count's full collection then comes before both samples
                # (here and at the end), so it cannot make the growth look smaller.
                counted["warm_up"] = live_objects()
                samples["warm_up"] = process_figures(os.getpid())
                samples["warm_up_memory"] = memory_breakdown()
                if trace:
                    tracemalloc.start(TRACE_FRAMES)  # what is allocated from here on
            if trace and number + 1 == (warm_up + visits) // 2 and tracemalloc.is_tracing():
                halfway["snapshot"] = _snapshot()
        yield 2.0
        counted["end"] = live_objects()
        samples["end"] = process_figures(os.getpid())
        samples["end_memory"] = memory_breakdown()
        if trace and tracemalloc.is_tracing():
            traced[:] = _still_allocated(trace, halfway.get("snapshot"))

    steps = script()
    state = {"next_at": 0.0}

    def advance(_dt: float) -> None:
        if time.monotonic() < state["next_at"]:
            return
        try:
            state["next_at"] = time.monotonic() + next(steps)
        except StopIteration:
            KivyClock.unschedule(advance)
            app.lock.unlock()
            app.stop()

    KivyClock.schedule_interval(advance, 0)
    started = time.monotonic()
    app.run()
    microphone.close()
    print("RESULT " + json.dumps({"samples": samples, "done": done, "warm_up": warm_up,
                                  "series": series, "traced": traced,
                                  "piled_up": _piled_up(counted),
                                  "seconds": time.monotonic() - started}), flush=True)


def _piled_up(counted: dict[str, dict[str, int]], top: int = 12) -> list[str]:
    """The types whose live objects grew most from the warm-up to the end."""
    before, after = counted.get("warm_up", {}), counted.get("end", {})
    grown = sorted(((after[name] - before.get(name, 0), name) for name in after), reverse=True)
    return [f"{name} {before.get(name, 0)} -> {after[name]}" for more, name in grown[:top]
            if more > 0]


def _snapshot() -> tracemalloc.Snapshot:
    return tracemalloc.take_snapshot().filter_traces(
        (tracemalloc.Filter(False, tracemalloc.__file__),))


def _still_allocated(top: int, halfway: tracemalloc.Snapshot | None = None) -> list[str]:
    """The Python allocations made since the warm-up and still held, largest first, each with
    the kiosk's (or a library's) lines that made it: where a creep in Python would show. With
    `halfway`, also what grew from the middle of the visits to the end: what is held now may
    be the visit in hand or a cache that fills once, while what still grows is a leak."""
    snapshot = _snapshot()
    total = sum(stat.size for stat in snapshot.statistics("filename"))
    lines = [f"Python allocations since the warm-up, still held: {total / 2**20:.2f} MB"]
    for stat in snapshot.statistics("traceback")[:top]:
        lines.append(f"  {stat.size / 1024:8.1f} KB in {stat.count} blocks")
        lines += [f"      {frame.filename}:{frame.lineno}" for frame in stat.traceback[-6:]]
    if halfway is None:
        return lines
    growth = snapshot.compare_to(halfway, "traceback")
    total = sum(diff.size_diff for diff in growth)
    lines.append(f"Python allocations from halfway to the end: {total / 2**20:+.2f} MB")
    for diff in sorted(growth, key=lambda d: -d.size_diff)[:top]:
        lines.append(f"  {diff.size_diff / 1024:+8.1f} KB, {diff.count_diff:+d} blocks")
        lines += [f"      {frame.filename}:{frame.lineno}" for frame in diff.traceback[-6:]]
    return lines


def run(visits: int, trace: int = 0) -> dict[str, Any]:
    """The soak on a private display and audio server; the child's figures."""
    from tests.support.pulseaudio import PulseAudioServer
    from tests.support.xvfb import XvfbDisplay

    with XvfbDisplay(1280, 800) as display, tempfile.TemporaryDirectory() as folder:
        server = PulseAudioServer().start()
        try:
            env = {**os.environ, **display.env, **server.env}
            env.pop("SDL_AUDIODRIVER", None)
            done = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--child", "--visits",
                 str(visits), "--fifo", str(server.fifo), "--folder", folder,
                 "--trace", str(trace)],
                env=env, capture_output=True, text=True, timeout=60 + visits * 10,
            )
        finally:
            server.stop()
    line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"the soak's kiosk failed (exit {done.returncode}):\n"
                           f"{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(line[len("RESULT "):])
    return result


def report(result: dict[str, Any]) -> bool:
    """Print the figures; True when the targets are met (scaled to 2,000 visits)."""
    samples, done = result["samples"], result["done"]
    print(f"{done['visits']} visits in {result['seconds']:.0f} s, {done['voice']} of them with "
          f"a spoken request ({done['heard']} acted on); warm-up {result['warm_up']} visits")
    for name in ("start", "warm_up", "end"):
        figures = samples[name]
        print(f"  {name:8} RSS {figures['rss_mb']:6.1f} MB (with its workers "
              f"{figures['all_rss_mb']:6.1f} MB)   threads {figures['threads']:3.0f}"
              f"   open descriptors {figures['fds']:4.0f}")
    before, after_memory = samples.get("warm_up_memory", {}), samples.get("end_memory", {})
    if before and after_memory:
        print("  after warm-up -> end, by kind (MB): " + ", ".join(
            f"{kind} {before[kind]:.1f} -> {after_memory[kind]:.1f}"
            for kind in sorted(before) if kind in after_memory))
    piled_up = result.get("piled_up", [])
    if piled_up:
        print("  live objects that grew most, after warm-up -> end: " + "; ".join(piled_up))
    for line in result.get("traced", []):
        print(line)
    print(f"  the kiosk's RSS every {SERIES_EVERY} visits (MB): "
          + " ".join(f"{mb:.0f}" for mb in result.get("series", [])))
    after = done["visits"] - result["warm_up"]
    growth = samples["end"]["rss_mb"] - samples["warm_up"]["rss_mb"]
    per_visit_kb = growth * 1024 / after if after else 0.0
    at_target = per_visit_kb * TARGET_VISITS / 1024  # the target is 2,000 visits after warm-up
    threads = samples["end"]["threads"] - samples["warm_up"]["threads"]
    fds = samples["end"]["fds"] - samples["warm_up"]["fds"]
    print(f"after warm-up: the kiosk's RSS {growth:+.1f} MB over {after} visits "
          f"({per_visit_kb:+.1f} KB a visit, {at_target:+.1f} MB at that rate over "
          f"{TARGET_VISITS}; target under {RSS_GROWTH_TARGET_MB:.0f} MB); threads {threads:+.0f}, "
          f"descriptors {fds:+.0f} (target: flat)")
    return bool(at_target < RSS_GROWTH_TARGET_MB and threads <= 0 and fds <= 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=TARGET_VISITS)
    parser.add_argument("--trace", type=int, default=0, metavar="N",
                        help="diagnosis: also print the N largest Python allocations made after "
                             "the warm-up and still held at the end (tracemalloc; slower)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fifo", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.visits, args.fifo, args.folder, args.trace)
        return 0
    return 0 if report(run(args.visits, args.trace)) else 1


if __name__ == "__main__":
    sys.exit(main())
