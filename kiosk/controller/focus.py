"""The focus order of each screen (keypad and touch-to-hear), and what "Listen to this screen"
reads: both follow from the state and the content alone."""

from __future__ import annotations

from kiosk.controller.state import ControllerState, FocusItem, Screen, Speech
from kiosk.library import Library


def screen_lines(state: ControllerState, library: Library) -> list[str]:
    """Everything on the current screen, in reading order, for "Listen to this screen"."""
    if state.screen is Screen.WELCOME:
        return [
            library.text("screen.app_title"), library.text("screen.welcome"),
            *(topic.title for topic in library.topics),
            library.text("screen.how_to_start"), library.text("screen.notice"),
        ]
    if state.screen is Screen.TOPIC:
        topic = library.find_topic(state.topic)
        if topic is None:
            return []
        return [
            library.text("screen.topic_intro", topic=topic.title),
            *(section.title for section in topic.sections),
            library.text("button.read_all"),
        ]
    if state.screen is Screen.HELP:
        return [
            library.text("screen.help_title"), library.text("screen.help_voice"),
            library.text("screen.help_keys"), library.text("screen.help_touch"),
        ]
    return []


def focus_items(state: ControllerState, library: Library) -> tuple[FocusItem, ...]:
    """The current screen's focus order; the UI gives each widget the same target."""
    t = library.text
    items: list[FocusItem] = []
    if state.screen is Screen.WELCOME:
        items += [FocusItem(f"topic:{topic.id}", topic.title) for topic in library.topics]
        items += [
            FocusItem("talk", t("button.talk")),
            FocusItem("listen_screen", t("button.listen_screen")),
            FocusItem("help", t("button.help")),
        ]
    elif state.screen is Screen.TOPIC:
        topic = library.find_topic(state.topic)
        if topic is not None:
            items += [
                FocusItem(f"section:{topic.id}/{section.id}", section.title)
                for section in topic.sections
            ]
            items.append(FocusItem("read_all", t("button.read_all")))
        items += [
            FocusItem("talk", t("button.talk")),
            FocusItem("listen_screen", t("button.listen_screen")),
            FocusItem("help", t("button.help")),
            FocusItem("home", t("button.home")),
        ]
    elif state.screen is Screen.READER:
        listen = "button.pause" if state.speech is Speech.SPEAKING else "button.listen"
        items += [
            FocusItem("listen", t(listen)),
            FocusItem("stop", t("button.stop")),
            FocusItem("previous", t("button.previous")),
            FocusItem("next", t("button.next")),
            FocusItem("repeat", t("button.repeat")),
            FocusItem("slower", t("button.slower")),
            FocusItem("faster", t("button.faster")),
            FocusItem("quieter", t("button.quieter")),
            FocusItem("louder", t("button.louder")),
            FocusItem("text_size", t("button.text_size")),
            FocusItem("high_contrast", t("button.high_contrast")),
            FocusItem("talk", t("button.talk")),
            FocusItem("help", t("button.help")),
            FocusItem("home", t("button.home")),
        ]
    elif state.screen is Screen.HELP:
        items += [
            FocusItem("listen_screen", t("button.listen_screen")),
            FocusItem("back", t("button.back")),
            FocusItem("home", t("button.home")),
        ]
    if state.maybe is not None:
        items[:0] = [FocusItem("yes", t("button.yes")), FocusItem("no", t("button.no"))]
    if state.idle_seconds_left is not None:
        items.insert(0, FocusItem("continue", t("button.continue")))
    return tuple(items)


def label_of(items: tuple[FocusItem, ...], target: str) -> str:
    """The label of `target` among the focus items (the target itself if it is not one)."""
    return next((item.label for item in items if item.target == target), target)
