"""The interface wording (strings.toml): every line the kiosk shows or says besides the content,
each with exactly the placeholders it must keep."""

from __future__ import annotations

import string
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from kiosk.content_files import ProblemList, key_line, read_toml
from kiosk.intents import COMMAND_INTENTS

#: Interface strings the kiosk needs, with the placeholders each must keep.
REQUIRED_STRINGS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "screen.app_title": frozenset(),
        "prompt.did_you_mean": frozenset({"meaning"}),
        "prompt.say_again": frozenset(),
        "button.yes": frozenset(),
        "button.no": frozenset(),
        **{f"meaning.{name}": frozenset() for name in sorted(COMMAND_INTENTS)},
        "screen.welcome": frozenset(),
        "screen.how_to_start": frozenset(),
        "screen.notice": frozenset(),
        "screen.topic_intro": frozenset({"topic"}),
        "screen.topic_choose": frozenset(),
        "screen.reader_intro": frozenset({"section"}),
        "screen.help_title": frozenset(),
        "screen.help_voice": frozenset(),
        "screen.help_keys": frozenset(),
        "screen.help_touch": frozenset(),
        "screen.end_of_section": frozenset(),
        "screen.end_of_topic": frozenset({"topic"}),
        "screen.answer_intro": frozenset({"section"}),
        "screen.position": frozenset({"number", "count", "topic"}),
        "screen.next_up": frozenset({"section"}),
        "screen.last_section": frozenset({"topic"}),
        "screen.help_say_title": frozenset(),
        "screen.help_say_examples": frozenset(),
        "screen.help_keys_title": frozenset(),
        "screen.answer_heard": frozenset({"heard"}),
        "screen.answer_source": frozenset({"section", "topic"}),
        "where.welcome": frozenset(),
        "where.topic": frozenset({"topic", "count"}),
        "where.reader": frozenset({"topic", "number", "count", "section"}),
        "where.next": frozenset({"section"}),
        "where.last": frozenset(),
        "where.help": frozenset(),
        "where.answer": frozenset({"section", "topic"}),
        "adjust.title": frozenset(),
        "adjust.speed": frozenset({"value"}),
        "adjust.speed_normal": frozenset(),
        "adjust.speed_slower": frozenset({"steps"}),
        "adjust.speed_faster": frozenset({"steps"}),
        "adjust.volume": frozenset({"step", "steps"}),
        "adjust.text_size": frozenset({"step", "steps"}),
        "adjust.contrast_standard": frozenset(),
        "adjust.contrast_high": frozenset(),
        "prompt.listening": frozenset(),
        "prompt.not_understood": frozenset(),
        "prompt.out_of_scope": frozenset(),
        "prompt.idle_warning": frozenset({"seconds"}),
        "prompt.visit_ended": frozenset(),
        "prompt.paused": frozenset(),
        "prompt.stopped": frozenset(),
        "prompt.continued": frozenset(),
        "prompt.at_fastest": frozenset(),
        "prompt.at_slowest": frozenset(),
        "prompt.at_loudest": frozenset(),
        "prompt.at_quietest": frozenset(),
        "prompt.text_size": frozenset({"step", "steps"}),
        "prompt.high_contrast_on": frozenset(),
        "prompt.high_contrast_off": frozenset(),
        "status.sound_unavailable": frozenset(),
        "status.sound_back": frozenset(),
        "status.microphone_unavailable": frozenset(),
        "status.microphone_back": frozenset(),
        "status.content_error": frozenset(),
        "status.staff_pin": frozenset(),
        "status.staff_wrong_pin": frozenset(),
        "status.content_error_detail": frozenset({"detail"}),
        "button.talk": frozenset(),
        "button.listen_screen": frozenset(),
        "button.read_all": frozenset(),
        "button.listen": frozenset(),
        "button.pause": frozenset(),
        "button.stop": frozenset(),
        "button.previous": frozenset(),
        "button.next": frozenset(),
        "button.repeat": frozenset(),
        "button.slower": frozenset(),
        "button.faster": frozenset(),
        "button.quieter": frozenset(),
        "button.louder": frozenset(),
        "button.text_size": frozenset(),
        "button.high_contrast": frozenset(),
        "button.home": frozenset(),
        "button.help": frozenset(),
        "button.back": frozenset(),
        "button.continue": frozenset(),
        "button.adjust": frozenset(),
        "button.done": frozenset(),
        "button.sections": frozenset(),
        "button.where_am_i": frozenset(),
        "button.read_section": frozenset(),
        "button.ask_another": frozenset(),
        "key.up": frozenset(),
        "key.down": frozenset(),
        "key.activate": frozenset(),
    }
)


def load_strings(path: Path, problems: ProblemList) -> dict[str, str]:
    parsed = read_toml(path, problems)
    if parsed is None:
        return {}
    data, lines = parsed
    strings: dict[str, str] = {}
    for group, table in data.items():
        if not isinstance(table, dict):
            problems.add(
                path, key_line(lines, group), "bad-strings", f"{group!r} must be a [table]"
            )
            continue
        group_line = key_line(lines, group)
        for name, value in table.items():
            key = f"{group}.{name}"
            line = key_line(lines, name, start=group_line)
            if key not in REQUIRED_STRINGS:
                problems.add(path, line, "unknown-key", f"unknown interface string {key!r}")
            elif not isinstance(value, str) or not value.strip():
                problems.add(path, line, "empty-string", f"{key} must be non-empty text in quotes")
            else:
                fields = {f for _, f, _, _ in string.Formatter().parse(value) if f}
                if fields != REQUIRED_STRINGS[key]:
                    wanted = (
                        ", ".join("{" + f + "}" for f in sorted(REQUIRED_STRINGS[key])) or "none"
                    )
                    problems.add(
                        path,
                        line,
                        "bad-placeholder",
                        f"{key} must use exactly these placeholders: {wanted}",
                    )
                else:
                    strings[key] = value
    for key in REQUIRED_STRINGS:
        if key not in strings and not any(p.message.startswith(key) for p in problems.items):
            problems.add(path, 1, "missing-string", f"interface string {key!r} is missing")
    return strings
