"""Playback through PortAudio (sounddevice) on a stream that stays open, with sample-exact progress.

The stream is opened once and plays silence between sounds: an idle PulseAudio sink suspends and
a newly opened ALSA-pulse stream swallows its first second, so reopening per sound would make
every first sound late. Clips queue back to back (no gaps between sentences); the audio callback
knows to the sample where each clip starts, reaches a mark (a word) and ends, and reports that as
a `Notice` due when the sample reaches the loudspeaker (callback time + output latency + offset).

A supervisor thread opens the stream, watches that callbacks keep coming, and after a failure
(no device, PulseAudio restarted) reopens it every few seconds, reporting `lost` once and
`available` when sound is back. Nothing here raises to the caller for want of a device.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import soxr

from kiosk.portaudio import close_stream, open_stream, rescan_devices
from kiosk.speech.output_tap import OutputTap, Samples

log = logging.getLogger(__name__)

#: The rate espeak-ng renders at; other rates are resampled to it.
PLAYER_RATE = 22_050
#: Requested output latency. Lower is snappier, but the callback is Python: any other thread
#: holding the GIL longer than this (the listener decoding what the microphone hears while the
#: kiosk speaks, a heavy UI frame) makes an underrun, an audible stutter. Measured in the
#: PulseAudio room, 20 s of reading with the microphone hearing it: 146 underruns at 12 ms
#: (the listener holds the GIL up to 12.4 ms per piece of audio it decodes), none at 25 ms and
#: above. 50 ms also covers the slowest UI frames measured (about 40 ms, benchmarks/ui.py).
#: Tried again on 3 December with the shorter GIL switch below (and, once, pocketsphinx fed 10 ms
#: at a time, which changed what it heard): 12 ms still underflowed 417 times in 120 s of live
#: barge-in reading (50 ms: 3), and 25 ms gave first sound p50 46 / p95 75 ms (50 ms: 65 / 81).
#: The 50 ms target for first sound needs recognition out of this process.
#: With the recogniser in a process of its own (3 December, 180 s of live barge-in reading in
#: the room, `benchmarks/barge_in.py --live --seconds 60`, one run each): 12 ms underflowed 13
#: times, 16 ms 8, 20 ms 85, 25 ms none; but at 25 ms the room's barge-in test, in the whole
#: suite on a clean checkout, underflowed 19 times while Piper rendered and never caught the
#: visitor's "stop" (the canceller's reference slips with each underflow).
#: 25 ms again once the barge-in spotter moved into the recognition process too, the callback's
#: thread asked for real-time priority and the Piper worker ran 5 nicer (3 December, quiet
#: machine): the room's barge-in scenario 4 runs out of 4 with no underflow, each stop caught at
#: the second try; first sound cached p50 39.6 ms, p95 49.0 ms (benchmarks/speech_output.py).
#: On a machine loaded by other work (load average 3-6 on 2 cores) it still underflowed, from
#: 0 to 259 times a run: the ALSA pulse plugin's and the sound server's threads are not
#: real-time here (docs/speech.md).
OUTPUT_LATENCY_S = 0.025
#: Real-time priority asked for the audio callback's thread (1-99; PulseAudio's own threads,
#: through rtkit, take about 5, and the callback feeds them).
AUDIO_PRIORITY = 4
#: How long a busy Python thread keeps the GIL while another waits for it (Python's default is
#: 5 ms). The audio callback waits at most this long behind Python code (C code that holds the
#: GIL is not interrupted): measured with pocketsphinx decoding 30 ms frames beside a waiting
#: thread on a loaded machine, its wait was at most 17 ms at 5 ms and 11 ms at 1 ms.
GIL_SWITCH_S = 0.001
#: Callbacks must run steadily this long after opening before audio is trusted to be heard
#: (the ALSA pulse plugin drops what is written while it connects, and may stall a second or so).
WARM_UP_S = 0.5
#: No callback for this long means the device has gone (a busy machine can stall the ALSA
#: pulse plugin for over a second and then carry on; a closed stream is noticed at once).
STALL_S = 3.0
#: How often a lost device is retried.
RETRY_S = 1.0
#: Length of the fade applied when a clip is cut, to avoid a click.
FADE_S = 0.005


def _realtime_thread() -> bool:
    """Ask for round-robin real-time priority for the calling thread (the audio callback's);
    False where that is not allowed (no CAP_SYS_NICE or RLIMIT_RTPRIO): it then runs as before.

    Why: on two cores the kiosk's own processes (Piper rendering the next sentence, the
    recogniser, the interface) can keep the callback's thread waiting for a core past the
    output buffer, an underflow; at real-time priority it runs as soon as it wakes. It needs
    the GIL still, which other threads hand over within GIL_SWITCH_S. Its work is a few
    copies per callback, so it never keeps a core from the rest for long.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(AUDIO_PRIORITY))
    except (OSError, AttributeError):
        return False
    return True


