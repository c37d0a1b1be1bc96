"""UI responsiveness: cold start to the first interactive frame, and frame times while the kiosk
speaks and listens, with the real engines, on a private Xvfb display and PulseAudio daemon.

Run: .venv/bin/python benchmarks/ui.py [--seconds 6] [--runs 3]

Each run is a fresh process (a cold start as far as Python and Kivy are concerned; the OS file
cache is warm after the first). Cold start is measured from the process's creation time to the
first frame drawn after the controller is wired up and the welcome screen is built. Frame times
are the intervals between frames (Kivy's Clock, maxfps 60) in four phases of `--seconds` each:

  idle       the baseline: welcome screen, nothing happening;
  speaking   reading a section aloud (synthesis and playback on their threads);
  listening  the microphone open (Talk), with speech-like noise fed into the virtual microphone;
  scrolling  reading at the largest text size with the highlight moving every frame or so.

Targets: start under 3 s, no frame over 50 ms. Software rendering (llvmpipe) on a shared 2-core
machine is the worst case; note the load average printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

START_TARGET_S = 3.0
FRAME_TARGET_MS = 50.0


def child(seconds: float) -> None:
    """Inside the measured process: open the kiosk, run the phases, print one JSON line."""
    from dataclasses import replace

    import psutil

    from kiosk.config import Settings
    from kiosk.events import EventType, event
    from kiosk.intents import Intent, IntentName
    from kiosk.ui.app import create_app

    created = psutil.Process().create_time()
    settings = replace(Settings(), fullscreen=False)
    app = create_app(settings, size=(1920, 1080))
    from kivy.clock import Clock

    result: dict[str, Any] = {"phases": {}}
    frames: list[float] = []
    state: dict[str, Any] = {"phase": None, "last": None, "step": 0}

    def on_frame(_dt: float) -> None:
        now = time.perf_counter()
        if state["phase"] is not None and state["last"] is not None:
            frames.append((now - state["last"]) * 1000)
        state["last"] = now

    def phase(name: str, action: Any) -> None:
        if state["phase"] is not None:
            result["phases"][state["phase"]] = list(frames)
        frames.clear()
        state["phase"] = name
        state["last"] = None
        if action is not None:
            action()

    def speak() -> None:
        app.controller.activate("section:calcifications/two-types")

    def listen() -> None:
        app.controller.handle(Intent(IntentName.STOP))
        app.controller.talk()

    def scroll() -> None:
        controller = app.controller
        for _ in range(controller.settings.text_scale_steps):
            controller.activate("text_size")
        controller.activate("section:calcifications/two-types")
        Clock.schedule_interval(lambda _dt: move_highlight(), 0.1)

    def move_highlight() -> None:
        """Play the speaker's part: report the next sentence as heard, as playback would."""
        controller = app.controller
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

    plan = [("idle", None), ("speaking", speak), ("listening", listen), ("scrolling", scroll)]

    def start(_dt: float) -> None:
        if app.controller is None or app.interactive_at is None:
            return
        Clock.unschedule(start)
        result["start_s"] = time.time() - created - (time.perf_counter() - app.interactive_at)
        result["engines"] = [type(app.speaker).__name__, type(app.listener).__name__]
        Clock.schedule_interval(on_frame, 0)
        for number, (name, action) in enumerate(plan):
            Clock.schedule_once(lambda _dt, n=name, a=action: phase(n, a), 0.5 + number * seconds)
        Clock.schedule_once(lambda _dt: finish(), 0.5 + len(plan) * seconds)

    def finish() -> None:
        phase("done", None)
        app.lock.unlock()
        app.stop()

    Clock.schedule_interval(start, 0)
    app.run()
    print("RESULT " + json.dumps(result))


def feed_noise(pulse: Any, seconds: float) -> None:
    """Speech-band noise into the virtual microphone, so the listener has audio to work on."""
    import numpy as np

    rng = np.random.default_rng(1)
    samples = rng.normal(0, 3000, int(16_000 * seconds)).astype(np.int16)
    try:
        pulse.feed_microphone(samples.tobytes())
    except OSError as error:  # the figures still stand without it
        print(f"(could not feed the microphone: {error})")


def summarise(frames: list[float]) -> str:
    if not frames:
        return "no frames"
    ordered = sorted(frames)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"{len(frames):4d} frames  median {statistics.median(frames):5.1f} ms  "
            f"p95 {p95:5.1f} ms  worst {max(frames):6.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.seconds)
        return 0

    from tests.support.pulseaudio import PulseAudioServer
    from tests.support.xvfb import XvfbDisplay

    starts: list[float] = []
    worst: dict[str, float] = {}
    with XvfbDisplay(1920, 1080) as display:
        pulse = PulseAudioServer().start()
        try:
            for run in range(args.runs):
                env = {**display.env, **pulse.env}
                process = subprocess.Popen(
                    [sys.executable, __file__, "--child", "--seconds", str(args.seconds)],
                    cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                )
                # Speech-like noise while the microphone phase runs (from a thread: writing
                # into the virtual microphone blocks for as long as the audio lasts).
                feeder = threading.Timer(3 + 2 * args.seconds, feed_noise, (pulse, args.seconds))
                feeder.daemon = True
                feeder.start()
                try:
                    out, err = process.communicate(timeout=120 + 6 * args.seconds)
                except subprocess.TimeoutExpired:
                    process.kill()
                    out, err = process.communicate()
                    print(f"run {run + 1}: the kiosk did not finish in time\n{err[-2000:]}")
                    return 1
                line = next((x for x in out.splitlines() if x.startswith("RESULT ")), None)
                if line is None:
                    print(f"run {run + 1}: no result\n{err[-2000:]}")
                    return 1
                result = json.loads(line[len("RESULT "):])
                starts.append(result["start_s"])
                print(f"run {run + 1}: engines {', '.join(result['engines'])}; "
                      f"cold start to first interactive frame {result['start_s']:.2f} s")
                for name, frames in result["phases"].items():
                    print(f"  {name:10s} {summarise(frames)}")
                    if frames:
                        worst[name] = max(worst.get(name, 0.0), max(frames))
        finally:
            pulse.stop()
    load = os.getloadavg()
    print(f"\ncold start: median {statistics.median(starts):.2f} s, worst {max(starts):.2f} s "
          f"(target < {START_TARGET_S:.0f} s)")
    for name, value in worst.items():
        verdict = "ok" if value <= FRAME_TARGET_MS else "OVER"
        print(f"worst frame {name:10s} {value:6.1f} ms ({verdict}; target <= "
              f"{FRAME_TARGET_MS:.0f} ms, baseline idle {worst.get('idle', 0.0):.1f} ms)")
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
          f"on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
