"""Spoken output: synthesis (Piper; espeak-ng via pyttsx3), an audio cache, a stoppable player
and the Speaker facade.

The UI builds one speaker with `create_speaker(settings, library, sink)` and, once the first screen
is up, calls `speaker.prerender()` to fill the cache with the library's speech in the background.
"""

from __future__ import annotations

import sys

from kiosk.config import Settings
from kiosk.events import EventSink
from kiosk.library import Library
from kiosk.speech.earcons import EARCON_NAMES
from kiosk.speech.player import GIL_SWITCH_S, Player
from kiosk.speech.render import Renderer, build_renderer, library_texts
from kiosk.speech.speaker import KioskSpeaker
from kiosk.speech.synth import Rendering, SynthesisError

__all__ = [
    "EARCON_NAMES",
    "KioskSpeaker",
    "Renderer",
    "Rendering",
    "SynthesisError",
    "create_speaker",
    "library_texts",
]


def create_speaker(
    settings: Settings, library: Library | None, sink: EventSink, *, device: str | None = None
) -> KioskSpeaker:
    """The real Speaker: never raises for want of sound (it reports SOUND_UNAVAILABLE instead).

    `device` names a PortAudio output device; by default ALSA's "pulse" device if there is one.
    """
    # The audio callback is Python: hand it the GIL sooner (a process-wide setting, set where
    # the process takes on a loudspeaker).
    sys.setswitchinterval(GIL_SWITCH_S)
    return KioskSpeaker(settings, build_renderer(settings, library), Player(device), sink, library)
