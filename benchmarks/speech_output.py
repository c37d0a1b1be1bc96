"""Speech output latency at the sink: the kiosk's cached and uncached paths against naive pyttsx3.

Run: .venv/bin/python benchmarks/speech_output.py [--requests 50] [--idle-every 10]

A private PulseAudio daemon is started with a null sink and module-suspend-on-idle (timeout 5 s,
as a desktop default.pa loads it). For each request the time is taken from the play request to
the arrival of the first non-silent sample recorded from the sink's monitor (parec with 5 ms
chunks; the arrival time is an upper bound on when the sample was rendered).

  (a) kiosk, cached:   KioskSpeaker.speak() of a sentence already in the audio cache;
  (b) kiosk, uncached: the same after the cache is emptied (synthesis on demand);
  (c) naive baseline:  engine.say(text); engine.runAndWait() with pyttsx3 2.99 in its own process.

Every `--idle-every`-th request follows at least 6.2 s of silence with no recorder attached (a
recorder on the monitor would keep the sink awake): for those the recorder is started at the
moment of the request, so they include the recorder's own start-up (printed as "probe floor"),
which counts against the kiosk's figures, not for them.

pyttsx3's runAndWait() may return before its aplay has even started (espeak runs asynchronously
in pyttsx3 2.99), so before each baseline request the benchmark waits until the baseline process
has no aplay child left and the sink has been quiet: every onset belongs to its own request.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.memory import memory_kb  # noqa: E402
from kiosk.config import BUNDLED_CONTENT, Settings  # noqa: E402
from kiosk.content_parser import load_library  # noqa: E402
from kiosk.events import Event, EventType  # noqa: E402
from kiosk.speech import KioskSpeaker, create_speaker  # noqa: E402
from kiosk.speech.piper import FallbackSynthesizer  # noqa: E402
from kiosk.speech.player import Player  # noqa: E402
from kiosk.speech.render import Renderer  # noqa: E402
from kiosk.speech.synth import Pyttsx3Synthesizer  # noqa: E402
from tests.support.pulseaudio import SINK, PulseAudioServer  # noqa: E402

RATE = 48_000
LOUD = 0.01  # -40 dBFS: speech onsets pass it within a few ms; the player's silence is zeros
IDLE_S = 6.2
TIMEOUT_S = 10.0

BASELINE = textwrap.dedent("""
    import sys, pyttsx3
    engine = pyttsx3.init()
    engine.setProperty("rate", int(sys.argv[1]))
    print("ready", flush=True)
    for line in sys.stdin:
        engine.say(line.strip())
        engine.runAndWait()
        print("done", flush=True)
""")


class SinkProbe:
    """parec on the sink's monitor; finds when sound first reached the sink after a request."""

    def __init__(self, server: PulseAudioServer) -> None:
        self.server = server
        self.process: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()
        self._since = float("inf")
        self._onset: float | None = None
        self._last_loud = 0.0
        self._first_chunk: float | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._first_chunk = None
        self.process = subprocess.Popen(
            ["parec", f"--device={SINK}.monitor", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=5", "--raw"],
            env={**os.environ, **self.server.env}, stdout=subprocess.PIPE,
        )
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=5)
            if self._thread is not None:
                self._thread.join(timeout=5)
            assert self.process.stdout is not None
            self.process.stdout.close()
            self.process = None

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        fd = self.process.stdout.fileno()
        pending = b""
        while True:
            data = os.read(fd, 4096)
            if not data:
                return
            now = time.monotonic()
            data = pending + data
            usable = len(data) - len(data) % 2
            pending = data[usable:]
            samples = np.frombuffer(data[:usable], dtype="<i2")
            loud = np.flatnonzero(np.abs(samples) > LOUD * 32768)
            with self._lock:
                if self._first_chunk is None:
                    self._first_chunk = now
                if len(loud):
                    self._last_loud = now
                    if self._onset is None and now > self._since:
                        # The arrival of the chunk holding it: a slight overestimate (one chunk
                        # at most), but never flattering: a sink waking up may render ahead.
                        self._onset = now

    def arm(self, since: float) -> None:
        with self._lock:
            self._since = since
            self._onset = None

    def wait_onset(self) -> float | None:
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            with self._lock:
                if self._onset is not None:
                    return self._onset - self._since
            time.sleep(0.002)
        return None

    def wait_silence(self, quiet_s: float = 0.2) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self._lock:
                if time.monotonic() - self._last_loud > quiet_s:
                    return
            time.sleep(0.02)

    def connect_time(self) -> float | None:
        """Seconds from start() to the first chunk (the probe's own floor for idle requests)."""
        started = time.monotonic()
        self.start()
        deadline = started + TIMEOUT_S
        while time.monotonic() < deadline:
            if self._first_chunk is not None:
                return self._first_chunk - started
            time.sleep(0.001)
        return None


