"""UI responsiveness: cold start to the first interactive frame, and frame times while the kiosk
speaks and listens, with the real engines, on a private Xvfb display and PulseAudio daemon.

Run: .venv/bin/python benchmarks/ui.py [--seconds 6] [--runs 3] [--diagnose MS [--no-profile]]

Each run is a fresh process (a cold start as far as Python and Kivy are concerned; the OS file
cache is warm after the first). Cold start is measured from the process's creation time to the
first frame drawn after the controller is wired up and the welcome screen is built. Frame times
are the intervals between frames (Kivy's Clock, maxfps 60) in four phases of `--seconds` each:

  idle       the welcome screen, nothing happening;
  speaking   opening a section and reading it aloud (synthesis and playback on their threads);
  listening  the microphone open (Talk), and a spoken question fed into the virtual microphone
             (a question always goes to the neural recogniser, in its own process; the kiosk
             then answers aloud), or speech-like noise without espeak-ng;
  text size  pressing Text size once a second up to the largest size (everything re-laid out);
  scrolling  reading at the largest text size with the highlight moving every 0.1 s, far
             more often than speech moves it (a sentence takes seconds).

Targets: start under 3 s, no frame over 50 ms. Software rendering (llvmpipe) on a shared 2-core
machine is the worst case; note the load average printed with the figures.

Baseline, measured in the same run on the same display: a bare Kivy window (one label, nothing
else) redrawn on every frame, once with Kivy's default graphics settings and once with the
kiosk's (`kiosk.ui.lockdown.configure`). Its median frame is the floor for a full redraw on
this machine at that moment; the kiosk's figures are also given as a ratio to it.

A run whose process dies (a crash in a native library) is reported and run again, at most twice.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import math
import os
import pstats
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START_TARGET_S = 3.0
FRAME_TARGET_MS = 50.0


def time_redraws(window: Any, sink: list[float]) -> None:
    """Append to `sink` the time (ms) of each redraw: drawing the widget tree plus the buffer
    swap, which is where software rendering does its work."""
    started: list[float] = []
    swap = window.flip

    def before_draw(*_args: Any) -> None:
        started[:] = [time.perf_counter()]

    def flip() -> None:
        swap()
        if started:
            sink.append((time.perf_counter() - started.pop()) * 1000)

    window.fbind("on_draw", before_draw)  # bound handlers run before the window draws
    window.flip = flip


class FrameDiagnostics:
    """`--diagnose MS`: where each main-loop iteration's time goes (Kivy's frame limiter sleep,
    scheduled callbacks, input, pre-draw triggers, drawing, buffer swap), with a cProfile of
    every iteration that takes more than `threshold_ms`."""

    STAGES = ("sleep", "callbacks", "input", "triggers", "draw", "swap")

    def __init__(self, threshold_ms: float, phase: Callable[[], str | None],
                 profile: bool = True) -> None:
        self.threshold_ms = threshold_ms
        self.phase = phase
        self.profile = profile  # cProfile slows the UI's Python work: off to catch rare frames
        self.slow: list[dict[str, Any]] = []
        self.gc_ms = 0.0  # cyclic garbage collection in this iteration (any thread)
        self.gc_generations: list[int] = []
        self._gc_started = 0.0

    def _on_gc(self, stage: str, info: dict[str, int]) -> None:
        if stage == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_ms += (time.perf_counter() - self._gc_started) * 1000
            self.gc_generations.append(info["generation"])

    def install(self) -> None:
        """Replace Kivy's EventLoop.idle with a timed copy of its steps (Kivy 2.3)."""
        from kivy.base import EventLoop
        from kivy.clock import Clock
        from kivy.lang import Builder

        gc.callbacks.append(self._on_gc)

        def idle() -> bool:
            self.gc_ms, self.gc_generations = 0.0, []
            marks = [time.perf_counter()]
            profile = cProfile.Profile() if self.profile else None
            cpu = time.thread_time()
            Clock.pre_idle()
            ts = Clock.time()
            current = Clock.idle()  # the frame limiter's sleep
            marks.append(time.perf_counter())
            if profile is not None:
                profile.enable()
            Clock.post_idle(ts, current)
            marks.append(time.perf_counter())
            if not EventLoop.quit:
                EventLoop.dispatch_input()
            marks.append(time.perf_counter())
            if not EventLoop.quit:
                Builder.sync()
                Clock.tick_draw()
                Builder.sync()
            marks.append(time.perf_counter())
            window = EventLoop.window
            drew = not EventLoop.quit and window is not None and window.canvas.needs_redraw
            if drew:
                window.dispatch("on_draw")
            marks.append(time.perf_counter())
            if drew:
                window.dispatch("on_flip")
            marks.append(time.perf_counter())
            if profile is not None:
                profile.disable()
            cpu = (time.thread_time() - cpu) * 1000
            work = (marks[-1] - marks[1]) * 1000
            phase = self.phase()
            # The sleep counts too: a thread holding the GIL can keep the loop from waking.
            if phase is not None and (marks[-1] - marks[0]) * 1000 > self.threshold_ms:
                self.record(phase, work, cpu, marks, profile)
            return bool(EventLoop.quit)

        EventLoop.idle = idle

    def record(self, phase: str, work: float, cpu: float, marks: list[float],
               profile: Any) -> None:
        # Milliseconds a stage, and the garbage collector's generations (a list).
        stages: dict[str, float | list[int]] = {
            name: round((b - a) * 1000, 1)
            for name, a, b in zip(self.STAGES, marks[:-1], marks[1:], strict=True)
        }
        text = ""
        if profile is not None:
            out = io.StringIO()
            stats = pstats.Stats(profile, stream=out)
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(12)
            text = out.getvalue()
            text = text[text.find("ncalls"):] if "ncalls" in text else text
        stages["of which garbage collection"] = round(self.gc_ms, 1)
        stages["generations collected"] = self.gc_generations
        self.slow.append({"phase": phase, "work_ms": round(work, 1), "stages": stages,
                          "cpu_ms": round(cpu, 1),
                          "profile": text})


