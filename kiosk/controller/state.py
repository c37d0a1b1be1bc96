"""What the controller's state is made of: the screens, what the speaker is doing, the focus
order's items and the snapshot the UI draws."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from kiosk.intents import Intent


class Screen(StrEnum):
    """The screens the controller can show (the content-error screen needs no controller)."""

    WELCOME = "welcome"
    TOPIC = "topic"
    READER = "reader"
    HELP = "help"


class Speech(StrEnum):
    """What the speaker is doing, as far as the controller asked it."""

    IDLE = "idle"
    SPEAKING = "speaking"
    PAUSED = "paused"


@dataclass(frozen=True, slots=True)
class FocusItem:
    """One thing on the current screen the keypad can move to; `target` is what activate() takes."""

    target: str
    label: str
    #: The screen's main action, drawn as such (one a screen).
    primary: bool = False


#: The prompt's key when it is the first of the screen's own lines, read aloud ("Listen to this
#: screen"): the screen already shows it (the welcome screen's or the help's title).
SCREEN_LINES = "screen.lines"


@dataclass(frozen=True, slots=True)
class ControllerState:
    """A snapshot of everything the UI shows."""

    screen: Screen = Screen.WELCOME
    topic: str | None = None
    section: str | None = None
    sentence: int = 0  # index into the section's sentences: the one being (or last) heard
    rate_wpm: int = 150
    volume_db: float = -6.0
    text_step: int = 0
    text_scale: float = 1.0  # 1.0 .. 2.0, in text_scale_steps steps
    high_contrast: bool = False
    speech: Speech = Speech.IDLE
    reading_all: bool = False  # reading flows from section to section
    listening: bool = False
    speech_mode: bool = False  # touch-to-hear: one touch speaks, a double tap activates
    sound_available: bool = True
    microphone_available: bool = True
    status: str = ""  # a device problem, shown until it clears
    prompt: str = ""  # the last interface line shown (and spoken)
    prompt_key: str = ""  # its key in strings.toml ("" for content text; or SCREEN_LINES)
    focus: str | None = None  # the focused target
    idle_seconds_left: int | None = None  # set while the idle warning is shown
    answer: str | None = None  # the passage read for a question
    #: What the visitor asked, as heard, shown with its answer ("You asked: ..."); forgotten
    #: with the answer, and never logged.
    asked: str | None = None
    #: The Adjust panel (speed, volume, text size, contrast) is open over the screen.
    adjusting: bool = False
    #: What the visitor most likely meant, while "Did you mean ...?" waits for yes or no.
    maybe: Intent | None = None


class StateChange(TypedDict, total=False):
    """Some of ControllerState's fields, with their types: what one state change may set (so a
    misspelt field or a wrong type is a type error, not a surprise at run time)."""

    screen: Screen
    topic: str | None
    section: str | None
    sentence: int
    rate_wpm: int
    volume_db: float
    text_step: int
    text_scale: float
    high_contrast: bool
    speech: Speech
    reading_all: bool
    listening: bool
    speech_mode: bool
    sound_available: bool
    microphone_available: bool
    status: str
    prompt: str
    prompt_key: str
    focus: str | None
    idle_seconds_left: int | None
    answer: str | None
    asked: str | None
    adjusting: bool
    maybe: Intent | None
