"""The PortAudio guard: no device re-scan while a stream is open (it would cut the stream off)."""

from __future__ import annotations

from kiosk import portaudio


class RecordingStream:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def start(self) -> None:
        self.calls.append("start")

    def abort(self) -> None:
        self.calls.append("abort")

    def close(self) -> None:
        self.calls.append("close")
        raise OSError("device vanished")  # closing a dead device may fail: it must not escape


def test_no_rescan_while_a_stream_is_open() -> None:
    stream = portaudio.open_stream(RecordingStream)
    try:
        assert portaudio.rescan_devices() is False
    finally:
        portaudio.close_stream(stream)
    assert stream.calls == ["start", "abort", "close"]
    assert portaudio.rescan_devices() is True  # nothing open: PortAudio may list devices afresh
