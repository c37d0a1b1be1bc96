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