@dataclass(frozen=True, slots=True)
class Clip:
    """Audio to play (float32 mono at the player's rate), a tag to report, and marks within it."""

    pcm: Samples
    tag: Any
    marks: Sequence[tuple[int, Any]] = ()  # (sample offset, payload), in order


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the listener will hear at monotonic time `due`.

    kind: "start" / "mark" / "end" (of a clip, with its tag; a mark has its payload),
    "lost" (payload: reason) or "available".
    """

    kind: str
    tag: Any = None
    payload: Any = None
    due: float = field(default_factory=time.monotonic)


Notify = Callable[[Notice], None]


class AudioOutput(Protocol):
    """What the Speaker needs from a player (the real one below, or a fake in tests)."""

    rate: int

    def start(self, notify: Notify) -> None:
        """Begin opening the device; report through `notify` (which must not block)."""

    @property
    def available(self) -> bool | None:
        """True when sound can be heard, False when lost, None while first opening."""

    def enqueue(self, clip: Clip) -> None:
        """Play `clip` after everything queued."""

    def clear(self) -> Any:
        """Silence now and drop the queue; return the tag of the clip that was cut, if any."""

    def drop_queued(self) -> list[Any]:
        """Drop clips that have not started; the playing one goes on. Return their tags."""

    def overlay(self, pcm: Samples) -> None:
        """Mix a short sound over whatever plays (earcons)."""

    def set_gain_db(self, gain_db: float) -> None:
        """Output gain in dB (0 is full scale); applied smoothly, at once."""

    def close(self) -> None:
        """Close the device and stop the supervisor."""


def resample(pcm: Samples, rate: int, target: int = PLAYER_RATE) -> Samples:
    """Band-limited resampling by libsoxr, time-aligned (a mark at sample n moves to n * ratio)."""
    if rate == target or len(pcm) == 0:
        return pcm
    return np.asarray(soxr.resample(np.asarray(pcm, dtype=np.float32), rate, target),
                      dtype=np.float32)


def _output_device_names() -> list[str]:
    import sounddevice as sd

    return [
        str(device["name"]) for device in sd.query_devices() if device["max_output_channels"] > 0
    ]


def _choose_device(preferred: str | None) -> str | int | None:
    """The named device; else ALSA's "pulse" (reaches PulseAudio/PipeWire); else the default."""

    names = _output_device_names()
    # PortAudio lists devices once, when it starts: if sound was missing then, look again
    # (kiosk.portaudio does so only while no other stream would be cut off).
    if not names and rescan_devices():
        names = _output_device_names()
    if not names:
        raise OSError("no audio output device")
    if preferred:
        if not any(preferred in name for name in names):
            raise OSError(f"no output device named {preferred!r}")
        return preferred
    for name in ("pulse", "default"):
        if name in names:
            return name
    return None


