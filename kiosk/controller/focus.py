"""The focus order of each screen (keypad and touch-to-hear), and what "Listen to this screen"
reads: both follow from the state and the content alone."""

from __future__ import annotations

from kiosk.controller.state import ControllerState, FocusItem, Screen, Speech
from kiosk.library import Library

#: The Adjust panel's controls, in its order (then Done).
ADJUST_TARGETS = ("slower", "faster", "quieter", "louder", "text_size", "high_contrast")


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


def where_lines(state: ControllerState, library: Library) -> list[str]:
    """Where the visitor is, for "where am I": the screen, and in the reader the section's
    number of how many, and what comes next."""
    t = library.text
    topic = library.find_topic(state.topic)
    if state.screen is Screen.HELP:
        return [t("where.help")]
    if topic is None or state.screen is Screen.WELCOME:
        return [t("where.welcome")]
    count = len(topic.sections)
    if state.screen is Screen.TOPIC or state.section is None:
        return [t("where.topic", topic=topic.title, count=count)]
    ids = [section.id for section in topic.sections]
    number = ids.index(state.section) + 1 if state.section in ids else 1
    section = topic.sections[number - 1]
    if state.answer is not None:
        return [t("where.answer", section=section.title, topic=topic.title)]
    lines = [t("where.reader", topic=topic.title, number=number, count=count,
               section=section.title)]
    if number < count:
        lines.append(t("where.next", section=topic.sections[number].title))
    else:
        lines.append(t("where.last"))
    return lines


def focus_items(state: ControllerState, library: Library) -> tuple[FocusItem, ...]:
    """The current screen's focus order; the UI gives each widget the same target."""
    t = library.text
    items: list[FocusItem] = []
    if state.adjusting:
        # The Adjust panel covers the screen: only its controls, Done last.
        items += [FocusItem(target, t(f"button.{target}")) for target in ADJUST_TARGETS]
        items.append(FocusItem("adjust", t("button.done"), primary=True))
    elif state.screen is Screen.WELCOME:
        items += [FocusItem(f"topic:{topic.id}", topic.title) for topic in library.topics]
        items += [
            FocusItem("talk", t("button.talk"), primary=True),
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
            items.append(FocusItem("read_all", t("button.read_all"), primary=True))
        items += [
            FocusItem("talk", t("button.talk")),
            FocusItem("listen_screen", t("button.listen_screen")),
            FocusItem("help", t("button.help")),
            FocusItem("home", t("button.home")),
        ]
    elif state.screen is Screen.READER and state.answer is not None:
        # An answer: read on in its section, or ask something else.
        listen = "button.pause" if state.speech is Speech.SPEAKING else "button.listen"
        items += [
            FocusItem("read_section", t("button.read_section"), primary=True),
            FocusItem("ask_another", t("button.ask_another")),
            FocusItem("listen", t(listen)),
            FocusItem("home", t("button.home")),
        ]
    elif state.screen is Screen.READER:
        # What a reader needs all the time; the settings wait in the Adjust panel.
        listen = "button.pause" if state.speech is Speech.SPEAKING else "button.listen"
        items += [
            FocusItem("listen", t(listen), primary=True),
            FocusItem("previous", t("button.previous")),
            FocusItem("next", t("button.next")),
            FocusItem("repeat", t("button.repeat")),
            FocusItem("talk", t("button.talk")),
            FocusItem("sections", t("button.sections")),
            FocusItem("adjust", t("button.adjust")),
            FocusItem("help", t("button.help")),
            FocusItem("home", t("button.home")),
        ]
    elif state.screen is Screen.HELP:
        items += [
            FocusItem("listen_screen", t("button.listen_screen")),
            FocusItem("back", t("button.back"), primary=True),
            FocusItem("home", t("button.home")),
        ]
    if state.maybe is not None:
        items[:0] = [FocusItem("yes", t("button.yes"), primary=True),
                     FocusItem("no", t("button.no"))]
    if state.idle_seconds_left is not None:
        items.insert(0, FocusItem("continue", t("button.continue"), primary=True))
    return tuple(items)


def label_of(items: tuple[FocusItem, ...], target: str) -> str:
    """The label of `target` among the focus items (the target itself if it is not one)."""
    return next((item.label for item in items if item.target == target), target)