def run_requests(
    name: str, probe: SinkProbe, texts: list[str], count: int, idle_every: int,
    play: Callable[[str], None], finish: Callable[[], None],
) -> tuple[list[float], list[float], int]:
    """Issue `count` play requests; return (all latencies, idle ones, failures)."""
    latencies: list[float] = []
    idle: list[float] = []
    failures = 0
    probe.start()
    time.sleep(0.5)
    for number in range(count):
        quiet = idle_every > 0 and number % idle_every == idle_every - 1
        text = texts[number % len(texts)]
        if quiet:
            probe.stop()
            time.sleep(IDLE_S)
            requested = time.monotonic()
            probe.arm(requested)
            probe.start()
        else:
            requested = time.monotonic()
            probe.arm(requested)
        play(text)
        latency = probe.wait_onset()
        finish()
        probe.wait_silence()
        if latency is None:
            failures += 1
            continue
        latencies.append(latency)
        if quiet:
            idle.append(latency)
        print(f"  {name} #{number + 1:02d}{' idle' if quiet else '     '} {latency * 1000:7.1f} ms",
              file=sys.stderr, flush=True)
    probe.stop()
    return latencies, idle, failures


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q)) if values else float("nan")


def descendants(pid: int) -> list[int]:
    """Child processes of `pid`, recursively (the shell and aplay pyttsx3 starts)."""
    found: list[int] = []
    stack = [pid]
    while stack:
        parent = stack.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except (OSError, ValueError):
                continue
            found += children
            stack += children
    return found


