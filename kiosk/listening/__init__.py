"""Voice input: microphone, endpointing, one long-lived pocketsphinx decoder, content-built search.

`create_listener(settings, library, sink)` gives the kiosk its Listener; `Recognizer` is the same
decoding and understanding without a microphone (used by `kiosk recognize` and the benchmark).
"""

from __future__ import annotations

from kiosk.config import Settings
from kiosk.engines import Listener, NullListener, Speaker
from kiosk.events import EventSink
from kiosk.library import Library
from kiosk.listening.barge_in import BargeIn
from kiosk.listening.listener import MicrophoneListener, SourceFactory
from kiosk.listening.pulse_source import microphone_source
from kiosk.listening.recognizer import Recognizer

__all__ = ["MicrophoneListener", "Recognizer", "create_listener"]


def create_listener(
    settings: Settings,
    library: Library,
    sink: EventSink,
    source: SourceFactory | None = None,
    speaker: Speaker | None = None,
) -> Listener:
    """The kiosk's Listener. Never raises for a missing microphone: it reports and retries.

    With `speaker` (the kiosk's KioskSpeaker) and the `barge_in` setting on, a visitor's "stop"
    is heard over the kiosk's own voice, which is cancelled using what its player sends out.
    A broken content vocabulary or decoder (DecoderError, CommandsError) is raised, so the
    caller can fall back to a NullListener that says why.
    """
    if settings.microphone == "none":
        return NullListener(sink, reason="the microphone is turned off in the settings")
    wake = settings.wake_phrase if settings.listen_mode == "wake-phrase" else None
    recognizer = Recognizer(library, extra_phrases=(wake,) if wake else ())
    # Only the real player (not a NullSpeaker) can say what it sent to the loudspeaker.
    keep_tap = getattr(getattr(speaker, "output", None), "keep_tap", None)
    barge_in = BargeIn(keep_tap()) if settings.barge_in and keep_tap is not None else None
    return MicrophoneListener(
        recognizer, sink, source or microphone_source(settings.microphone),
        listen_timeout_s=settings.listen_timeout_s, wake_phrase=wake, barge_in=barge_in,
    )
