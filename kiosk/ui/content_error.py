"""Content-error screen: the kiosk's information could not be loaded; shown plainly and spoken.

It needs no controller (there is no library to drive one). The message comes from strings.toml
when that file still reads, otherwise from the English fallback here.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from kivy.lang import Builder
from kivy.properties import StringProperty
from kivy.uix.screenmanager import Screen

from kiosk.files import TEXT_ENCODING

FALLBACK_MESSAGE = (
    "This kiosk's information could not be loaded. Please ask a member of staff for help."
)
FALLBACK_DETAIL = "Details for staff: {detail}"
#: How many problems to list on screen (the full list is in the log and `kiosk validate`).
MAX_PROBLEMS = 5


def content_error_text(language_dir: Path) -> tuple[str, str]:
    """The message and the staff-detail template, from the site's strings if they can be read."""
    try:
        text = (language_dir / "strings.toml").read_text(encoding=TEXT_ENCODING)
        status = tomllib.loads(text).get("status", {})
        message = status.get("content_error")
        detail = status.get("content_error_detail")
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError, AttributeError):
        return FALLBACK_MESSAGE, FALLBACK_DETAIL
    ok_message = isinstance(message, str) and message.strip()
    ok_detail = isinstance(detail, str) and "{detail}" in detail
    return (
        message if isinstance(message, str) and ok_message else FALLBACK_MESSAGE,
        detail if isinstance(detail, str) and ok_detail else FALLBACK_DETAIL,
    )


class ContentErrorScreen(Screen):  # type: ignore[misc]
    """Shown instead of a traceback when the content tree is broken."""

    message = StringProperty(FALLBACK_MESSAGE)
    detail = StringProperty("")

    def show(self, language_dir: Path, problems: list[str]) -> str:
        """Fill in the message and details; returns the message (to be spoken)."""
        message, template = content_error_text(language_dir)
        self.message = message
        listed = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            listed.append(f"... and {len(problems) - MAX_PROBLEMS} more (run: kiosk validate)")
        self.detail = template.replace("{detail}", "\n" + "\n".join(listed)) if listed else ""
        return message


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