def child(seconds: float, diagnose_ms: float | None = None, profile: bool = True) -> None:
    """Inside the measured process: open the kiosk, run the phases, print one JSON line."""
    from dataclasses import replace

    import psutil

    from kiosk.config import Settings
    from kiosk.controller import Controller
    from kiosk.events import EventType, event
    from kiosk.intents import Intent, IntentName
    from kiosk.ui.run import create_app

    created = psutil.Process().create_time()
    settings = replace(Settings(), fullscreen=False)
    app = create_app(settings, size=(1920, 1080))
    from kivy.clock import Clock

    def loaded() -> Controller:
        """The app's controller (the phases run once the content has loaded)."""
        assert app.controller is not None, "the content has not loaded"
        return app.controller

    result: dict[str, Any] = {"phases": {}, "redraws": {}}
    frames: list[float] = []
    redraws: list[float] = []
    state: dict[str, Any] = {"phase": None, "last": None, "step": 0}

    diagnostics = None
    if diagnose_ms is not None:
        diagnostics = FrameDiagnostics(diagnose_ms, lambda: state["phase"], profile)
        diagnostics.install()

    def on_frame(_dt: float) -> None:
        now = time.perf_counter()
        if state["phase"] is not None and state["last"] is not None:
            frames.append((now - state["last"]) * 1000)
        state["last"] = now

    def phase(name: str, action: Any) -> None:
        if state["phase"] is not None:
            result["phases"][state["phase"]] = list(frames)
            result["redraws"][state["phase"]] = list(redraws)
        frames.clear()
        redraws.clear()
        state["phase"] = name
        state["last"] = None
        if action is not None:
            action()

    def speak() -> None:
        loaded().activate("section:calcifications/two-types")

    def listen() -> None:
        loaded().handle(Intent(IntentName.STOP))
        loaded().talk()

    def text_size() -> None:
        """Press Text size once a second up to the largest size, as a visitor would."""
        controller = loaded()
        steps = controller.settings.text_scale_steps
        for step in range(steps):
            Clock.schedule_once(lambda _dt: controller.activate("text_size"),
                                step * min(1.0, seconds / (steps + 1)))

    def scroll() -> None:
        loaded().activate("section:calcifications/two-types")
        Clock.schedule_interval(lambda _dt: move_highlight(), 0.1)

    def move_highlight() -> None:
        """Play the speaker's part: report the next sentence as heard, as playback would."""
        controller = loaded()
        current = controller.state
        if current.topic is None or current.section is None:
            return
        section = controller.library.section(current.topic, current.section)
        texts = [controller.text("screen.reader_intro", section=section.title)]
        texts += [sentence.text for sentence in section.sentences]
        state["step"] += 1
        index = 1 + state["step"] % (len(texts) - 1)
        controller.on_engine_event(
            event(EventType.SENTENCE_STARTED, index=index, text=texts[index])
        )

    plan = [("idle", None), ("speaking", speak), ("listening", listen),
            ("text size", text_size), ("scrolling", scroll)]

    def start(_dt: float) -> None:
        if app.controller is None or app.interactive_at is None:
            return
        Clock.unschedule(start)
        result["start_s"] = time.time() - created - (time.perf_counter() - app.interactive_at)
        result["engines"] = [type(app.speaker).__name__, type(app.listener).__name__]
        from kivy.core.window import Window

        time_redraws(Window, redraws)
        Clock.schedule_interval(on_frame, 0)
        for number, (name, action) in enumerate(plan):
            Clock.schedule_once(lambda _dt, n=name, a=action: phase(n, a), 0.5 + number * seconds)
        Clock.schedule_once(lambda _dt: finish(), 0.5 + len(plan) * seconds)

    def finish() -> None:
        phase("done", None)
        recognizer = getattr(app.listener, "_recognizer", None)
        result["neural_passes"] = getattr(recognizer, "neural_passes", None)
        if diagnostics is not None:
            result["slow"] = diagnostics.slow
        app.lock.unlock()
        app.stop()

    Clock.schedule_interval(start, 0)
    app.run()
    print("RESULT " + json.dumps(result))


