"""Start-up without Kivy: the speech and listening engines for some content, and their closing.

The app (kiosk/ui/app.py) calls these off its UI thread; tests and benchmarks hand the app a
factory of their own with the same signature (`EngineFactory`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from kiosk.config import Settings
from kiosk.engines import Listener, NullListener, NullSpeaker, Speaker
from kiosk.events import EventSink
from kiosk.library import Library

log = logging.getLogger(__name__)

EngineFactory = Callable[[Settings, Library, EventSink], tuple[Speaker, Listener]]


def default_engines(
    settings: Settings, library: Library, sink: EventSink
) -> tuple[Speaker, Listener]:
    """The real Speaker and Listener when they can start, else null ones that say why.

    Both share PortAudio; kiosk.portaudio keeps either from restarting it under the other's
    open stream, so they can start in any order.
    """
    from kiosk.listening import create_listener, start_recognition
    from kiosk.speech import create_speaker

    speaker: Speaker
    listener: Listener
    try:
        # Started first: it builds its decoders while the speaker starts.
        recognition = start_recognition(settings, library)
    except Exception as error:  # no process could be started: voice input fails below
        log.warning("engines: the recognition process did not start (%s)", error)
        recognition = None
    try:
        speaker = create_speaker(settings, library, sink)
    except Exception as error:  # any failure: run silent rather than not at all
        log.warning("engines: speech output unavailable (%s)", error)
        speaker = NullSpeaker(sink, reason=str(error) or type(error).__name__)
    try:
        # The speaker first: the listener cancels its voice from the microphone (barge-in).
        listener = create_listener(settings, library, sink, speaker=speaker,
                                   recognition=recognition)
    except Exception as error:  # a broken vocabulary or decoder: run without voice input
        log.warning("engines: speech input unavailable (%s)", error)
        listener = NullListener(sink, reason=str(error) or type(error).__name__)
    return speaker, listener


def close_engines(*engines: Speaker | Listener | None) -> None:
    """Close each engine given; one that fails to close is logged and the rest still close."""
    for engine in engines:
        if engine is not None:
            try:
                engine.close()
            except Exception as error:
                log.warning("engines: closing %s failed (%s)", type(engine).__name__, error)
