"""Drives the whole kiosk as a blind visitor would: keypad and voice only, all real parts.

`python -m tests.e2e.driver --out DIR --cache-dir DIR --control-fd N [--attempts K]` (run by
tests/e2e/test_blind_visit.py under Xvfb, with the test's PulseAudio daemon in its environment)
opens the kiosk window with its default engines (the real Speaker playing to the null sink, the
real Listener hearing the pipe-source microphone), sends real key presses through the X server,
records what reaches the sink, and writes DIR/report.json: every observation as a check (flow,
what, actual, op, expected) for the parent to assert. When the visitor should speak it writes
`say PHRASE` on file descriptor N: the parent, whose process is otherwise idle and so keeps
real time, speaks the phrase into the virtual microphone.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import numpy as np

from kiosk.config import Settings
from kiosk.events import Event, EventType
from kiosk.ui.run import create_app
from tests.support.pulseaudio import PulseAudioServer
from tests.support.xvfb import send_keys, window_ids
from tests.ui.driver import Observer

Step = Iterator[float]  # each yield: seconds to let the app run before the next step
#: 20 ms analysis frames; a frame above this level counts as sound.
FRAME_S = 0.02
ACTIVE_DB = -45.0
#: What the visitor says into the microphone after pressing Talk.
PHRASE = "next"
#: A question the visitor asks, by voice, to reach an answer.
QUESTION = "how common are calcifications"


class RunningPulse(PulseAudioServer):
    """The parent test's PulseAudio daemon, already running; reached through our environment.

    Only the recording helpers are used here; the daemon is the parent's to stop.
    """

    def __init__(self) -> None:  # no super().__init__(): that would plan a new daemon
        names = ("PULSE_RUNTIME_PATH", "PULSE_STATE_PATH", "PULSE_SERVER", "XDG_RUNTIME_DIR")
        self.env = {name: os.environ[name] for name in names if name in os.environ}


def sound_stats(samples: np.ndarray, rate: int = 48_000, skip_s: float = 0.0) -> dict[str, float]:
    """Loudness of a recording in 20 ms frames: how much is sound and whether it varies as
    speech does (syllables), rather than a steady tone or hum."""
    samples = samples[int(skip_s * rate):]
    size = int(FRAME_S * rate)
    count = len(samples) // size
    if count == 0:
        return {"seconds": 0.0, "peak": 0.0, "active_s": 0.0, "active_fraction": 0.0,
                "modulation_db": 0.0}
    frames = samples[: count * size].reshape(count, size).astype(np.float64)
    level = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    active = level > ACTIVE_DB
    return {
        "seconds": round(len(samples) / rate, 2),
        "peak": round(float(np.abs(samples).max()), 5),
        "active_s": round(float(active.sum()) * FRAME_S, 2),
        "active_fraction": round(float(active.mean()), 3),
        # Spread of the loud frames' levels: speech rises and falls by many dB.
        "modulation_db": round(float(np.std(level[active])) if active.sum() > 1 else 0.0, 1),
    }


class EngineLog:
    """Engine events as the kiosk's real engines sent them (any thread), with their arrival
    times; the audio and what the visitor said are never kept."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.items: list[dict[str, Any]] = []
        self.started = time.monotonic()

    def add(self, item: Event) -> None:
        entry: dict[str, Any] = {"type": str(item.type), "n": 0,
                                 "t": round(time.monotonic() - self.started, 2)}
        for key in ("index", "text", "reason"):
            if key in item.data:
                entry[key] = item.data[key]
        intent = item.data.get("intent")
        if intent is not None:  # only the intent's name and slots, never what was heard
            entry["intent"] = [str(intent.name), intent.topic, intent.section]
        with self._lock:
            entry["n"] = len(self.items)
            self.items.append(entry)

    def mark(self) -> int:
        with self._lock:
            return len(self.items)

    def since(self, mark: int, kind: EventType | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = self.items[mark:]
        return [e for e in found if kind is None or e["type"] == str(kind)]

    def texts_since(self, mark: int) -> list[str]:
        return [e.get("text", "") for e in self.since(mark, EventType.SENTENCE_STARTED)]


class Visit:
    """One blind visitor's session, step by step on the Kivy clock."""

    def __init__(
        self, out: Path, cache_dir: Path, control_fd: int, size: tuple[int, int], attempts: int
    ) -> None:
        self.attempts = attempts  # how often the visitor says it when not understood
        self.out = out
        self.obs = Observer()
        self.log = EngineLog()
        self.pulse = RunningPulse()
        self.control = os.fdopen(control_fd, "w", buffering=1)
        self.settings = replace(
            Settings(), fullscreen=False, cache_dir=cache_dir, state_dir=out / "state"
        )
        # engines are the defaults: kiosk.speech.create_speaker and kiosk.listening.create_listener
        self.app = create_app(self.settings, size=size)
        original = self.app.engine_sink

        def logged(item: Event) -> None:
            self.log.add(item)
            original(item)

        # The engines get this sink when they are built (a method replaced, hence Any).
        cast(Any, self.app).engine_sink = logged
        self.error = ""
        self.sounds: dict[str, dict[str, float]] = {}
        self.voice_attempts: list[Any] = []
        self.question_attempts: list[Any] = []

    # ----- helpers -------------------------------------------------------------------

    @property
    def ctrl(self) -> Any:
        return self.app.controller

    def keys(self, *names: str) -> None:
        """Real key presses through the X server, as a USB keypad sends them."""
        display = os.environ["DISPLAY"]
        send_keys(display, window_ids(display, os.getpid())[-1], *names)

    def until(self, condition: Callable[[], bool], timeout: float) -> Step:
        deadline = time.monotonic() + timeout
        while not condition() and time.monotonic() < deadline:
            yield 0.03

    def heard(self, mark: int, text: str) -> bool:
        return text in self.log.texts_since(mark)

    def started(self, mark: int, kind: EventType) -> bool:
        return bool(self.log.since(mark, kind))

    def any_since(self, mark: int, *kinds: EventType, text: str = "") -> Callable[[], bool]:
        """A condition: one of `kinds` (or the sentence `text`) came after `mark`."""
        return lambda: any(self.started(mark, kind) for kind in kinds) or (
            bool(text) and self.heard(mark, text)
        )

    def words_since(self, mark: int, count: int) -> Callable[[], bool]:
        """A condition: `count` words were heard (WORD_STARTED at the sink) after `mark`."""
        return lambda: len(self.log.since(mark, EventType.WORD_STARTED)) >= count

    def listening_since(self, mark: int) -> Callable[[], bool]:
        return lambda: self.started(mark, EventType.LISTENING_STARTED) and bool(
            self.ctrl.state.listening
        )

    def record(self) -> subprocess.Popen[bytes]:
        return self.pulse.start_recording()

    def finish(self, name: str, recorder: subprocess.Popen[bytes], skip_s: float = 0.0) -> None:
        self.sounds[name] = sound_stats(PulseAudioServer.finish_recording(recorder), skip_s=skip_s)

    def check_speech(self, flow: str, name: str) -> None:
        """What reached the sink during `name` was speech: enough sound, rising and falling."""
        stats = self.sounds[name]
        self.obs.check(flow, f"{name}: seconds of sound at the sink", stats["active_s"], ">=", 0.3)
        self.obs.check(flow, f"{name}: level varies like speech (dB spread)",
                       stats["modulation_db"], ">=", 3.0)

    # ----- the visit ---------------------------------------------------------------------

    def flows(self) -> Step:
        obs, app = self.obs, self.app
        yield from self.until(lambda: app.controller is not None or bool(app.content_problems), 60)
        obs.check("start", "content loaded, controller running", self.ctrl is not None)
        if self.ctrl is None:
            return
        obs.check("start", "real speaker", type(app.speaker).__name__, "==", "KioskSpeaker")
        obs.check("start", "real listener", type(app.listener).__name__, "==",
                  "MicrophoneListener")
        # The player's own flag: its stream is open and its callbacks are running.
        output = cast(Any, app.speaker)._output  # the real KioskSpeaker's player (checked above)
        yield from self.until(lambda: output.available is True, 20)
        obs.check("start", "sound output open", output.available, "==", True)
        yield 0.3
        state = self.ctrl.state
        obs.check("start", "welcome screen", app.root.manager.current, "==", "welcome")
        obs.check("start", "sound available (controller)", state.sound_available)
        obs.check("start", "microphone available (controller)", state.microphone_available)
        obs.check("start", "no device banner", app.status_text, "==", "")
        # The welcome screen waits in silence; sound was never reported lost at start-up.
        obs.check("start", "sound never reported lost",
                  [e.get("reason") for e in self.log.since(0, EventType.SOUND_UNAVAILABLE)],
                  "==", [])
        obs.check("start", "nothing said before the first key", self.log.texts_since(0), "==", [])
        yield from self.focus_flow()
        yield from self.reading_flow()
        yield from self.pause_flow()
        yield from self.voice_flow()
        yield from self.answer_flow()
        yield from self.orientation_flow()
        yield from self.home_flow()

    def focus_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        library = ctrl.library
        first, second = library.topics[0], library.topics[1]
        how_to = library.text("screen.how_to_start")
        # First move of the visit: how to use the kiosk, then the tile. Skip on once it is heard.
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_2")
        yield from self.until(self.words_since(mark, 4), 20)
        self.finish("first move (how to start)", rec)
        obs.check("focus", "focus after the first Down", ctrl.state.focus, "==", f"topic:{first.id}")
        obs.check("focus", "first move: how-to-start line heard first",
                  self.log.texts_since(mark)[:1], "==", [how_to])
        self.check_speech("focus", "first move (how to start)")
        # Next move interrupts it and says the second tile.
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_2")
        yield from self.until(lambda: self.heard(mark, second.title)
                              and self.started(mark, EventType.SPEECH_FINISHED), 20)
        self.finish("second move", rec)
        obs.check("focus", "focus after the second Down", ctrl.state.focus, "==",
                  f"topic:{second.id}")
        obs.check("focus", "old speech stopped by the new move",
                  self.started(mark, EventType.SPEECH_STOPPED))
        obs.check("focus", "second tile's title heard", self.log.texts_since(mark), "==",
                  [second.title])
        self.check_speech("focus", "second move")
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_8")
        yield from self.until(lambda: self.heard(mark, first.title)
                              and self.started(mark, EventType.SPEECH_FINISHED), 20)
        self.finish("move back up", rec)
        obs.check("focus", "focus after Up", ctrl.state.focus, "==", f"topic:{first.id}")
        obs.check("focus", "first tile's title heard", self.log.texts_since(mark), "==",
                  [first.title])
        self.check_speech("focus", "move back up")

    def reading_flow(self) -> Step:
        obs, ctrl, app = self.obs, self.ctrl, self.app
        library = ctrl.library
        topic = library.topics[0]
        section = topic.sections[0]
        intro = library.text("screen.topic_intro", topic=topic.title)
        mark = self.log.mark()
        self.keys("KP_5")
        yield from self.until(lambda: self.heard(mark, intro), 20)
        obs.check("reading", "5 opens the topic", str(ctrl.state.screen), "==", "topic")
        obs.check("reading", "topic screen shown", app.root.manager.current, "==", "topic")
        obs.check("reading", "topic introduction heard", self.log.texts_since(mark)[:1], "==",
                  [intro])
        mark = self.log.mark()
        self.keys("KP_2")
        yield from self.until(lambda: self.heard(mark, section.title), 20)
        target = f"section:{topic.id}/{section.id}"
        obs.check("reading", "Down focuses the first section", ctrl.state.focus, "==", target)
        obs.check("reading", "section title heard", self.log.texts_since(mark)[:1], "==",
                  [section.title])
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_Enter")
        texts = [s.text for s in section.sentences]
        positions: list[int] = []
        unsubscribe = ctrl.subscribe(
            lambda e: positions.append(e.data["sentence"])
            if e.type is EventType.READING_POSITION else None
        )
        yield from self.until(lambda: self.heard(mark, texts[1]) and ctrl.state.sentence == 1, 40)
        unsubscribe()
        self.finish("reading", rec)
        obs.check("reading", "Enter opens the reader", str(ctrl.state.screen), "==", "reader")
        obs.check("reading", "reader screen shown", app.root.manager.current, "==", "reader")
        obs.check("reading", "section", [ctrl.state.topic, ctrl.state.section], "==",
                  [topic.id, section.id])
        obs.check("reading", "sentences heard in order (speaker's SENTENCE_STARTED)",
                  self.log.texts_since(mark), "==",
                  [library.text("screen.reader_intro", section=section.title), *texts[:2]])
        obs.check("reading", "reading position advanced", positions, "==", [0, 1])
        yield 0.2  # the redraw after the position change
        widgets = app.root.manager.current_screen.sentence_widgets()
        obs.check("reading", "highlighted sentence on screen",
                  [w.index for w in widgets if w.current], "==", [1])
        self.check_speech("reading", "reading")
        self.obs.check("reading", "reading: several seconds of speech",
                       self.sounds["reading"]["active_s"], ">=", 2.0)

    def pause_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        section = ctrl.library.topics[0].sections[0]
        mark = self.log.mark()
        self.keys("KP_Multiply")
        yield from self.until(lambda: self.started(mark, EventType.SPEECH_PAUSED)
                              and str(ctrl.state.speech) == "paused", 10)
        obs.check("pause", "pause key pauses (controller)", str(ctrl.state.speech), "==", "paused")
        paused = self.log.since(mark, EventType.SPEECH_PAUSED)
        obs.check("pause", "speaker reports the cut sentence",
                  [e.get("index") for e in paused][:1], "==", [2])
        # A measuring window, not synchronisation: the sink must stay silent while paused.
        rec = self.record()
        yield from self.until(lambda: PulseAudioServer.recorded_seconds(rec) >= 1.35, 15)
        self.finish("paused", rec, skip_s=0.15)
        obs.check("pause", "sink recorded while paused (s)", self.sounds["paused"]["seconds"],
                  ">=", 1.0)
        obs.check("pause", "sink silent while paused (peak)", self.sounds["paused"]["peak"],
                  "<=", 0.001)
        obs.check("pause", "no sentence started while paused",
                  self.log.texts_since(mark), "==", [])
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_Multiply")
        yield from self.until(self.words_since(mark, 4), 20)
        self.finish("resumed", rec)
        obs.check("pause", "pause key again resumes", str(ctrl.state.speech), "==", "speaking")
        obs.check("pause", "resumes at the start of the cut sentence",
                  self.log.texts_since(mark)[:1], "==", [section.sentences[1].text])
        obs.check("pause", "position kept", ctrl.state.sentence, "==", 1)
        self.check_speech("pause", "resumed")

    def voice_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        topic = ctrl.library.topics[0]
        section, following = topic.sections[0], topic.sections[1]
        sorry = ctrl.text("prompt.not_understood")
        for attempt in range(1, self.attempts + 1):
            mark = self.log.mark()
            self.keys("KP_0")
            yield from self.until(self.listening_since(mark), 10)
            if attempt == 1:
                obs.check("voice", "Talk key opens the microphone", ctrl.state.listening)
                obs.check("voice", "Talk stops the reading", str(ctrl.state.speech), "==", "idle")
                obs.check("voice", "listening shown", self.app.prompt_text, "==",
                          ctrl.text("prompt.listening"))
            rec, mark = self.record(), self.log.mark()
            self.control.write(f"say {PHRASE}\n")  # the visitor speaks
            yield from self.until(
                self.any_since(mark, EventType.HEARD, EventType.NOT_UNDERSTOOD), 20
            )
            outcome = [e.get("intent") or [e["type"], e.get("reason")]
                       for e in self.log.since(mark)
                       if e["type"] in (str(EventType.HEARD), str(EventType.NOT_UNDERSTOOD))]
            self.voice_attempts.append(outcome[0] if outcome else ["nothing"])
            if self.started(mark, EventType.HEARD) or attempt == self.attempts:
                break
            # Not understood: the visitor is told so, nothing else changes, and tries again.
            yield from self.until(self.any_since(mark, text=sorry), 10)
            yield from self.until(self.words_since(mark, 4), 10)  # some of it reached the sink
            self.finish(f"not understood {attempt}", rec)
            obs.check("voice_retry", f"attempt {attempt}: apology heard", self.heard(mark, sorry))
            self.check_speech("voice_retry", f"not understood {attempt}")
            obs.check("voice_retry", f"attempt {attempt}: nothing else changed",
                      [str(ctrl.state.screen), ctrl.state.section], "==", ["reader", section.id])
        heard = [e.get("intent") for e in self.log.since(mark, EventType.HEARD)]
        obs.check("voice", f"listener heard {PHRASE!r} as", heard[:1], "==",
                  [["next", None, None]])
        first = following.sentences[0].text
        yield from self.until(lambda: self.heard(mark, first), 20)
        self.finish("next section", rec)
        state = ctrl.state
        obs.check("voice", "controller moved to the next section",
                  [str(state.screen), state.topic, state.section], "==",
                  ["reader", topic.id, following.id])
        obs.check("voice", "next section being read (speaker)", self.heard(mark, first))
        obs.check("voice", "reader shows the next section",
                  self.app.root.manager.current_screen.title_text, "==", following.title)
        self.check_speech("voice", "next section")

    def answer_flow(self) -> Step:
        """Talk, a question into the microphone: its answer, with what was asked and the two
        choices. A question the listener takes for something else is asked again."""
        obs, ctrl = self.obs, self.ctrl
        for _attempt in range(self.attempts):
            mark = self.log.mark()
            self.keys("KP_0")
            yield from self.until(self.listening_since(mark), 10)
            mark = self.log.mark()
            self.control.write(f"say {QUESTION}\n")
            yield from self.until(
                self.any_since(mark, EventType.HEARD, EventType.NOT_UNDERSTOOD), 20
            )
            yield 0.3
            outcome = [e.get("intent") or [e["type"], e.get("reason")]
                       for e in self.log.since(mark)
                       if e["type"] in (str(EventType.HEARD), str(EventType.NOT_UNDERSTOOD))]
            self.question_attempts.append(outcome[0] if outcome else ["nothing"])
            if ctrl.state.answer is not None:
                break
            yield from self.until(lambda: str(ctrl.state.speech) == "idle", 15)
        state = ctrl.state
        obs.check("answer", "a spoken question reaches an answer",
                  [str(state.screen), state.answer is not None], "==", ["reader", True])
        intro = ctrl.text("screen.answer_intro",
                          section=ctrl.library.section(state.topic, state.section).title)
        yield from self.until(lambda: self.heard(mark, intro), 20)
        obs.check("answer", "the answer is read, after where it comes from",
                  self.log.texts_since(mark)[:1], "==", [intro])
        obs.check("answer", "its two choices first",
                  [item.target for item in ctrl.focus_items()][:2], "==",
                  ["read_section", "ask_another"])
        shown = self.app.root.manager.current_screen.position_text
        obs.check("answer", "what was asked is shown above it",
                  shown.startswith(ctrl.text("screen.answer_heard", heard="")))

    def orientation_flow(self) -> Step:
        """By keypad alone: where am I (3), the whole section, where am I again, and the
        Adjust panel (.) opened, a setting changed in it, and closed."""
        obs, ctrl, library = self.obs, self.ctrl, self.ctrl.library
        state = ctrl.state
        topic = library.topic(state.topic)
        section = library.section(state.topic, state.section)
        mark = self.log.mark()
        self.keys("KP_3")
        where = library.text("where.answer", section=section.title, topic=topic.title)
        yield from self.until(lambda: self.heard(mark, where), 20)
        obs.check("orient", "3 says where: an answer from its section",
                  self.log.texts_since(mark), "==", [where])
        mark = self.log.mark()
        self.keys("KP_2")
        read_section = library.text("button.read_section")
        yield from self.until(lambda: self.heard(mark, read_section), 20)
        obs.check("orient", "Down focuses Read the whole section", ctrl.state.focus, "==",
                  "read_section")
        mark = self.log.mark()
        self.keys("KP_5")
        first = section.sentences[0].text
        yield from self.until(lambda: self.heard(mark, first), 20)
        obs.check("orient", "5 reads the whole section from its start",
                  [ctrl.state.answer, ctrl.state.section], "==", [None, section.id])
        number = [s.id for s in topic.sections].index(section.id) + 1
        mark = self.log.mark()
        self.keys("KP_3")
        where = library.text("where.reader", topic=topic.title, number=number,
                             count=len(topic.sections), section=section.title)
        yield from self.until(lambda: self.heard(mark, where), 20)
        obs.check("orient", "3 says the section's number of how many",
                  self.log.texts_since(mark)[:1], "==", [where])
        rec, mark = self.record(), self.log.mark()
        self.keys("KP_Decimal")
        title = library.text("adjust.title")
        yield from self.until(lambda: self.heard(mark, title)
                              and self.started(mark, EventType.SPEECH_FINISHED), 20)
        self.finish("adjust panel", rec)
        obs.check("orient", ". opens the Adjust panel",
                  [ctrl.state.adjusting, self.app.root.adjust.shown], "==", [True, True])
        obs.check("orient", "the panel is heard with each value",
                  self.log.texts_since(mark), "==", [title, *ctrl.adjust_values()])
        self.check_speech("orient", "adjust panel")
        mark = self.log.mark()
        self.keys("KP_2")
        slower = library.text("button.slower")
        yield from self.until(lambda: self.heard(mark, slower), 20)
        mark = self.log.mark()
        self.keys("KP_5")
        yield from self.until(lambda: self.heard(mark, slower), 20)
        obs.check("orient", "Down, 5 in the panel: slower", ctrl.state.rate_wpm, "==",
                  self.app.settings.rate_wpm - self.app.settings.rate_step_wpm)
        mark = self.log.mark()
        self.keys("KP_Decimal")
        yield from self.until(self.words_since(mark, 4), 20)
        obs.check("orient", ". again closes it and the reading goes on",
                  [ctrl.state.adjusting, self.app.root.adjust.shown, str(ctrl.state.speech)],
                  "==", [False, False, "speaking"])

    def home_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        welcome = ctrl.text("screen.welcome")
        mark = self.log.mark()
        self.keys("KP_1")
        yield from self.until(lambda: self.heard(mark, welcome), 20)
        obs.check("home", "home key: welcome screen", str(ctrl.state.screen), "==", "welcome")
        obs.check("home", "welcome screen shown", self.app.root.manager.current, "==", "welcome")
        obs.check("home", "reading stopped, welcome heard", self.log.texts_since(mark)[:1], "==",
                  [welcome])

    def close(self) -> None:
        self.control.close()


def run(
    out: Path, cache_dir: Path, control_fd: int, size: tuple[int, int], attempts: int
) -> dict[str, Any]:
    from kivy.clock import Clock

    visit = Visit(out, cache_dir, control_fd, size, attempts)
    steps = visit.flows()
    state = {"next_at": 0.0}

    def finish() -> None:
        Clock.unschedule(advance)
        visit.app.lock.unlock()
        visit.app.stop()

    def advance(_dt: float) -> None:
        if time.monotonic() < state["next_at"]:
            return
        try:
            wait = next(steps)
        except StopIteration:
            finish()
            return
        except Exception:
            visit.error = traceback.format_exc()
            finish()
            return
        state["next_at"] = time.monotonic() + wait

    Clock.schedule_interval(advance, 0)
    try:
        visit.app.run()
    finally:
        visit.close()
    report = {
        "checks": visit.obs.checks,
        "sounds": visit.sounds,
        "voice_attempts": visit.voice_attempts,
        "question_attempts": visit.question_attempts,
        "events": [{k: v for k, v in e.items() if k != "text"} for e in visit.log.items],
        "error": visit.error,
    }
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, required=True)
    parser.add_argument("--control-fd", type=int, required=True)
    parser.add_argument("--size", default="1280x800")
    parser.add_argument("--attempts", type=int, default=1)
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1, file=sys.__stderr__ or sys.stdout)
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    run(args.out, args.cache_dir, args.control_fd, (width, height), args.attempts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