def bare_child(seconds: float, kiosk_config: bool) -> None:
    """The baseline: a bare Kivy window with one label, redrawn on every frame."""
    import kiosk.ui  # noqa: F401  (KIVY_NO_ARGS)

    if kiosk_config:
        from kiosk.ui import lockdown

        lockdown.configure(False, (1920, 1080))
    else:
        from kivy.config import Config

        Config.set("graphics", "width", "1920")
        Config.set("graphics", "height", "1080")
        Config.set("kivy", "log_level", "warning")
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.label import Label

    frames: list[float] = []
    last: list[float] = []
    redraws: list[float] = []

    def on_frame(_dt: float) -> None:
        now = time.perf_counter()
        if last:
            frames.append((now - last[0]) * 1000)
        last[:] = [now]
        Window.canvas.ask_update()  # a full redraw every frame

    class Bare(App):  # type: ignore[misc]
        def build(self) -> Label:
            return Label(text="Bare Kivy window", font_size=32)

        def on_start(self) -> None:
            def measure(_dt: float) -> None:
                time_redraws(Window, redraws)
                Clock.schedule_interval(on_frame, 0)

            Clock.schedule_once(measure, 0.5)
            Clock.schedule_once(lambda _dt: self.stop(), 0.5 + seconds)

    Bare().run()
    print("RESULT " + json.dumps({"frames": frames, "redraws": redraws}))


