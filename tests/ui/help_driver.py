"""Drives the help screen of a real kiosk window (run under Xvfb by tests/ui/test_help_screen.py,
one process per window size and keymap).

`python -m tests.ui.help_driver --size 1080x1920 --out DIR [--rebound]` opens the kiosk with
the recording fakes of tests/ui/driver.py, opens the help screen, checks the keypad drawing
against the keymap, the things to say, the prompt line, the layout for the window's
orientation and touch-to-hear on a key, then steps the text size up to the largest and turns
high contrast on, checking for clipped or unrendered text at each step. `--rebound` starts
the kiosk with a clinic's keymap that moves two actions and takes one off the keypad.
Writes DIR/report.json as the window driver does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Mapping
from dataclasses import replace
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType
from typing import Any

from kiosk.config import DEFAULT_KEYPAD
from kiosk.intents import Intent, IntentName
from tests.ui.driver import Driver, Step

#: A clinic's keymap: Repeat and Home change places (numpad 1 and 9), and Back is on the
#: Backspace key only, so numpad 7 does nothing.
REBOUND: Mapping[str, tuple[str, ...]] = MappingProxyType({
    **DEFAULT_KEYPAD,
    "repeat": ("numpad1", "r"),
    "home": ("home", "numpad9"),
    "back": ("backspace",),
})

#: Each numpad key's name in the settings and what is printed on it.
PRINTED = {
    "numlock": "Num Lock", "numpaddivide": "/", "numpadmul": "*", "numpadsubtract": "\u2212",
    "numpadadd": "+", "numpadenter": "Enter", "numpaddecimal": ".",
    **{f"numpad{digit}": str(digit) for digit in range(10)},
}


def expected_legends(keypad: Mapping[str, tuple[str, ...]], strings: Mapping[str, str]
                     ) -> dict[str, str]:
    """What each numpad key should be labelled, worked out here from the keymap and the
    strings, apart from the code under test."""
    found = {}
    for action, names in keypad.items():
        for name in names:
            if name in PRINTED or name == "numpadsubstract":
                key = "numpadsubtract" if name == "numpadsubstract" else name
                found[key] = (strings.get(f"key.{action}") or strings.get(f"button.{action}")
                              or action.replace("_", " ").capitalize())
    return found


class HelpDriver(Driver):
    """The window driver's app and helpers, with the help screen's own flow."""

    def __init__(self, size: tuple[int, int], out: Path, rebound: bool) -> None:
        super().__init__(size, out, None)
        self.rebound = rebound
        if rebound:
            # Before the content loads: the controller is built with the app's settings.
            self.app.settings = replace(self.app.settings, keypad=REBOUND)

    def flows(self) -> Step:
        while self.ctrl is None:
            yield 0.05
        yield 0.3
        yield from self.help_flow()

    def waiting(self) -> list[str]:
        """Texts of the current screen still waiting to be rendered (a label not yet
        rendered has no height, so `unrendered` does not see it)."""
        pacer = self.app.text_pacer
        return [w.text[:30] for w in self.screen().walk(restrict=True) if w in pacer]

    def open_help(self) -> Step:
        self.ctrl.handle(Intent(IntentName.HELP))
        yield from self.until(lambda: self.screen().name == "help")
        yield 0.3
        yield from self.until(lambda: not self.waiting() and not self.unrendered(), 5.0)

    def help_flow(self) -> Step:
        obs, ctrl = self.obs, self.ctrl
        strings = ctrl.library.strings
        yield from self.open_help()
        screen = self.screen()
        obs.check("help", "screen", screen.name, "==", "help")
        # What is said when it opens is the controller's, as before the redesign.
        obs.check("help", "spoken when it opens", self.last_spoken(), "==",
                  [strings[f"screen.help_{part}"] for part in ("title", "voice", "keys", "touch")])
        # The keypad drawing follows the keymap.
        keypad = self.app.settings.keypad
        obs.check("help", "keymap in use", dict(keypad), "==",
                  dict(REBOUND if self.rebound else DEFAULT_KEYPAD))
        wanted = expected_legends(keypad, strings)
        view = screen.keypad
        drawn = {cap.name: cap.legend for cap in view.keycaps() if cap.bound}
        obs.check("help", "every numpad key in the keymap drawn with its legend", drawn, "==", wanted)
        obs.check("help", "keys drawn", sorted(cap.name for cap in view.keycaps()), "==",
                  sorted(PRINTED))
        for cap in view.keycaps():
            shown = f"{PRINTED[cap.name]}\n{wanted[cap.name]}" if cap.name in wanted \
                else PRINTED[cap.name]
            obs.check("help", f"{cap.name} shows", _plain(cap.text), "==", shown)
        obs.check("help", "keys without an action drawn plainly",
                  sorted(cap.name for cap in view.keycaps() if not cap.bound), "==",
                  sorted(set(PRINTED) - set(wanted)))
        if self.rebound:
            obs.check("help", "rebound: numpad 1 and 9 swapped, 7 plain",
                      [view.key(n).legend for n in ("numpad1", "numpad9", "numpad7")], "==",
                      [strings["button.repeat"], strings["button.home"], ""])
        # Things to say, one chip each; touch in one line.
        examples = [item.strip() for item in strings["screen.help_say_examples"].split("·")]
        obs.check("help", "things to say", [c.text for c in screen.say_examples()], "==", examples)
        obs.check("help", "touch line", screen.ids.touch_line.text, "==", strings["screen.help_touch"])
        texts = [w.text for w in self.visible_texts()]
        obs.check("help", "headings shown",
                  [t in texts for t in (strings["screen.help_keys_title"],
                                        strings["screen.help_say_title"])], "==", [True, True])
        # No line repeating the title ("Help") between the text and the buttons.
        title = strings["screen.help_title"]
        obs.check("help", "the title shown once", texts.count(title), "==", 1)
        obs.check("help", "prompt line empty", screen.ids.prompt.text, "==", "")
        yield from self.layout_checks("standard text")
        yield from self.shot("help_rebound" if self.rebound else "help")
        if self.rebound:
            return
        yield from self.touch_to_hear()
        # Every text size up to the largest, then high contrast at the largest.
        steps = self.settings.text_scale_steps
        for step in range(1, steps + 1):
            ctrl.activate("text_size")
            yield from self.until(lambda step=step: ctrl.state.text_scale == 1 + step / steps)
            yield from self.open_help()  # text size may have been pressed elsewhere
            obs.check("help", f"text scale at step {step}", ctrl.state.text_scale, "==",
                      1 + step / steps)
            yield from self.layout_checks(f"text scale {ctrl.state.text_scale}")
        yield from self.shot("help_large_text")
        ctrl.activate("high_contrast")
        yield from self.until(lambda: ctrl.state.high_contrast)
        yield from self.open_help()
        yield 0.3
        obs.check("help", "high contrast on", ctrl.state.high_contrast)
        yield from self.layout_checks("high contrast, largest text")
        yield from self.shot("help_high_contrast_large_text")

    def layout_checks(self, when: str) -> Step:
        obs, screen = self.obs, self.screen()
        yield from self.until(lambda: not self.waiting() and not self.unrendered(), 5.0)
        obs.check("help", f"{when}: nothing waiting to be rendered", self.waiting(), "==", [])
        obs.check("help", f"{when}: nothing clipped", self.clipping(), "==", [])
        obs.check("help", f"{when}: all text rendered", self.unrendered(), "==", [])
        drawn = {w.text for w in self.visible_texts()}
        obs.check("help", f"{when}: every thing to say shown",
                  [c.text for c in screen.say_examples() if c.text not in drawn], "==", [])
        keys_panel, say_panel = screen.ids.keys_panel, screen.ids.say_panel
        landscape = self.size[0] > self.size[1]
        if not landscape or when == "standard text":
            # Side by side in landscape (at the largest text size a small landscape window
            # may stack them, rather than shrink the keypad's text), stacked in portrait.
            obs.check("help", f"{when}: keypad beside the things to say", screen.wide, "==",
                      landscape)
        if screen.wide:
            obs.check("help", f"{when}: things to say beside the keypad, level with it",
                      say_panel.x >= keys_panel.right - 1
                      and abs(say_panel.top - keys_panel.top) <= 1)
        else:
            obs.check("help", f"{when}: things to say under the keypad",
                      say_panel.top <= keys_panel.y + 1)
        view = screen.keypad
        caps = view.keycaps()
        # Keys inside the keypad's case, side by side as on the keypad, none overlapping.
        obs.check("help", f"{when}: keys inside the drawing",
                  all(view.x - 1 <= c.x and c.right <= view.x + view.keys_width + 1
                      and view.y - 1 <= c.y and c.top <= view.top + 1 for c in caps))
        overlaps = [(a.name, b.name) for i, a in enumerate(caps) for b in caps[i + 1:]
                    if a.x < b.right - 1 and b.x < a.right - 1 and a.y < b.top - 1
                    and b.y < a.top - 1]
        obs.check("help", f"{when}: keys overlap", overlaps, "==", [])
        row = [view.key(n) for n in ("numpad7", "numpad8", "numpad9", "numpadadd")]
        obs.check("help", f"{when}: 7 8 9 + in a row, left to right",
                  all(a.right <= b.x for a, b in pairwise(row))
                  and len({round(c.top) for c in row}) == 1)
        column = [view.key(n) for n in ("numpad7", "numpad4", "numpad1", "numpad0")]
        obs.check("help", f"{when}: 7 4 1 0 in a column, top to bottom",
                  all(a.y >= b.top for a, b in pairwise(column)))
        obs.check("help", f"{when}: 0 twice as wide as 1",
                  view.key("numpad0").width > 2 * view.key("numpad1").width)
        obs.check("help", f"{when}: + and Enter two rows tall",
                  [view.key(n).height > 2 * view.key("numpad1").height
                   for n in ("numpadadd", "numpadenter")], "==", [True, True])
        # The drawing's text is no smaller than the controls' unless it cannot fit.
        obs.check("help", f"{when}: legend text size (px) vs the controls'",
                  min(c.font_size for c in caps), ">=", self.app.theme.control_px)
        obs.check("help", f"{when}: every control reachable",
                  all(b.height >= self.app.theme.target_px for b in screen.buttons()))

    def touch_to_hear(self) -> Step:
        """In speech mode (on: help was opened by voice and read aloud) a touch on a key of
        the drawing says the key and what it does."""
        obs, ctrl = self.obs, self.ctrl
        obs.check("help", "speech mode on", ctrl.state.speech_mode)
        view = self.screen().keypad
        for name, spoken in (("numpad8", "8: " + ctrl.library.strings["key.up"]),
                             ("numpadmul", "Star: " + ctrl.library.strings["button.pause"])):
            cap = view.key(name)
            self.screen().scroll_into_view(cap)
            yield 0.3
            before = len(self.speaker.spoken)
            self.tap(cap)
            yield from self.until(lambda before=before: len(self.speaker.spoken) > before)
            obs.check("help", f"touch on {name} says", self.last_spoken(), "==", [spoken])
        obs.check("help", "still on the help screen after the touches", self.screen().name, "==",
                  "help")


def _plain(markup: str) -> str:
    """Label markup without its tags ("[b]8[/b]" -> "8")."""
    import re

    return re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", markup).replace("&bl;", "[").replace(
        "&br;", "]").replace("&amp;", "&")


def run(size: tuple[int, int], out: Path, rebound: bool) -> dict[str, Any]:
    from kivy.clock import Clock

    driver = HelpDriver(size, out, rebound)
    steps = driver.flows()
    state = {"next_at": 0.0}

    def advance(_dt: float) -> None:
        if time.monotonic() < state["next_at"]:
            return
        try:
            wait = next(steps)
        except StopIteration:
            finish()
            return
        except Exception:
            driver.error = traceback.format_exc()
            finish()
            return
        state["next_at"] = time.monotonic() + wait

    def finish() -> None:
        Clock.unschedule(advance)
        driver.app.lock.unlock()
        driver.app.stop()

    Clock.schedule_interval(advance, 0)
    driver.app.run()
    report = {"size": list(size), "checks": driver.obs.checks,
              "screenshots": driver.screenshots, "error": driver.error}
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rebound", action="store_true", help="a clinic's own keymap")
    args = parser.parse_args(argv)
    width, height = (int(n) for n in args.size.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    run((width, height), args.out, args.rebound)
    return 0


if __name__ == "__main__":
    sys.exit(main())
