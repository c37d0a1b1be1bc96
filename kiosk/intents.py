"""The intent vocabulary: every way in (touch, keypad, voice, typed text) ends as one Intent.

Names are fixed by ../shared/INTENTS.md; other tools and the benchmarks read them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class IntentName(StrEnum):
    """The intents a visitor can express."""

    TOPIC = "topic"
    SECTION = "section"
    ASK = "ask"
    NEXT = "next"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    HOME = "home"
    HELP = "help"
    SLOWER = "slower"
    FASTER = "faster"
    LOUDER = "louder"
    QUIETER = "quieter"
    NONE = "none"


#: Intents that carry no slots: plain commands.
COMMAND_INTENTS: frozenset[IntentName] = frozenset(IntentName) - {
    IntentName.TOPIC,
    IntentName.SECTION,
    IntentName.ASK,
    IntentName.NONE,
}


@dataclass(frozen=True, slots=True)
class Intent:
    """One understood wish, with its slots and how sure we are of it."""

    name: IntentName
    topic: str | None = None
    section: str | None = None
    answer: str | None = None
    confidence: float = 1.0
    heard: str | None = None
    #: With `none`: what the visitor most likely meant, when the recognisers were not sure
    #: enough to act on it; the kiosk asks "Did you mean ...?" instead of guessing.
    maybe: Intent | None = None
    #: With `none`: "yes" or "no", the answer to such a question.
    reply: str | None = None
    #: With `help`: one of the kiosk's own actions asked for by voice ("where am I", "adjust"),
    #: from [actions] in commands.toml; shown as `help` in the JSON, as INTENTS.md fixes it.
    action: Action | None = None

    def as_json_fields(self) -> dict[str, Any]:
        """The fields of a `kiosk understand` / `kiosk recognize` JSON line, in order."""
        # Fixed by INTENTS.md: a doubtful meaning or a yes/no reply is shown as `none` there.
        return {
            "heard": self.heard,
            "intent": str(self.name),
            "topic": self.topic,
            "section": self.section,
            "answer": self.answer,
            "confidence": round(self.confidence, 3),
        }


NO_INTENT = Intent(IntentName.NONE, confidence=0.0)


class Action(StrEnum):
    """What the kiosk's own controls ask for, beside the spoken intents. Touch and the keypad
    reach the controller as these (through the tables in kiosk.inputs) or as intents."""

    TALK = "talk"
    LISTEN_SCREEN = "listen_screen"
    READ_ALL = "read_all"
    #: The reader's Pause / Listen button: pause what is read, or go on with it.
    LISTEN = "listen"
    #: The keypad's pause key: the reader's Listen button there, pause anywhere else.
    PLAY_PAUSE = "play_pause"
    BACK = "back"
    TEXT_SIZE = "text_size"
    HIGH_CONTRAST = "high_contrast"
    #: Still here: the idle warning's Continue.
    CONTINUE = "continue"
    YES = "yes"
    NO = "no"
    #: A control touched in touch-to-hear mode: focused and its label spoken.
    FOCUS = "focus"
    FOCUS_NEXT = "focus_next"
    FOCUS_PREVIOUS = "focus_previous"
    #: Do what a control does (`target`; without one, the focused control).
    ACTIVATE = "activate"
    #: Touch-to-hear on text that is not a control: say it.
    READ_TEXT = "read_text"
    #: Say (and show) where the visitor is: which screen, section n of m, what comes next.
    WHERE_AM_I = "where_am_i"
    #: Open or close the Adjust panel (speed, volume, text size, contrast).
    ADJUST = "adjust"
    #: After an answer: read the section it came from, from its start.
    READ_SECTION = "read_section"
    #: After an answer: open the microphone for another question.
    ASK_ANOTHER = "ask_another"
    #: A touch or key that asks for nothing: someone is there, so the idle clock starts again.
    #: Not counted in the usage figures.
    PRESENCE = "presence"


#: The actions a visitor may also ask for by voice ([actions] in commands.toml).
VOICE_ACTIONS: tuple[Action, ...] = (Action.WHERE_AM_I, Action.ADJUST)


@dataclass(frozen=True, slots=True)
class UiRequest:
    """One of the kiosk's own actions, with the control it is about (or the text to read)."""

    action: Action
    target: str | None = None


#: Everything the controller's `handle` takes: a spoken (or touched) intent, or a UI action.
Request = Intent | UiRequest
