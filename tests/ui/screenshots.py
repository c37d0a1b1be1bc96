"""Every screen of the kiosk, rendered the same way on every run: `make screenshots`, the
screenshot test and the geometry test.

`make screenshots` (`python -m tests.ui.screenshots`) runs the screen tour in a real kiosk
window at 1920x1080 and 1080x1920, each on a private Xvfb display, and writes its screenshots
into docs/screenshots/: the pictures in the docs, and the references that
tests/ui/test_screenshots.py compares each screen with. tests/ui/test_geometry.py asserts what
the same runs measured from the widgets at each stop (touch targets, clipped text, line length,
contrast).

The tour (`python -m tests.ui.screenshots --tour 1920x1080 --out DIR`, in a child process:
Kivy has one window per process) visits every screen and state three times: at the normal text
size, at the largest, and in high contrast. It renders deterministically: the controller's
clock stands still (FrozenClock), the speech engines are the recording fakes (the highlight is
on the second sentence because the fake said so, not because speech got there), every
visible text is drawn and the layout has stopped moving before a picture is taken, and there is
no text cursor or mouse pointer to blink.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from kiosk.config import BUNDLED_CONTENT
from tests.support.xvfb import XvfbDisplay
from tests.ui.driver import Driver, FrozenClock, Step, drive
from tests.ui.runner import ROOT, RUN_TIMEOUT_S, Report, read_report

TARGET = ROOT / "docs" / "screenshots"
SIZES = ((1920, 1080), (1080, 1920))
#: The screens and states of one pass, in the order the tour shows them.
SCREENS = ("welcome", "topic", "reader", "adjust", "answer", "sound_unavailable", "help",
           "microphone_unavailable", "did_you_mean", "idle_warning", "staff_pin")
#: The passes: the normal text size and colours, the largest text size, high contrast.
PASSES = ("", "_large_text", "_high_contrast")
#: Every state measured, in each orientation.
STATES = (*(screen + suffix for suffix in PASSES for screen in SCREENS), "content_error")
#: The states whose screenshots are kept (docs/screenshots/NAME-WxH.png).
SHOTS = (*SCREENS, "content_error", "welcome_large_text", "reader_large_text",
         "help_large_text", "welcome_high_contrast", "reader_high_contrast")


def shot_path(name: str, size: tuple[int, int]) -> Path:
    """Where the reference screenshot of `name` at `size` is kept."""
    return TARGET / f"{name}-{size[0]}x{size[1]}.png"


# ----- the tour, in the kiosk's process ------------------------------------------------------


class ScreenTour(Driver):
    """Walks every screen and state; at each, measures the geometry (as checks of the flows
    geometry:targets, geometry:clipping, geometry:measure, geometry:contrast,
    geometry:measured) and, for SHOTS, takes the screenshot."""

    def __init__(self, size: tuple[int, int], out: Path) -> None:
        super().__init__(size, out, None)
        self.clock = FrozenClock()
        self.app.clock = self.clock  # the controller is built with it once content has loaded

    def flows(self) -> Step:
        while self.ctrl is None:
            yield 0.05
        steps = self.settings.text_scale_steps
        for suffix in PASSES:
            self.ctrl.end_visit()  # back to the configured text size and colours
            if suffix == "_large_text":
                for _ in range(steps):
                    self.ctrl.activate("text_size")
            elif suffix == "_high_contrast":
                self.ctrl.activate("high_contrast")
            yield from self.one_pass(suffix)
        yield from self.content_error()

    def one_pass(self, suffix: str) -> Step:
        from kiosk.events import EventType
        from kiosk.intents import Intent, IntentName

        ctrl = self.ctrl

        topic = ctrl.library.topics[0]
        section = topic.sections[1]
        ctrl.handle(Intent(IntentName.HOME))
        yield from self.stop_at("welcome", suffix)
        ctrl.activate(f"topic:{topic.id}")
        yield from self.stop_at("topic", suffix)
        ctrl.activate(f"section:{topic.id}/{section.id}")
        yield from self.until(lambda: self.screen().name == "reader")
        self.speaker.hear_sentence(2)  # the title was the first thing said: sentence 1
        yield from self.until(lambda: ctrl.state.sentence == 1)
        yield from self.stop_at("reader", suffix)
        ctrl.activate("adjust")
        yield from self.until(lambda: self.app.root.adjust.shown)
        yield from self.stop_at("adjust", suffix)
        ctrl.activate("adjust")  # Done
        yield from self.until(lambda: not self.app.root.adjust.shown)
        # An answer: what was asked, the passage highlighted in its section, the two choices.
        answered = ctrl.library.section(topic.id, section.id)
        ctrl.handle(Intent(IntentName.ASK, answer=answered.sentences[1].text, topic=topic.id,
                           section=section.id, heard="what should I look out for"), "voice")
        yield from self.until(lambda: ctrl.state.answer is not None)
        self.speaker.hear_sentence(1)  # the passage, after "From ...:"
        yield from self.stop_at("answer", suffix)
        ctrl.activate(f"section:{topic.id}/{section.id}")
        yield from self.until(lambda: ctrl.state.answer is None)
        self.speaker.hear_sentence(2)
        yield from self.until(lambda: ctrl.state.sentence == 1)
        yield from self.with_problem(EventType.SOUND_UNAVAILABLE, EventType.SOUND_AVAILABLE,
                                     "status.sound_unavailable", "sound_unavailable" + suffix)
        ctrl.handle(Intent(IntentName.HELP))
        yield from self.stop_at("help", suffix)
        ctrl.handle(Intent(IntentName.HOME))
        yield from self.until(lambda: self.screen().name == "welcome")
        yield from self.with_problem(EventType.MICROPHONE_UNAVAILABLE,
                                     EventType.MICROPHONE_AVAILABLE,
                                     "status.microphone_unavailable",
                                     "microphone_unavailable" + suffix)
        # "Did you mean ...?", asked once the recogniser was not sure, and listening for yes.
        question, listener = self.app.root.question, self.listeners[-1]
        self.speaker.play_to_end()
        maybe = Intent(IntentName.TOPIC, topic=ctrl.library.topics[-1].id)
        listener.hear(Intent(IntentName.NONE, confidence=0.0, maybe=maybe))
        yield from self.until(lambda: question.shown)
        self.speaker.play_to_end()
        yield from self.until(lambda: listener.open)
        yield from self.stop_at("did_you_mean", suffix)
        ctrl.activate("no")
        yield from self.until(lambda: not question.shown)
        # The idle warning, over a topic, with the seconds the frozen clock leaves.
        ctrl.activate(f"topic:{topic.id}")
        yield from self.until(lambda: self.screen().name == "topic")
        self.speaker.play_to_end()
        self.clock.offset += self.settings.idle_timeout_s - self.settings.idle_warning_s + 1
        yield from self.until(lambda: self.app.root.idle.shown)
        yield from self.stop_at("idle_warning", suffix)
        ctrl.activate("continue")
        yield from self.until(lambda: not self.app.root.idle.shown)
        staff = self.app.root.staff
        self.app.open_staff_panel()
        yield from self.stop_at("staff_pin", suffix)
        staff.close()
        yield from self.until(lambda: not staff.open)

    def with_problem(self, lost: Any, back: Any, key: str, name: str) -> Step:
        from kiosk.events import event

        self.app.engine_sink(event(lost, reason="unplugged"))
        shown = self.ctrl.text(key)
        yield from self.until(lambda: self.app.status_text == shown)
        yield from self.stop_at(name, "")
        self.app.engine_sink(event(back))
        yield from self.until(lambda: self.app.status_text == "")

    def content_error(self) -> Step:
        """The content-error screen as the app shows it when content cannot be loaded, with
        the problems the loader finds in a topic-less copy of the content (its folder named
        "content", not the run's temporary one)."""
        from kiosk.last_good import load_library_or_last_good
        from kiosk.library import ContentError
        from kiosk.ui.theme import STANDARD

        ctrl = self.ctrl
        ctrl.end_visit()
        yield from self.until(lambda: self.app.theme.scale == 1.0
                              and self.app.theme.palette is STANDARD)
        broken = self.out / "broken"
        (broken / "en" / "topics").mkdir(parents=True, exist_ok=True)
        shutil.copy(BUNDLED_CONTENT / "en" / "strings.toml", broken / "en" / "strings.toml")
        try:
            load_library_or_last_good(broken / "en", self.out / "broken-cache" / "en")
            problems = ["(the broken content loaded)"]
        except ContentError as error:
            problems = [str(p).replace(str(broken), "content") for p in error.problems]
        self.app.controller = None  # as at start-up: no content, no controller
        self.app.show_content_error(problems)
        yield from self.stop_at("content_error", "")

    def stop_at(self, screen: str, suffix: str) -> Step:
        """Wait for the screen to be drawn and still; measure it; screenshot it if kept."""
        name = screen + suffix
        yield from self.settle()
        if name in SHOTS:
            yield from self.shot(name)
        self.measure(name)

    def settle(self) -> Step:
        """Until every shown text is drawn and nothing shown has moved for two frames."""
        yield 0.1
        yield from self.until(lambda: not self.unrendered(), timeout=5.0)
        last: object = None
        for _ in range(60):
            now = self.layout()
            if now == last:
                return
            last = now
            yield 0.05

    def layout(self) -> object:
        """Where everything shown is, and what it says."""
        return [(type(w).__name__, self.window_rect(w), getattr(w, "text", None),
                 getattr(w, "scroll_y", None)) for w in self.shown_layer().walk(restrict=True)]

    def measure(self, name: str) -> None:
        from kiosk.ui.theme import HIGH_CONTRAST

        obs, theme = self.obs, self.app.theme
        high = theme.palette is HIGH_CONTRAST
        need = 7.0 if high else 4.5
        contrasts = self.text_contrasts()
        targets = self.touch_targets()
        smallest = self.settings.screen_dpi / 2.54 * 2
        obs.check("geometry:targets", name, self.small_targets(smallest), "==", [])
        obs.check("geometry:clipping", name, self.cut_off(), "==", [])
        obs.check("geometry:measure", name, self.over_measure(), "==", [])
        obs.check("geometry:contrast", name,
                  [f"{ratio}:1 {what}" for ratio, what in contrasts if ratio < need], "==", [])
        obs.check("geometry:measured", f"{name}: texts measured", len(contrasts), ">=", 1)
        obs.check("geometry:measured", f"{name}: lowest text contrast",
                  min(contrasts, default=(0.0, ""))[0], ">=", need)
        obs.check("geometry:measured", f"{name}: controls measured", len(targets), ">=",
                  0 if name == "content_error" else 1)
        obs.check("geometry:measured", f"{name}: text scale", theme.scale, "==",
                  2.0 if name.endswith("_large_text") else 1.0)
        obs.check("geometry:measured", f"{name}: high contrast", high, "==",
                  name.endswith("_high_contrast"))


# ----- running the tour: the tests and `make screenshots` ------------------------------------


def run_tour(display: XvfbDisplay, size: tuple[int, int], out: Path) -> Report:
    """The tour at one window size, in a child process on `display`."""
    out.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "tests.ui.screenshots", "--tour", f"{size[0]}x{size[1]}",
               "--out", str(out)]
    result = subprocess.run(command, cwd=ROOT, env=display.env, capture_output=True, text=True,
                            timeout=RUN_TIMEOUT_S, check=False)
    log = result.stdout[-4000:] + result.stderr[-4000:]
    return read_report(size, out, f"the screen tour (exit {result.returncode})", log)


