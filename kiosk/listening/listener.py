"""The live Listener: microphone frames -> endpointer -> streaming decoder -> intent events.

Threads: the audio library's callback only queues 30 ms frames; one worker thread endpoints and
decodes them while the person speaks, so when speech ends only the last frames remain to decode.
Frames outside an utterance are dropped at once; an utterance's audio exists only inside the
decoder and is gone when it is decoded. Nothing heard is logged.

While the kiosk speaks, its own voice reaches the microphone too. With a `BargeIn` (the kiosk's
output as its reference), every frame also goes through its echo canceller and "stop" spotter;
a spotted "stop" counts once the recogniser hears it in the cleaned audio around the spot,
so a visitor can stop the reading by voice over the loudspeaker, and chatter near the kiosk
does not (docs/voice.md, "Barge-in").
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from kiosk.events import EventSink, EventType, event
from kiosk.intents import Intent, IntentName
from kiosk.listening.audio import RATE
from kiosk.listening.denoise import Denoiser
from kiosk.portaudio import close_stream, open_stream, rescan_devices
from kiosk.words import normalize

log = logging.getLogger(__name__)

FRAME_SAMPLES = 480  # 30 ms at 16 kHz: the endpointer's frame
#: No frames for this long from an open stream means the microphone has gone.
STALL_S = 2.0
#: How often to look for a missing microphone again.
RETRY_S = 2.0
#: Barge-in while the kiosk speaks must be this sure to count.
BARGE_IN_CONFIDENCE = 0.5
#: A spotted "stop" is confirmed on the cleaned microphone (the kiosk's voice cancelled) from
#: this long before the spot, enough for "please stop"...
CONFIRM_BEFORE_S = 1.5
#: ...to this long after it, for the end of the word and what follows ("stop reading").
#: Measured on spots captured live (docs/voice.md, "Barge-in"): against 2 s before and nothing
#: after, 29 -> 38 of 52 spotted stops confirmed, 3 -> 2 of 71 spots in chatter; a longer
#: lead-in brings in more of the kiosk's leftover voice, which the recogniser hears as words.
CONFIRM_AFTER_S = 0.3
#: Bytes of 16 kHz s16le audio.
CONFIRM_BYTES = int((CONFIRM_BEFORE_S + CONFIRM_AFTER_S) * RATE) * 2
AFTER_SPOT_BYTES = int(CONFIRM_AFTER_S * RATE) * 2


class Understands(Protocol):
    def understand(self, text: str) -> Intent: ...


class Hearing(Protocol):
    """What the listener needs of a recogniser: a Recognizer, or the RecognizerProcess that
    runs one in a process of its own."""

    @property
    def understanding(self) -> Understands: ...

    def wait_ready(self) -> None: ...

    def begin(self) -> None: ...

    def feed(self, pcm: bytes) -> None: ...

    def finish(self, neural: bool = True) -> Intent: ...

    def discard(self) -> None: ...

    def hears_stop(self, samples: np.ndarray, min_confidence: float) -> Intent | None: ...

    def close(self) -> None: ...


class StopSpotting(Protocol):
    """Cancels the kiosk's own voice and spots "stop" (kiosk.listening.barge_in.BargeIn)."""

    cleaned: bytes

    @property
    def converged(self) -> bool: ...

    def process(self, frame: bytes, heard_at: float) -> bool: ...

    def reset(self) -> None: ...


class AudioStream(Protocol):
    """An open microphone stream."""

    def close(self) -> None: ...


FrameCallback = Callable[[bytes], None]
#: Opens the microphone, calling back with 16 kHz mono s16le frames; raises OSError if it cannot.
SourceFactory = Callable[[FrameCallback], AudioStream]


class MicrophoneError(OSError):
    """No usable microphone; `code` is stable."""

    code = "microphone"