def vm_hwm_mb(pid: int) -> float:
    figures = memory_kb(pid)
    return figures[1] / 1024 if figures is not None else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=50, help="requests per path (>= 50)")
    parser.add_argument("--idle-every", type=int, default=10,
                        help="every Nth request follows >= 6.5 s of silence")
    args = parser.parse_args()

    library = load_library(BUNDLED_CONTENT / "en")
    # Short sentences keep the naive baseline (which cannot be stopped) from dominating run time.
    candidates = sorted(
        (s.text for section in library.sections() for s in section.sentences), key=len
    )
    texts = [t for t in candidates if len(t.split()) >= 4][:20]
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    settings = replace(Settings(), cache_dir=work / "cache")
    server = PulseAudioServer().start()
    results: dict[str, tuple[list[float], list[float], int]] = {}
    extra: dict[str, float] = {}
    began = time.monotonic()
    try:
        server.pactl("load-module", "module-suspend-on-idle", "timeout=5")
        probe = SinkProbe(server)

        # (a) and (b): one speaker, opened once as the kiosk does at start-up.
        events: list[Event] = []
        speaker: KioskSpeaker = create_speaker(settings, library, events.append)
        player = speaker.output
        assert isinstance(player, Player)
        if not player.wait_ready(20):
            print("the kiosk's player did not reach PulseAudio", file=sys.stderr)
            return 1
        floors = []  # the recorder's own start-up while the sink runs (the kiosk keeps it so)
        for _ in range(5):
            time.sleep(0.3)
            floor = probe.connect_time()
            probe.stop()
            if floor is not None:
                floors.append(floor)
        extra["probe_floor_ms"] = statistics.median(floors) * 1000 if floors else float("nan")
        speaker.prerender(texts)
        speaker.wait_prerendered(120)

        def kiosk_play(text: str) -> None:
            speaker.speak([text])

        def kiosk_finish() -> None:
            speaker.stop()

        results["kiosk cached"] = run_requests(
            "cached", probe, texts, args.requests, args.idle_every, kiosk_play, kiosk_finish
        )
        renderer = speaker.renderer
        assert isinstance(renderer, Renderer)
        cache = renderer.cache
        assert cache is not None

        def uncached_play(text: str) -> None:
            cache.clear()
            speaker.speak([text])

        results["kiosk uncached"] = run_requests(
            "uncached", probe, texts, args.requests, args.idle_every, uncached_play, kiosk_finish
        )
        extra["underflows"] = player.underflows
        synth = renderer.synthesizer
        assert isinstance(synth, FallbackSynthesizer | Pyttsx3Synthesizer)
        worker = synth._process
        extra["synth_worker_rss_mb"] = vm_hwm_mb(worker.pid) if worker is not None else float("nan")
        speaker.close()
        problems = [e for e in events if e.type is EventType.SOUND_UNAVAILABLE]
        if problems:
            print(f"warning: the kiosk reported {problems}", file=sys.stderr)

        # (c): the naive baseline, in its own process, at the same sink.
        scratch = work / "baseline-tmp"  # pyttsx3's say() writes temporary WAVs; keep them here
        scratch.mkdir()
        baseline = subprocess.Popen(
            [sys.executable, "-c", BASELINE, str(settings.rate_wpm)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env={**os.environ, **server.env, "TMPDIR": str(scratch)},
        )
        stdin, stdout = baseline.stdin, baseline.stdout
        assert stdin is not None and stdout is not None
        stdout.readline()

        def naive_play(text: str) -> None:
            stdin.write(text + "\n")
            stdin.flush()

        def naive_finish() -> None:
            stdout.readline()  # runAndWait returned
            deadline = time.monotonic() + 30
            while descendants(baseline.pid) and time.monotonic() < deadline:
                time.sleep(0.02)  # its aplay is still playing (or yet to start)

        results["naive pyttsx3"] = run_requests(
            "naive", probe, texts, args.requests, args.idle_every, naive_play, naive_finish
        )
        extra["baseline_rss_mb"] = vm_hwm_mb(baseline.pid)
        stdin.close()
        baseline.wait(timeout=10)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"Speech output latency: play request -> first non-silent sample at the sink "
          f"({args.requests} requests per path, every {args.idle_every}th after "
          f">= {IDLE_S:g} s of silence with the sink allowed to suspend)")
    print(f"{'path':<16}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'idle p50':>10}"
          f"{'idle max':>10}{'n':>5}{'failed':>8}")
    for name, (values, idle, failed) in results.items():
        print(f"{name:<16}{percentile(values, 50) * 1000:9.1f}{percentile(values, 95) * 1000:9.1f}"
              f"{max(values, default=float('nan')) * 1000:9.1f}"
              f"{percentile(idle, 50) * 1000:10.1f}{max(idle, default=float('nan')) * 1000:10.1f}"
              f"{len(values):5d}{failed:8d}")
    naive = results["naive pyttsx3"][0]
    for name in ("kiosk cached", "kiosk uncached"):
        kiosk = results[name][0]
        print(f"ratio naive / {name}: p50 {percentile(naive, 50) / percentile(kiosk, 50):.1f}x, "
              f"p95 {percentile(naive, 95) / percentile(kiosk, 95):.1f}x")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"probe floor (recorder start-up, included in idle kiosk figures): "
          f"{extra['probe_floor_ms']:.1f} ms; kiosk output underflows: {extra['underflows']:.0f}")
    print(f"peak RSS: kiosk process {own:.0f} MB + synthesis worker "
          f"{extra['synth_worker_rss_mb']:.0f} MB; naive baseline process "
          f"{extra['baseline_rss_mb']:.0f} MB")
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} CPUs, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; run took {time.monotonic() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
