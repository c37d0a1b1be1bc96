"""The live Listener: microphone loss and return, push-to-talk, timeouts, deafness, and speech
fed through a PulseAudio virtual microphone into the running loop, acted on by the controller."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from kiosk.config import Settings
from kiosk.controller import Controller
from kiosk.engines import Listener, NullListener
from kiosk.events import EventType
from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening import create_listener
from kiosk.listening import listener as listener_module
from kiosk.listening.audio import RATE
from kiosk.listening.listener import (
    FRAME_SAMPLES,
    MicrophoneError,
    MicrophoneListener,
    Understands,
)
from kiosk.listening.recognizer import Recognizer
from tests.fakes import FakeSpeaker
from tests.speech.fakes import EventLog
from tests.support.marshal import Marshal
from tests.support.microphone import MicrophoneFeeder
from tests.support.pulseaudio import PulseAudioServer
from tests.support.speech_fixtures import have_espeak, synthesize

needs_espeak = pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed")


class FakeMicrophone:
    """A SourceFactory that fails while `present` is False and plays queued PCM in real time."""

    def __init__(self) -> None:
        self.present = True
        self.opened = 0
        self.pcm: queue.Queue[bytes] = queue.Queue()
        self._stop = threading.Event()

    def __call__(self, callback: Callable[[bytes], None]) -> FakeMicrophone:
        if not self.present:
            raise MicrophoneError("unplugged")
        self.opened += 1
        self._stop.clear()
        threading.Thread(target=self._play, args=(callback,), daemon=True).start()
        return self

    def _play(self, callback: Callable[[bytes], None]) -> None:
        pending = b""
        frame = FRAME_SAMPLES * 2
        while not self._stop.is_set() and self.present:
            if len(pending) < frame:
                try:
                    pending += self.pcm.get_nowait()
                except queue.Empty:
                    pending += bytes(frame)  # a real microphone hears silence, not nothing
            callback(pending[:frame])
            pending = pending[frame:]
            time.sleep(0.005)  # faster than real time; the listener must keep up regardless

    def close(self) -> None:
        self._stop.set()


@pytest.fixture(scope="module")
def recognizer(library: Library) -> Recognizer:
    return Recognizer(library)


@pytest.fixture()
def fast_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listener_module, "RETRY_S", 0.1)
    monkeypatch.setattr(listener_module, "STALL_S", 0.5)


def _speech(text: str) -> bytes:
    pad = np.zeros(8000, dtype=np.int16)
    return np.concatenate([pad, synthesize(text, "en-us+klatt", 150), pad, pad]).tobytes()


def test_missing_microphone_is_reported_once_and_picked_up_again(
    recognizer: Recognizer, fast_retry: None
) -> None:
    events = EventLog()
    mic = FakeMicrophone()
    mic.present = False
    listener = MicrophoneListener(recognizer, events, mic)
    try:
        events.wait_for(EventType.MICROPHONE_UNAVAILABLE, timeout_s=20)
        time.sleep(0.6)  # several quiet retries
        listener.start_listening()  # must not raise while the microphone is missing
        mic.present = True
        events.wait_for(EventType.MICROPHONE_AVAILABLE, timeout_s=20)
        # Unplugged mid-session: the stream stops delivering and cannot be reopened.
        mic.present = False
        events.wait_for(EventType.MICROPHONE_UNAVAILABLE, timeout_s=20)
        mic.present = True
        events.wait_for(EventType.MICROPHONE_AVAILABLE, timeout_s=20)
    finally:
        listener.close()
    kinds = [k for k in events.kinds() if k.startswith("microphone")]
    assert kinds == [
        EventType.MICROPHONE_UNAVAILABLE, EventType.MICROPHONE_AVAILABLE,
        EventType.MICROPHONE_UNAVAILABLE, EventType.MICROPHONE_AVAILABLE,
    ]


@needs_espeak
def test_push_to_talk_hears_one_utterance(recognizer: Recognizer) -> None:
    events = EventLog()
    mic = FakeMicrophone()
    listener = MicrophoneListener(recognizer, events, mic)
    try:
        mic.pcm.put(_speech("please speak louder"))  # before listening: must be ignored
        time.sleep(1.5)
        listener.start_listening()
        events.wait_for(EventType.LISTENING_STARTED, timeout_s=20)
        mic.pcm.put(_speech("tell me about second opinions"))
        heard = events.wait_for(EventType.HEARD, timeout_s=20)
    finally:
        listener.close()
    intent = heard["intent"]
    assert (intent.name, intent.topic) == (IntentName.TOPIC, "second-opinions")
    kinds = events.kinds()
    assert kinds.index(EventType.LISTENING_STOPPED) < kinds.index(EventType.HEARD)
    assert kinds.count(EventType.HEARD) == 1


def test_listening_times_out_with_a_prompt(recognizer: Recognizer) -> None:
    events = EventLog()
    listener = MicrophoneListener(recognizer, events, FakeMicrophone(), listen_timeout_s=0.5)
    try:
        listener.start_listening()
        not_understood = events.wait_for(EventType.NOT_UNDERSTOOD, timeout_s=20)
    finally:
        listener.close()
    assert not_understood["reason"] == "timeout"
    assert EventType.LISTENING_STOPPED in events.kinds()


@needs_espeak
def test_deaf_while_speaking_except_for_stop(recognizer: Recognizer) -> None:
    events = EventLog()
    mic = FakeMicrophone()
    listener = MicrophoneListener(recognizer, events, mic)
    try:
        listener.set_deaf(True)
        mic.pcm.put(_speech("next section please"))
        mic.pcm.put(_speech("stop"))
        heard = events.wait_for(EventType.HEARD, timeout_s=20)
    finally:
        listener.close()
    assert heard["intent"].name is IntentName.STOP
    assert events.kinds().count(EventType.HEARD) == 1


class ScriptedCanceller:
    """Stands in for BargeIn: once armed, its cleaned microphone is `said`, spotted at the end."""

    def __init__(self, said: str) -> None:
        pad = np.zeros(3200, dtype=np.int16)  # 0.2 s
        self._said = np.concatenate([pad, synthesize(said, "en-us+klatt", 150), pad]).tobytes()
        self._at = len(self._said)
        self.spotted = 0
        self.resets = 0
        self.converged = True
        self.cleaned = b""

    def arm(self) -> None:
        """The visitor starts speaking (again)."""
        self._at = 0

    def wait_spotted(self, times: int) -> None:
        deadline = time.monotonic() + 20
        while self.spotted < times and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.spotted == times

    def process(self, frame: bytes, heard_at: float) -> bool:
        if self._at >= len(self._said):
            self.cleaned = bytes(len(frame))  # the kiosk's voice, all cancelled
            return False
        self.cleaned = self._said[self._at : self._at + len(frame)]
        self._at += len(frame)
        self.spotted += self._at >= len(self._said)
        return self._at >= len(self._said)

    def reset(self) -> None:
        self.resets += 1


@needs_espeak
@pytest.mark.parametrize(
    ("said", "acted_on"), [("please stop", True), ("the top floor has a cafe", False)]
)
def test_a_spotted_stop_counts_only_while_speaking_and_if_the_recogniser_hears_it(
    recognizer: Recognizer, said: str, acted_on: bool
) -> None:
    events = EventLog()
    mic = FakeMicrophone()
    canceller = ScriptedCanceller(said)
    listener = MicrophoneListener(recognizer, events, mic, barge_in=canceller)
    try:
        canceller.arm()  # the kiosk is silent: whatever is spotted is not a barge-in
        canceller.wait_spotted(1)
        time.sleep(0.5)
        assert EventType.HEARD not in events.kinds()
        listener.set_deaf(True)  # the kiosk speaks
        time.sleep(0.3)
        canceller.arm()
        canceller.wait_spotted(2)
        time.sleep(2.0)  # the confirming decode
    finally:
        listener.close()
    heard = [e["intent"].name for e in events.events if e.type is EventType.HEARD]
    assert heard == ([IntentName.STOP] if acted_on else []), heard
    assert canceller.resets >= 1


class NumberedCanceller:
    """Stands in for BargeIn while the kiosk speaks: cleaned frame n holds the sample value n,
    and "stop" is spotted on frame `spot_at`."""

    converged = True

    def __init__(self, spot_at: int) -> None:
        self.spot_at = spot_at
        self.frames = 0
        self.cleaned = b""

    def process(self, frame: bytes, heard_at: float) -> bool:
        self.frames += 1
        self.cleaned = np.full(len(frame) // 2, self.frames, dtype="<i2").tobytes()
        return self.frames == self.spot_at

    def reset(self) -> None:
        pass


class WindowRecognizer:
    """Stands in for the Recognizer of the confirming decode: keeps what it was given. While
    the kiosk speaks the listener only asks it to confirm a "stop"; the rest of a recogniser
    (kiosk.listening.listener.Hearing) says so if it is ever asked."""

    def __init__(self) -> None:
        self.given: list[np.ndarray] = []
        self.closed = False

    @property
    def understanding(self) -> Understands:
        raise AssertionError("not asked while the kiosk speaks")

    def wait_ready(self) -> None:
        pass

    def begin(self) -> None:
        raise AssertionError("not asked while the kiosk speaks")

    def feed(self, pcm: bytes) -> None:
        raise AssertionError("not asked while the kiosk speaks")

    def finish(self, neural: bool = True) -> Intent:
        raise AssertionError("not asked while the kiosk speaks")

    def hears_stop(self, samples: np.ndarray, min_confidence: float) -> Intent | None:
        self.given.append(samples.copy())
        return Intent(IntentName.STOP, confidence=1.0)

    def discard(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def test_a_spotted_stop_is_confirmed_on_the_words_around_the_spot() -> None:
    """The decode that confirms a spot hears the lead-in before it and the rest of the words
    after it ("stop | reading"), not just what had arrived when the spotter fired."""
    events = EventLog()
    mic = FakeMicrophone()
    spot_at = 100  # frames of 30 ms: 3 s into the reading
    canceller = NumberedCanceller(spot_at)
    recognizer = WindowRecognizer()
    listener = MicrophoneListener(
        recognizer, events, mic, barge_in=canceller
    )
    listener.set_deaf(True)  # the kiosk speaks
    try:
        deadline = time.monotonic() + 20
        while canceller.frames < spot_at + 40 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        listener.close()
    assert recognizer.closed  # the listener hands its recogniser's process back
    assert len(recognizer.given) == 1
    frames_heard = np.unique(recognizer.given[0])
    frame_s = FRAME_SAMPLES / RATE
    after = round(listener_module.CONFIRM_AFTER_S / frame_s)
    before = round(listener_module.CONFIRM_BEFORE_S / frame_s)
    assert frames_heard.max() == spot_at + after
    assert frames_heard.min() <= spot_at - before + 2
    assert [e["intent"].name for e in events.events if e.type is EventType.HEARD] == [
        IntentName.STOP
    ]


def test_microphone_none_gives_a_null_listener(library: Library) -> None:
    listener = create_listener(Settings(microphone="none"), library, EventLog())
    assert isinstance(listener, NullListener)
    assert isinstance(listener, Listener)


@pytest.fixture()
def microphone(pulse: PulseAudioServer) -> Iterator[MicrophoneFeeder]:
    feeder = MicrophoneFeeder(pulse.fifo)
    try:
        yield feeder
    finally:
        feeder.close()


@pytest.mark.real_audio
@needs_espeak
def test_speech_through_the_virtual_microphone_drives_the_controller(
    library: Library, pulse: PulseAudioServer, microphone: MicrophoneFeeder
) -> None:
    """espeak-ng -> PulseAudio pipe source -> sounddevice -> endpointer -> decoder -> controller."""
    settings = Settings()
    controller = Controller(settings, library)
    # The UI marshals engine events onto its thread; the test does it here, in order.
    marshal = Marshal()
    listener = create_listener(settings, library, marshal)
    controller.attach(FakeSpeaker(controller.on_engine_event), listener)
    try:
        volume = controller.state.volume_db
        controller.talk()  # push-to-talk, as the Talk button and keypad 0 do
        microphone.speech.put(_speech("please speak louder"))
        heard = marshal.pump_until(controller, EventType.HEARD, 30)
        assert heard["intent"].name is IntentName.LOUDER
        assert controller.state.volume_db > volume

        controller.talk()
        microphone.speech.put(_speech("tell me about second opinions"))
        marshal.pump_until(controller, EventType.HEARD, 30)
        assert controller.state.topic == "second-opinions"
    finally:
        listener.close()


@needs_espeak
def test_wake_phrase_mode(library: Library) -> None:
    """"hello kiosk, <command>" acts at once; other talk is ignored without a word."""
    settings = Settings(listen_mode="wake-phrase", wake_phrase="hello kiosk")
    events = EventLog()
    mic = FakeMicrophone()
    listener = create_listener(settings, library, events, source=mic)
    try:
        mic.pcm.put(_speech("where did i leave my car keys"))
        mic.pcm.put(_speech("hello kiosk speak louder"))
        heard = events.wait_for(EventType.HEARD, timeout_s=30)
    finally:
        listener.close()
    assert heard["intent"].name is IntentName.LOUDER
    assert EventType.NOT_UNDERSTOOD not in events.kinds()