class _GuardedStream:
    """A PortAudio input stream closed through the shared guard (see kiosk.portaudio)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def close(self) -> None:
        close_stream(self._stream)


def _input_device(sd: Any, device: str) -> int | None:
    """The PortAudio index for `device` (None: the default); MicrophoneError if there is none."""
    if device != "default":
        for index, info in enumerate(sd.query_devices()):
            if info["max_input_channels"] > 0 and device.lower() in info["name"].lower():
                return index
        raise MicrophoneError(f"no microphone named like {device!r}")
    if sd.default.device[0] is None or sd.default.device[0] < 0:
        raise MicrophoneError("no default microphone")
    return None


def sounddevice_source(device: str = "default") -> SourceFactory:
    """A SourceFactory for sounddevice (PortAudio): `device` is "default" or part of a name."""

    def open_microphone(callback: FrameCallback) -> AudioStream:
        try:
            import sounddevice as sd
        except (ImportError, OSError) as error:
            raise MicrophoneError(f"audio library unavailable: {error}") from error
        try:
            try:
                chosen = _input_device(sd, device)
            except MicrophoneError:
                # PortAudio lists devices only when it starts: look again for a microphone
                # plugged in since, unless that would cut off a stream that is playing.
                if not rescan_devices():
                    raise
                chosen = _input_device(sd, device)

            def on_audio(data: bytes, frames: int, timing: object, status: object) -> None:
                callback(bytes(data))

            stream = open_stream(
                lambda: sd.RawInputStream(
                    samplerate=RATE, blocksize=FRAME_SAMPLES, device=chosen, channels=1,
                    dtype="int16", callback=on_audio,
                )
            )
            return _GuardedStream(stream)
        except MicrophoneError:
            raise
        except Exception as error:  # PortAudioError, ValueError: any failure is "no microphone"
            raise MicrophoneError(str(error) or type(error).__name__) from error

    return open_microphone


class MicrophoneListener:
    """The Listener Protocol over a microphone source and a recogniser."""

    def __init__(
        self,
        recognizer: Hearing,
        sink: EventSink,
        source: SourceFactory,
        listen_timeout_s: float = 8.0,
        wake_phrase: str | None = None,
        barge_in: StopSpotting | None = None,
    ) -> None:
        from pocketsphinx import Endpointer

        self._recognizer = recognizer
        self._barge_in = barge_in
        self._was_speaking = False
        # The last seconds of the cleaned microphone while the kiosk speaks, to confirm a "stop".
        self._cleaned = bytearray()
        # Bytes of cleaned audio still to come before a spotted "stop" is confirmed (None: no
        # spot waiting).
        self._confirm_after: int | None = None
        self._sink = sink
        self._source = source
        self._timeout = listen_timeout_s
        self._wake = tuple(normalize(wake_phrase)) if wake_phrase else ()
        # Each frame with the time it arrived, which the echo canceller lines up by.
        self._frames: queue.Queue[tuple[bytes, float] | None] = queue.Queue(maxsize=400)
        self._lock = threading.Lock()
        self._listening = False
        self._listen_started = 0.0
        self._deaf = False
        self._closed = threading.Event()
        #: Why there is no voice input ("" while there is): the recogniser could not start.
        self._unavailable = ""
        self._endpointer = Endpointer(window=0.3, ratio=0.9)
        # Kept across utterances: the room's noise changes slowly.
        self._denoiser = Denoiser()
        self._buffer = b""
        self._in_utterance = False
        self._utterance_started = 0.0
        self._worker = threading.Thread(target=self._run, name="kiosk-listener", daemon=True)
        self._worker.start()

    # The Listener Protocol -------------------------------------------------------------------

    def start_listening(self) -> None:
        """Open the microphone for one utterance (push-to-talk)."""
        if self._unavailable:
            self._sink(event(EventType.MICROPHONE_UNAVAILABLE, reason=self._unavailable))
            return
        with self._lock:
            self._listening = True
            self._listen_started = time.monotonic()
        self._sink(event(EventType.LISTENING_STARTED))

    def stop_listening(self) -> None:
        """Stop listening; any partial utterance is dropped."""
        with self._lock:
            was = self._listening
            self._listening = False
        if was:
            self._sink(event(EventType.LISTENING_STOPPED))

    def set_deaf(self, deaf: bool) -> None:
        """While the kiosk speaks only a sure "stop" gets through (barge-in)."""
        with self._lock:
            self._deaf = deaf

    def close(self) -> None:
        self._closed.set()
        with contextlib.suppress(queue.Full):
            self._frames.put_nowait(None)
        self._worker.join(timeout=5)
        self._recognizer.close()

    # Worker ---------------------------------------------------------------------------------

    def _on_frame(self, data: bytes) -> None:
        """Called on the audio library's thread: queue and return at once."""
        # If the worker is behind, dropping a frame is better than blocking the audio thread.
        with contextlib.suppress(queue.Full):
            self._frames.put_nowait((data, time.monotonic()))

    def _run(self) -> None:
        # Here, not at start-up: the kiosk is interactive while the recogniser's process builds
        # its decoders (about 2 s on two cores).
        try:
            self._recognizer.wait_ready()
        except Exception as error:  # its decoders cannot be built: no voice input, and why
            self._unavailable = str(error) or type(error).__name__
            log.warning("speech input unavailable: %s", self._unavailable)
            return
        stream: AudioStream | None = None
        # Failed opens since the microphone went: said once, then only counted (the log of a
        # kiosk left a day without its microphone stays a line or two).
        failed = 0
        while not self._closed.is_set():
            if stream is None:
                try:
                    stream = self._source(self._on_frame)
                except Exception as error:  # any failure to open means "no microphone"
                    failed += 1
                    if failed == 1:
                        log.warning("microphone unavailable: %s", error)
                        self._drop_listening()
                        self._sink(event(EventType.MICROPHONE_UNAVAILABLE, reason=str(error)))
                    self._closed.wait(RETRY_S)
                    continue
                if failed:
                    log.info("microphone available again (after %d failed tries to open it)",
                             failed)
                    failed = 0
                    self._sink(event(EventType.MICROPHONE_AVAILABLE))
            try:
                item = self._frames.get(timeout=STALL_S)
            except queue.Empty:
                item = (b"", 0.0)
            if item is None:
                break
            frame, heard_at = item
            if not frame:
                # An open stream that delivers nothing: the device was unplugged.
                self._close_stream(stream)
                stream = None
                continue
            try:
                if not self._taken_by_barge_in(frame, heard_at):
                    self._process(frame)
            except Exception:  # a decoder failure must not kill the listener
                log.exception("listening failed on one utterance")
                self._reset_utterance()
        if stream is not None:
            self._close_stream(stream)

    @staticmethod
    def _close_stream(stream: AudioStream) -> None:
        try:
            stream.close()
        except Exception:  # closing a vanished device may fail; it is gone either way
            log.debug("closing the microphone stream failed", exc_info=True)

    def _drop_listening(self) -> None:
        self._reset_utterance()
        with self._lock:
            was = self._listening
            self._listening = False
        if was:
            self._sink(event(EventType.LISTENING_STOPPED))

    def _reset_utterance(self) -> None:
        if self._in_utterance:
            self._recognizer.discard()
        self._in_utterance = False
        self._buffer = b""
        self._endpointer = type(self._endpointer)(window=0.3, ratio=0.9)

    def _active(self) -> bool:
        with self._lock:
            return self._listening or self._deaf or bool(self._wake)

    def _taken_by_barge_in(self, frame: bytes, heard_at: float) -> bool:
        """True when barge-in dealt with the frame: a visitor said "stop" over the kiosk's voice
        (reported), or the kiosk speaks and its canceller hears the loudspeaker, so the raw
        frame, its own voice, need not be decoded whole (that is for headsets)."""
        if self._barge_in is None:
            return False
        # Every frame goes through, speaking or not, so the canceller keeps the room learnt.
        spotted = self._barge_in.process(frame, heard_at)
        with self._lock:
            speaking = self._deaf and not self._listening
        if speaking != self._was_speaking:
            self._barge_in.reset()  # nothing spotted before this reading counts
            self._cleaned.clear()
            self._confirm_after = None
        self._was_speaking = speaking
        if not speaking:
            return False
        cleaned = self._barge_in.cleaned
        self._cleaned += cleaned
        del self._cleaned[: -CONFIRM_BYTES]
        if self._confirm_after is not None:
            self._confirm_after -= len(cleaned)
            if self._confirm_after <= 0:
                self._confirm_after = None
                if self._confirmed_stop():
                    return True
        elif spotted:
            self._barge_in.reset()  # the spotter starts afresh after this "stop"
            self._confirm_after = AFTER_SPOT_BYTES
        if not self._barge_in.converged:
            return False
        if self._in_utterance:
            self._reset_utterance()  # begun on raw frames, before the canceller converged
        return True

    def _confirmed_stop(self) -> bool:
        """The recogniser hears "stop" around the spot in the cleaned microphone (reported).

        The spotter also fires on chatter ("shop", "top"); this decode tells them apart.
        """
        recent = np.frombuffer(bytes(self._cleaned), dtype="<i2")
        self._cleaned.clear()
        self._reset_utterance()
        intent = self._recognizer.hears_stop(recent, BARGE_IN_CONFIDENCE)
        if intent is None:
            return False
        self._sink(event(EventType.HEARD, intent=intent))
        return True

    def _process(self, frame: bytes) -> None:
        now = time.monotonic()
        with self._lock:
            listening, timed_out = self._listening, now - self._listen_started > self._timeout
        if listening and timed_out and not self._in_utterance:
            self._drop_listening()
            self._sink(event(EventType.NOT_UNDERSTOOD, reason="timeout"))
            return
        if not self._active():
            if self._in_utterance or self._buffer:
                self._reset_utterance()
            return
        self._buffer += self._denoiser.process(frame)
        size = self._endpointer.frame_bytes
        while len(self._buffer) >= size:
            chunk, self._buffer = self._buffer[:size], self._buffer[size:]
            speech = self._endpointer.process(chunk)
            if speech is not None:
                if not self._in_utterance:
                    self._in_utterance = True
                    self._utterance_started = now
                    self._recognizer.begin()
                self._recognizer.feed(speech)
            too_long = self._in_utterance and now - self._utterance_started > self._timeout
            if self._in_utterance and (not self._endpointer.in_speech or too_long):
                self._in_utterance = False
                with self._lock:
                    asked = self._listening  # Talk pressed: the visitor is speaking to the kiosk
                intent = self._recognizer.finish(neural=asked)
                self._endpointer = type(self._endpointer)(window=0.3, ratio=0.9)
                self._deliver(intent)

    def _deliver(self, intent: Intent) -> None:
        with self._lock:
            listening, deaf = self._listening, self._deaf
        if deaf and not listening:
            if intent.name is IntentName.STOP and intent.confidence >= BARGE_IN_CONFIDENCE:
                self._sink(event(EventType.HEARD, intent=intent))
            return
        if not listening:
            if self._wake:
                self._wake_phrase(intent)
            return
        if not intent.heard:
            # A sound with no words in it (a click, a cough, or the kiosk's own "listening"
            # earcon coming back from its loudspeaker) is no answer: keep listening until the
            # visitor speaks or the listening time runs out.
            return
        with self._lock:
            self._listening = False
        self._sink(event(EventType.LISTENING_STOPPED))
        if intent.name is IntentName.NONE and intent.maybe is None and intent.reply is None:
            self._sink(event(EventType.NOT_UNDERSTOOD, reason="not understood"))
        else:  # an intent, a "Did you mean ...?" to ask, or the answer to one
            self._sink(event(EventType.HEARD, intent=intent))

    def _wake_phrase(self, intent: Intent) -> None:
        """Wake-phrase mode: "hello kiosk" opens listening; "hello kiosk, next" acts at once."""
        words = tuple((intent.heard or "").split())
        size = len(self._wake)
        if words[:size] != self._wake:
            return  # talk not addressed to the kiosk is ignored silently
        rest = " ".join(words[size:])
        if rest:
            understood = self._recognizer.understanding.understand(rest)
            if understood.name is not IntentName.NONE:
                self._sink(event(EventType.HEARD, intent=understood))
                return
        self.start_listening()
