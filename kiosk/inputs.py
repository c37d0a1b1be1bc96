"""The tables that turn a keypad key or a touched control into a request for the controller.

Data, as screen readers keep their gesture maps: a key's action name (settings.keypad) or a
control's target ("topic:<id>", "section:<topic>/<id>", "talk", "next", ...) maps to an Intent or
a UiRequest, and the controller's `handle` is the one door they all go through.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from kiosk.intents import COMMAND_INTENTS, Action, Intent, IntentName, Request, UiRequest

#: Keypad actions (the names in settings.keypad) and what each asks for.
KEYPAD: Mapping[str, Request] = MappingProxyType({
    "up": UiRequest(Action.FOCUS_PREVIOUS),
    "down": UiRequest(Action.FOCUS_NEXT),
    "activate": UiRequest(Action.ACTIVATE),
    "pause": UiRequest(Action.PLAY_PAUSE),
    "back": UiRequest(Action.ACTIVATE, "back"),
    "help": UiRequest(Action.ACTIVATE, "help"),
    "talk": UiRequest(Action.ACTIVATE, "talk"),
    "where_am_i": UiRequest(Action.WHERE_AM_I),
    "adjust": UiRequest(Action.ADJUST),
    **{name: Intent(IntentName(name))
       for name in ("louder", "quieter", "repeat", "next", "previous", "home")},
})

#: Controls that are the kiosk's own actions, by target.
CONTROLS: Mapping[str, Request] = MappingProxyType({
    action.value: UiRequest(action)
    for action in (Action.READ_ALL, Action.TALK, Action.LISTEN_SCREEN, Action.LISTEN,
                   Action.BACK, Action.TEXT_SIZE, Action.HIGH_CONTRAST, Action.CONTINUE,
                   Action.YES, Action.NO, Action.ADJUST, Action.READ_SECTION,
                   Action.ASK_ANOTHER)
} | {
    # The reader's Sections: back to the topic's list of sections.
    "sections": UiRequest(Action.BACK),
})




def control_request(target: str) -> Request | None:
    """What activating the control `target` asks for, or None for a target nobody knows."""
    kind, _, rest = target.partition(":")
    if kind == "topic":
        return Intent(IntentName.TOPIC, topic=rest)
    if kind == "section":
        topic_id, _, section_id = rest.partition("/")
        return Intent(IntentName.SECTION, topic=topic_id, section=section_id)
    if target in CONTROLS:
        return CONTROLS[target]
    if target in COMMAND_INTENTS:
        return Intent(IntentName(target))  # the reader's Next, Repeat, Home ... buttons
    return None


def request_name(request: Request) -> str:
    """The name a request is counted under in the usage figures."""
    return request.name.value if isinstance(request, Intent) else request.action.value
