"""Voice input: microphone, endpointing, one long-lived pocketsphinx decoder, content-built search.

`create_listener(settings, library, sink)` gives the kiosk its Listener, whose Recognizer runs in a
process of its own (`RecognizerProcess`); `Recognizer` is the same decoding and understanding
without a microphone, in the caller's process (used by `kiosk recognize` and the benchmarks).
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.config import Settings
from kiosk.engines import Listener, NullListener, Speaker
from kiosk.events import EventSink
from kiosk.library import Library
from kiosk.listening.barge_in import SPOT_THRESHOLD, BargeIn
from kiosk.listening.listener import MicrophoneListener, SourceFactory
from kiosk.listening.neural import NeuralError, NeuralRecognizer, vocabulary_prompt
from kiosk.listening.pulse_source import microphone_source
from kiosk.listening.recognizer import Recognizer
from kiosk.listening.recognizer_process import RecognizerProcess

__all__ = [
    "MicrophoneListener", "Recognizer", "build_recognizer", "create_listener", "start_recognition",
]

log = logging.getLogger(__name__)


def build_recognizer(
    settings: Settings, library: Library, extra_phrases: tuple[str, ...] = (),
    wait: bool = True,
) -> tuple[Recognizer, str | None]:
    """The kiosk's recogniser for these settings, and why its neural pass is missing (None when
    all is well). A neural recogniser that cannot start leaves pocketsphinx alone, never no
    recognition: the reason is logged here and shown by `kiosk doctor`.

    With `wait` False (the kiosk's start-up) the neural model goes on loading in its own
    process; a model that then fails to load is logged at the first utterance.
    """
    neural = None
    problem = None
    if settings.recognizer == "hybrid":
        try:
            model = Path(settings.neural_model).expanduser() if settings.neural_model else None
            neural = NeuralRecognizer(model, prompt=vocabulary_prompt(library))
            if wait:
                neural.wait_ready()
        except NeuralError as error:
            if neural is not None:
                neural.close()
                neural = None
            problem = str(error)
            log.warning("neural recogniser unavailable, pocketsphinx alone: %s", problem)
    return Recognizer(library, extra_phrases=extra_phrases, neural=neural), problem


def start_recognition(settings: Settings, library: Library) -> RecognizerProcess | None:
    """Start the recognition process (None with the microphone off), so that it builds its
    decoders while the caller starts the speaker; hand it to `create_listener`."""
    if settings.microphone == "none":
        return None
    wake = settings.wake_phrase if settings.listen_mode == "wake-phrase" else None
    return RecognizerProcess(settings, library.root, (wake,) if wake else ())


def create_listener(
    settings: Settings,
    library: Library,
    sink: EventSink,
    source: SourceFactory | None = None,
    speaker: Speaker | None = None,
    recognition: RecognizerProcess | None = None,
) -> Listener:
    """The kiosk's Listener. Never raises for a missing microphone: it reports and retries.

    With `speaker` (the kiosk's KioskSpeaker) and the `barge_in` setting on, a visitor's "stop"
    is heard over the kiosk's own voice, which is cancelled using what its player sends out.
    It waits for the recogniser's process (`recognition`, if already started with
    `start_recognition`) to build its decoders; if they cannot be built (a broken vocabulary),
    RecognizerProcessError says why, and the caller falls back to a NullListener.
    """
    if settings.microphone == "none":
        if recognition is not None:
            recognition.close()
        return NullListener(sink, reason="the microphone is turned off in the settings")
    wake = settings.wake_phrase if settings.listen_mode == "wake-phrase" else None
    # pocketsphinx holds the GIL while it decodes: in a process of its own, it never holds up
    # the audio callbacks or the interface (kiosk/listening/recognizer_process.py).
    recognizer = recognition or start_recognition(settings, library)
    assert recognizer is not None
    # Waited for here, though the listener's thread would: without this wait, a fault test of
    # the running kiosk (content reloaded when a visit ends) missed its first sound once in CI.
    try:
        recognizer.wait_ready()
    except Exception:
        recognizer.close()
        raise
    # Only the real player (not a NullSpeaker) can say what it sent to the loudspeaker.
    keep_tap = getattr(getattr(speaker, "output", None), "keep_tap", None)
    barge_in = None
    if settings.barge_in and keep_tap is not None:
        # The spotter decodes in the recognition process, off this process's GIL, so the
        # output's audio callback is never held up by it (kiosk/speech/player.py).
        barge_in = BargeIn(keep_tap(), spotter=recognizer.stop_spotter(SPOT_THRESHOLD))
    return MicrophoneListener(
        recognizer, sink, source or microphone_source(settings.microphone),
        listen_timeout_s=settings.listen_timeout_s, wake_phrase=wake, barge_in=barge_in,
    )
