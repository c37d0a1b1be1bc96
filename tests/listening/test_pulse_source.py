"""The microphone through the audio server's recorder (kiosk.listening.pulse_source), on a real
PulseAudio daemon with a pipe-source microphone."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from kiosk.listening.listener import MicrophoneError
from kiosk.listening.pulse_source import (
    FRAME_BYTES,
    RecorderStream,
    microphone_source,
    pulse_server_answers,
)
from tests.support.microphone import MicrophoneFeeder
from tests.support.pulseaudio import SOURCE, PulseAudioServer

pytestmark = pytest.mark.real_audio


class Frames:
    """Counts the frames a stream delivers and checks their size."""

    def __init__(self) -> None:
        self.count = 0
        self.sizes: set[int] = set()
        self.some = threading.Event()

    def __call__(self, frame: bytes) -> None:
        self.count += 1
        self.sizes.add(len(frame))
        self.some.set()


@pytest.fixture()
def fed(pulse: PulseAudioServer) -> Iterator[PulseAudioServer]:
    feeder = MicrophoneFeeder(pulse.fifo)
    try:
        yield pulse
    finally:
        feeder.close()


def test_the_default_microphone_delivers_whole_frames(fed: PulseAudioServer) -> None:
    assert pulse_server_answers()
    frames = Frames()
    stream = microphone_source("default")(frames)
    try:
        assert isinstance(stream, RecorderStream)
        assert frames.some.wait(5)
        time.sleep(0.5)
    finally:
        stream.close()
    assert frames.count >= 5
    assert frames.sizes == {FRAME_BYTES}


def test_a_microphone_is_chosen_by_part_of_its_name(fed: PulseAudioServer) -> None:
    frames = Frames()
    microphone_source(SOURCE[-3:].upper())(frames).close()  # "MIC": kiosk_mic
    assert frames.count >= 1
    with pytest.raises(MicrophoneError, match="no microphone named like 'no-such-thing'"):
        microphone_source("no-such-thing")(Frames())


def test_with_no_server_answering_portaudio_is_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: os.PathLike[str]
) -> None:
    monkeypatch.setenv("PULSE_SERVER", f"unix:{tmp_path}/nobody-here")
    assert not pulse_server_answers()
    # PortAudio's ALSA default reaches no server either: a clear error, not a hang or a crash.
    with pytest.raises(MicrophoneError):
        microphone_source("default")(Frames())


def test_a_dying_server_ends_the_frames_and_closing_never_waits() -> None:
    """What PortAudio's capture could not do (issue 17): the server goes, the frames stop (the
    listener then reopens), and closing is quick."""
    server = PulseAudioServer().start()
    feeder = MicrophoneFeeder(server.fifo)
    try:
        frames = Frames()
        stream = microphone_source("default")(frames)
        assert frames.some.wait(5)
        os.kill(int((server.runtime / "pulse" / "pid").read_text()), signal.SIGKILL)
        time.sleep(1.0)
        stopped_at = frames.count
        time.sleep(1.0)
        assert frames.count == stopped_at, "frames still came from a dead server"
        closing = threading.Thread(target=stream.close)
        closing.start()
        closing.join(timeout=10)
        assert not closing.is_alive(), "closing the microphone hung"
    finally:
        feeder.close()
        server.stop()


def test_a_source_unplugged_ends_the_recording_and_a_monitor_is_no_microphone() -> None:
    """PulseAudio moves a recording whose source goes to the default source, with no other
    microphone the loudspeaker's monitor: the recorder ends instead (the listener then looks
    again), and that monitor is refused until the microphone is back (issue 17)."""
    server = PulseAudioServer().start()
    feeder = MicrophoneFeeder(server.fifo)
    try:
        frames = Frames()
        stream = microphone_source("default")(frames)
        try:
            assert frames.some.wait(5)
            server.unplug_microphone()
            time.sleep(1.0)
            stopped_at = frames.count
            time.sleep(1.0)
            assert frames.count == stopped_at, "frames still came, from the loudspeaker's monitor"
        finally:
            stream.close()
        with pytest.raises(MicrophoneError, match=r"no microphone \(kiosk_out\.monitor"):
            microphone_source("default")(Frames())
        server.plug_microphone()
        again = Frames()
        microphone_source("default")(again).close()
        assert again.count >= 1
    finally:
        feeder.close()
        server.stop()