def start_tours(stack: ExitStack, out: Path) -> dict[tuple[int, int], Future[Report]]:
    """Both orientations at once, each on a display of its own (a run mostly waits for its
    window to settle); closed with `stack`."""
    displays = {size: stack.enter_context(XvfbDisplay(1920, 1920)) for size in SIZES}
    pool = stack.enter_context(ThreadPoolExecutor(max_workers=len(SIZES)))
    return {size: pool.submit(run_tour, displays[size], size, out / f"{size[0]}x{size[1]}")
            for size in SIZES}


_TOURS = pytest.StashKey[dict[tuple[int, int], "Future[Report]"]]()


def session_tours(request: pytest.FixtureRequest) -> dict[tuple[int, int], Future[Report]]:
    """The tours of this test session, started by whichever test asks first: the screenshot
    and the geometry tests share one window per orientation."""
    config = request.config
    if _TOURS not in config.stash:
        if shutil.which("Xvfb") is None:
            pytest.fail("Xvfb is needed: run `make test`, which installs it")
        stack = ExitStack()
        config.add_cleanup(stack.close)
        out = request.getfixturevalue("tmp_path_factory").mktemp("screen-tour")
        config.stash[_TOURS] = start_tours(stack, out)
    return config.stash[_TOURS]


def write_references() -> int:
    """`make screenshots`: run the tours, replace docs/screenshots/ with what they took."""
    TARGET.mkdir(parents=True, exist_ok=True)
    import tempfile

    with tempfile.TemporaryDirectory(prefix="kiosk-shots-") as scratch, ExitStack() as stack:
        reports = [future.result() for future in start_tours(stack, Path(scratch)).values()]
        for old in TARGET.glob("*.png"):
            old.unlink()
        copied = 0
        for report in reports:
            flows = sorted({check["flow"] for check in report.data["checks"]})
            failed = [line for flow in flows for line in report.failures(flow)]
            for line in failed:
                print(f"warning: {report.size[0]}x{report.size[1]}: {line}", file=sys.stderr)
            for path in report.data["screenshots"].values():
                shutil.copy(path, TARGET / Path(path).name)
                copied += 1
    print(f"{copied} screenshots written to {TARGET}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--tour", metavar="WxH", help="run the tour at this size (the child)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.tour is None:
        return write_references()
    if args.out is None:
        parser.error("--tour needs --out")
    width, height = (int(n) for n in args.tour.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    drive(ScreenTour((width, height), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