class Player:
    """The real AudioOutput: one sounddevice OutputStream kept open, fed by a callback."""

    def __init__(self, device: str | None = None, latency_s: float = OUTPUT_LATENCY_S) -> None:
        self.rate = PLAYER_RATE
        self.device = device
        self.latency_s = latency_s
        self._notify: Notify = lambda _notice: None
        self._lock = threading.Lock()
        self._queue: deque[Clip] = deque()
        self._offset = 0
        self._mark_index = 0
        self._fade: Samples | None = None
        self._overlays: list[list[Any]] = []  # [samples, offset]
        self._gain_now = 1.0
        self._gain_target = 1.0
        self._stream: Any = None
        self._latency = latency_s
        self._ready = False
        self._available: bool | None = None
        self._last_callback = 0.0
        self._steady_since = 0.0
        self._closed = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._lost_reason = ""
        self.underflows = 0  # callbacks that reported an output underflow (audible glitches)
        #: Whether the audio callback's thread runs at real-time priority (None: not yet known;
        #: see `_realtime_thread`).
        self.realtime: bool | None = None
        #: What was sent to the loudspeaker, for cancelling it from the microphone; kept only
        #: once asked for (`keep_tap`: the listener asks when the `barge_in` setting is on), so
        #: with barge-in off the audio callback does no work for it.
        self.tap: OutputTap | None = None

    # ----- public -------------------------------------------------------------------------

    def keep_tap(self) -> OutputTap:
        """Start recording what is sent to the loudspeaker (the listener's barge-in reference)."""
        if self.tap is None:
            self.tap = OutputTap(self.rate)
        return self.tap

    def start(self, notify: Notify) -> None:
        self._notify = notify
        self._supervisor = threading.Thread(
            target=self._supervise, name="kiosk-player", daemon=True
        )
        self._supervisor.start()

    @property
    def available(self) -> bool | None:
        return self._available

    def wait_ready(self, timeout_s: float) -> bool:
        """Block until sound can be heard (for the CLI and tests); False on timeout or loss."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._available:
                return True
            time.sleep(0.02)
        return False

    def enqueue(self, clip: Clip) -> None:
        with self._lock:
            self._queue.append(clip)

    def clear(self) -> Any:
        with self._lock:
            cut = None
            if self._queue and self._offset > 0:
                clip = self._queue[0]
                cut = clip.tag
                tail = clip.pcm[self._offset:self._offset + int(FADE_S * self.rate)]
                self._fade = (tail * np.linspace(1.0, 0.0, len(tail), dtype=np.float32)).astype(
                    np.float32
                )
            self._queue.clear()
            self._offset = 0
            self._mark_index = 0
            return cut

    def drop_queued(self) -> list[Any]:
        with self._lock:
            keep = 1 if self._queue and self._offset > 0 else 0
            dropped = [clip.tag for clip in list(self._queue)[keep:]]
            while len(self._queue) > keep:
                self._queue.pop()
            if not keep:
                self._offset = 0
                self._mark_index = 0
            return dropped

    def overlay(self, pcm: Samples) -> None:
        with self._lock:
            self._overlays.append([pcm, 0])

    def set_gain_db(self, gain_db: float) -> None:
        with self._lock:
            self._gain_target = float(10.0 ** (min(gain_db, 0.0) / 20.0))

    def close(self) -> None:
        self._closed.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout=5)
        self._close_stream()

    # ----- the audio callback (PortAudio's thread: no blocking, no logging) ---------------

    def _callback(self, out: Any, frames: int, time_info: Any, status: Any) -> None:
        if self.realtime is None:
            self.realtime = _realtime_thread()
        if status.output_underflow:
            self.underflows += 1
            if self.tap is not None:
                self.tap.slipped()
        try:
            self._fill(out[:, 0], frames)
        except Exception:  # never let an error stop the stream
            out.fill(0)

    def _fill(self, out: Samples, frames: int) -> None:
        now = time.monotonic()
        if now - self._last_callback > 0.1:
            self._steady_since = now
        self._last_callback = now
        out.fill(0.0)
        if not self._ready:
            if now - self._steady_since < WARM_UP_S:
                return
            self._ready = True
        due0 = now + self._latency
        notices: list[Notice] = []
        with self._lock:
            if self._fade is not None:
                n = min(frames, len(self._fade))
                out[:n] += self._fade[:n]
                self._fade = self._fade[n:] if n < len(self._fade) else None
            position = 0
            while position < frames and self._queue:
                clip = self._queue[0]
                if self._offset == 0:
                    notices.append(Notice("start", clip.tag, None, due0 + position / self.rate))
                count = min(frames - position, len(clip.pcm) - self._offset)
                out[position:position + count] += clip.pcm[self._offset:self._offset + count]
                end = self._offset + count
                while self._mark_index < len(clip.marks) and clip.marks[self._mark_index][0] < end:
                    sample, payload = clip.marks[self._mark_index]
                    at = position + max(0, sample - self._offset)
                    notices.append(Notice("mark", clip.tag, payload, due0 + at / self.rate))
                    self._mark_index += 1
                self._offset = end
                position += count
                if self._offset >= len(clip.pcm):
                    notices.append(Notice("end", clip.tag, None, due0 + position / self.rate))
                    self._queue.popleft()
                    self._offset = 0
                    self._mark_index = 0
            for item in self._overlays:
                samples, offset = item
                n = min(frames, len(samples) - offset)
                out[:n] += samples[offset:offset + n]
                item[1] = offset + n
            self._overlays = [item for item in self._overlays if item[1] < len(item[0])]
            start_gain, self._gain_now = self._gain_now, self._gain_target
        if start_gain == self._gain_now:
            out *= self._gain_now
        else:
            out *= np.linspace(start_gain, self._gain_now, frames, dtype=np.float32)
        np.clip(out, -1.0, 1.0, out=out)
        if self.tap is not None:
            self.tap.write(out, due0)
        for notice in notices:
            self._notify(notice)

    # ----- supervision ----------------------------------------------------------------------

    def _supervise(self) -> None:
        next_try = 0.0
        while not self._closed.is_set():
            now = time.monotonic()
            if self._stream is None:
                if now >= next_try:
                    try:
                        self._open()
                    except Exception as error:  # any failure means "no sound for now"
                        self._close_stream()
                        self._set_lost(str(error) or type(error).__name__)
                        next_try = time.monotonic() + RETRY_S
                    else:
                        self._set_available()
            elif not self._stream_healthy(now):
                self._close_stream()
                self._set_lost("the audio device stopped")
                next_try = time.monotonic() + RETRY_S
            self._closed.wait(0.1)

    def _stream_healthy(self, now: float) -> bool:
        stream = self._stream
        if stream is None:
            return False
        try:
            active = bool(stream.active)
        except Exception:
            return False
        return active and now - self._last_callback < STALL_S

    def _open(self) -> None:
        import sounddevice as sd

        device = _choose_device(self.device)
        self.realtime = None  # a new stream calls back on a new thread
        self._ready = False
        self._last_callback = 0.0
        stream = open_stream(
            lambda: sd.OutputStream(
                samplerate=self.rate, channels=1, dtype="float32", device=device,
                callback=self._callback, latency=self.latency_s,
            )
        )
        self._stream = stream
        self._latency = float(stream.latency)
        deadline = time.monotonic() + 8.0
        while not self._ready:
            if self._closed.is_set():
                raise OSError("closing")
            if time.monotonic() > deadline or not stream.active:
                raise OSError("the audio device did not start playing")
            time.sleep(0.02)

    def _close_stream(self) -> None:
        stream, self._stream = self._stream, None
        self._ready = False
        if stream is not None:
            close_stream(stream)
        with self._lock:
            self._queue.clear()
            self._offset = 0
            self._mark_index = 0
            self._overlays.clear()
            self._fade = None

    def _set_lost(self, reason: str) -> None:
        if self._available is not False:
            self._available = False
            self._lost_reason = reason
            self._notify(Notice("lost", payload=reason))

    def _set_available(self) -> None:
        if self._available is not True:
            self._available = True
            self._notify(Notice("available"))