def run_child(
    args: list[str], env: dict[str, str], timeout: float
) -> tuple[dict[str, Any] | None, str]:
    """One measured process: its RESULT, or None and why not."""
    process = subprocess.Popen(
        [sys.executable, __file__, *args], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        return None, f"did not finish in time\n{err[-2000:]}"
    line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
    if line is None:
        return None, f"exit status {process.returncode}, no result\n{err[-1500:]}"
    return json.loads(line[len("RESULT "):]), ""


def feed_noise(pulse: Any, seconds: float) -> None:
    """A spoken question into the virtual microphone, so the listener, and behind it the
    neural recogniser, have speech to work on; speech-band noise without espeak-ng."""
    import numpy as np

    from tests.support.speech_fixtures import have_espeak, pad, synthesize

    if have_espeak():
        # Said every 3 s, so that one lands while Talk is open whatever the start-up took.
        question = pad(synthesize("what causes breast calcifications", "en-us", 150), 0.5)
        gap = np.zeros(max(0, 3 * 16_000 - len(question)), np.int16)
        samples = np.concatenate([question, gap] * (int(seconds / 3) + 1))
    else:
        rng = np.random.default_rng(1)
        samples = rng.normal(0, 3000, int(16_000 * seconds)).astype(np.int16)
    samples = samples[:int(16_000 * seconds)]
    try:
        pulse.feed_microphone(samples.tobytes())
    except OSError as error:  # the figures still stand without it
        print(f"(could not feed the microphone: {error})")


def summarise(frames: list[float]) -> str:
    if not frames:
        return "no frames"
    ordered = sorted(frames)
    p95 = ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]  # nearest rank
    return (f"{len(frames):4d} frames  median {statistics.median(frames):5.1f} ms  "
            f"p95 {p95:5.1f} ms  worst {max(frames):6.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--diagnose", type=float, metavar="MS",
                        help="also print, for each main-loop iteration that takes more than MS, "
                             "its stages and a cProfile (slows the kiosk a little)")
    parser.add_argument("--no-profile", action="store_true",
                        help="with --diagnose: stages only, no cProfile (which slows the UI's "
                             "Python work; use this to catch rare slow frames as they are)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--bare", choices=("kivy", "kiosk"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seconds, args.diagnose, not args.no_profile)
        return 0
    if args.bare:
        bare_child(args.seconds, args.bare == "kiosk")
        return 0

    from tests.support.pulseaudio import PulseAudioServer
    from tests.support.xvfb import XvfbDisplay

    starts: list[float] = []
    worst: dict[str, float] = {}
    medians: dict[str, list[float]] = {}
    bare: dict[str, float] = {}
    crashes = 0
    with XvfbDisplay(1920, 1080) as display:
        pulse = PulseAudioServer().start()
        try:
            env = {**display.env, **pulse.env}
            for config in ("kivy", "kiosk"):
                result, why = run_child(["--bare", config, "--seconds", str(args.seconds)],
                                        env, 60 + args.seconds)
                if result is None:
                    print(f"baseline ({config} settings): {why}")
                    return 1
                bare[config] = statistics.median(result["redraws"])
                print(f"baseline: bare Kivy window redrawn every frame, {config} settings:\n"
                      f"  frames     {summarise(result['frames'])}\n"
                      f"  redraws    {summarise(result['redraws'])}")
            run = 0
            while run < args.runs:
                # Speech-like noise while the microphone phase runs (from a thread: writing
                # into the virtual microphone blocks for as long as the audio lasts).
                feeder = threading.Timer(1 + 2 * args.seconds, feed_noise,
                                         (pulse, args.seconds + 4))
                feeder.daemon = True
                feeder.start()
                diagnose = [] if args.diagnose is None else ["--diagnose", str(args.diagnose)]
                if args.no_profile:
                    diagnose.append("--no-profile")
                result, why = run_child(["--child", "--seconds", str(args.seconds), *diagnose],
                                        env, 120 + 7 * args.seconds)
                feeder.cancel()
                if result is None:
                    crashes += 1
                    print(f"run {run + 1}: the kiosk process failed ({why.splitlines()[0]})")
                    if crashes > 2 * args.runs:
                        print(why)
                        return 1
                    continue
                run += 1
                starts.append(result["start_s"])
                print(f"run {run}: engines {', '.join(result['engines'])}; "
                      f"cold start to first interactive frame {result['start_s']:.2f} s; "
                      f"utterances through the neural pass: {result.get('neural_passes')}")
                for name, frames in result["phases"].items():
                    redrawn = result["redraws"].get(name, [])
                    print(f"  {name:10s} {summarise(frames)}\n"
                          f"  {'':10s} {summarise(redrawn).replace('frames', 'redraws')}")
                    if frames:
                        worst[name] = max(worst.get(name, 0.0), max(frames))
                    if redrawn:
                        medians.setdefault(name, []).extend(redrawn)
                for slow in result.get("slow", []):
                    stages = ", ".join(f"{k} {v}" for k, v in slow["stages"].items())
                    print(f"  slow iteration ({slow['phase']}): {slow['work_ms']} ms of work "
                          f"(UI thread on a core {slow['cpu_ms']} ms); {stages}\n"
                          f"{slow['profile']}")
        finally:
            pulse.stop()
    load = os.getloadavg()
    print(f"\ncold start: median {statistics.median(starts):.2f} s, worst {max(starts):.2f} s "
          f"(target < {START_TARGET_S:.0f} s)")
    floor = bare["kiosk"]
    print(f"baseline redraw (draw + buffer swap of a bare Kivy window, median): "
          f"{bare['kivy']:.1f} ms with Kivy's default settings, {floor:.1f} ms with the kiosk's")
    for name, value in worst.items():
        verdict = "ok" if value <= FRAME_TARGET_MS else "OVER"
        redrawn = medians.get(name, [])
        median = statistics.median(redrawn) if redrawn else 0.0
        print(f"worst frame {name:10s} {value:6.1f} ms ({verdict}; target <= "
              f"{FRAME_TARGET_MS:.0f} ms); median redraw {median:5.1f} ms = "
              f"{median / floor:4.1f}x the bare window's")
    if crashes:
        print(f"{crashes} kiosk process(es) died and were run again (see docs/ui.md)")
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
