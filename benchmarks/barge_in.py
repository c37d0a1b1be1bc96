"""Barge-in over the kiosk's own voice: can a visitor's "stop" be caught when the microphone
also hears the loudspeaker? Offline, with generated material; figures for each approach.

Run: nice .venv/bin/python benchmarks/barge_in.py [--seconds 150] [--thresholds 1e-10,1e-20,...]

Material: the kiosk reads its own content (espeak-ng, `--voice`, the kiosk's default voice and
rate) for `--seconds`. For each room condition the microphone hears that reading through a room
(delay, a short decaying impulse response, a leak of -13 or -6 dB) plus a little pink noise; in
the "stops" version visitors say "stop" / "stop reading" / "please stop" over it every ~9 s
(voices en-us+f3, en-us+m3, en-gb-x-rp+f5, at the level a visitor is played into the room in
tests/listening/test_room.py and 6 dB below). The "reading" version has no visitor: every
detection there is a false alarm, and would stop the kiosk's reading on its own voice.

Approaches (all with the same "stop" keyphrase spotter, kiosk.listening.barge_in.StopSpotter):
  raw        spotting on the raw microphone (the baseline);
  veto       raw, ignoring detections the reference (what the kiosk played) also has within 0.8 s;
  aec        spotting on the residual of kiosk.listening.barge_in.EchoCanceller (reference ->
             microphone adaptive filter, no knowledge of the true delay);
  aec+gate   aec, counting a detection only if NearEndGate saw someone else speaking just then.
A stop is caught if a detection falls within its span (+1 s); others are false alarms.

`--live` measures the same on the real parts instead (tests/support/pulseaudio.py `room`): the
real Speaker reads the content into the PulseAudio null sink, a loopback leaks it into the
"room" at `--leak-percent` (60%: about -13 dB) and visitors are played into the room. What the
sink played and what the room's microphone heard are recorded (in memory) and go through the
approaches above (the two recordings lined up by their cross-correlation, then the reference
re-timed along the echo delay measured in each 3 s window, since the loopback's clock drifts
against the sink's and either recording may slip: the best a delay-tracking canceller could do;
the live mode has no "veto" row);
"kiosk" is what the kiosk acts on: its own listener (create_listener with the real Speaker),
deaf but for "stop" as while it speaks, whose BargeIn spots "stop" in the microphone cleaned
with the Player's OutputTap as reference, at its own threshold, and whose recogniser must then
hear a `stop` in that cleaned audio around the spot (its stops may come up to 2.5 s after the
visitor's span, the decode included). The live
mode's "FA reading" counts detections in `--seconds` of reading with no visitor, and "FA chatter"
those in `--seconds` of reading with visitors chatting over it (CHATTER, no "stop" in it).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from kiosk.config import BUNDLED_CONTENT  # noqa: E402
from kiosk.content_parser import load_library  # noqa: E402
from kiosk.listening.audio import RATE  # noqa: E402
from kiosk.listening.barge_in import (  # noqa: E402
    EchoCanceller,
    NearEndGate,
    StopSpotter,
)
from tests.support.speech_fixtures import add_noise, synthesize  # noqa: E402

STOPS = ("stop", "stop reading", "please stop")
#: Waiting-room talk over the kiosk's voice (live mode), some of it sounding near "stop" but
#: without the word: every "stop" spotted in it is a false alarm.
CHATTER = (
    "could you pass me my bag please", "the top floor has a cafe",
    "is that the shop by the entrance", "my sister had the same test last spring",
    "stay here while I ask at the desk", "they said it would take about twenty minutes",
    "mind the step on the way out", "I forgot to bring my glasses", "shall we get a cup of tea",
    "the bus station is just across the road",
)
VISITORS = (("en-us+f3", 160), ("en-us+m3", 150), ("en-gb-x-rp+f5", 170))
#: (leak dB, delay ms) of each room.
ROOMS = ((-13.0, 8.0), (-13.0, 45.0), (-6.0, 20.0), (-6.0, 60.0))
CHUNK = 480  # 30 ms: the microphone's frame
HIT_AFTER_S = 1.0
#: The kiosk's confirming decode comes after the spot: its stops may come this late.
KIOSK_LATE_S = 2.5
VETO_S = 0.8


@dataclass
class Scene:
    name: str
    reference: np.ndarray  # what the kiosk played (float, int16 scale)
    mic: np.ndarray
    stops: list[tuple[float, float]]  # spans in seconds


def reading(seconds: float, voice: str, rate: int) -> np.ndarray:
    """The kiosk reading its content, sentence after sentence, until `seconds` are filled."""
    library = load_library(BUNDLED_CONTENT / "en")
    parts: list[np.ndarray] = []
    total = 0
    for section in library.sections():
        for sentence in section.sentences:
            clip = synthesize(sentence.text, voice, rate).astype(np.float64)
            parts.append(clip)
            total += len(clip)
            if total >= seconds * RATE:
                return np.concatenate(parts)[: int(seconds * RATE)]
    return np.concatenate(parts)


def room_response(delay_ms: float, rng: np.random.Generator) -> np.ndarray:
    """A delay, a direct path and 40 ms of decaying reflections (about -30 dB at the end)."""
    start = int(delay_ms * RATE / 1000)
    tail = int(0.04 * RATE)
    response = np.zeros(start + tail)
    response[start] = 1.0
    decay = np.exp(-np.arange(1, tail) / (tail / 7.0))
    response[start + 1 :] = 0.3 * rng.standard_normal(tail - 1) * decay
    return response


def scene(
    name: str, reference: np.ndarray, leak_db: float, delay_ms: float, with_stops: bool,
    seed: int,
) -> Scene:
    rng = np.random.default_rng(seed)
    echo = np.convolve(reference, room_response(delay_ms, rng))[: len(reference)]
    echo *= 10 ** (leak_db / 20) * np.sqrt(np.mean(reference**2) / np.mean(echo**2))
    mic = add_noise(echo.astype(np.float64), 35.0, rng).astype(np.float64)
    spans: list[tuple[float, float]] = []
    if with_stops:
        at, k = 4.0, seed
        while at < len(reference) / RATE - 4:
            voice, rate = VISITORS[k % len(VISITORS)]
            words = STOPS[(k // 3) % len(STOPS)]
            gain = (1.0, 0.5)[(k // 2) % 2]
            clip = synthesize(words, voice, rate).astype(np.float64) * gain
            begin = int((at + rng.uniform(0, 2)) * RATE)
            mic[begin : begin + len(clip)] += clip[: len(mic) - begin]
            spans.append((begin / RATE, (begin + len(clip)) / RATE))
            at += 9.0
            k += 1
    return Scene(name, reference, mic, spans)


def to_pcm(samples: np.ndarray) -> bytes:
    return np.clip(np.round(samples), -32768, 32767).astype("<i2").tobytes()


def while_open(gate: Sequence[bool]) -> Callable[[int], bool]:
    """Accept a detection at chunk `i` only where the near-end gate was open."""
    return lambda i: i < len(gate) and bool(gate[i])


def spot(
    signal: np.ndarray, threshold: float, accept: Callable[[int], bool] | None = None
) -> list[float]:
    """Times (s) at which "stop" is spotted in `signal`, streamed in 30 ms chunks."""
    spotter = StopSpotter(threshold)
    pcm = to_pcm(signal)
    found: list[float] = []
    for index, start in enumerate(range(0, len(pcm), CHUNK * 2)):
        spotted = spotter.feed_bounded(pcm[start : start + CHUNK * 2])
        if spotted and (accept is None or accept(index)):
            found.append((start // 2 + CHUNK) / RATE)
    return found


def cancel(mic: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, list[bool]]:
    """The canceller's residual, streamed as the listener would, and the gate per 30 ms frame."""
    canceller = EchoCanceller()
    gate = NearEndGate()
    out: list[np.ndarray] = []
    opened: list[bool] = []
    pending_res = np.zeros(0)
    pending_echo = np.zeros(0)
    for start in range(0, len(mic), CHUNK):
        residual = canceller.process(mic[start : start + CHUNK], reference[start : start + CHUNK])
        out.append(residual)
        pending_res = np.concatenate([pending_res, residual])
        pending_echo = np.concatenate([pending_echo, canceller.echo])
        while len(pending_res) >= CHUNK:
            gate.feed(pending_res[:CHUNK], pending_echo[:CHUNK], canceller.converged)
            pending_res, pending_echo = pending_res[CHUNK:], pending_echo[CHUNK:]
            opened.append(gate.open)
    residual = np.concatenate(out)
    return np.concatenate([residual, np.zeros(len(mic) - len(residual))]), opened


def score(
    found: list[float], spans: list[tuple[float, float]], late_s: float = HIT_AFTER_S
) -> tuple[int, int]:
    """(stops caught, false alarms): a detection counts up to `late_s` after its span."""
    caught = sum(any(a <= t <= b + late_s for t in found) for a, b in spans)
    false = sum(not any(a <= t <= b + late_s for a, b in spans) for t in found)
    return caught, false


def erle(mic: np.ndarray, residual: np.ndarray, skip_s: float = 10.0) -> float:
    """Echo return loss enhancement (dB) after the first `skip_s` seconds."""
    start = int(skip_s * RATE)
    return float(10 * np.log10(np.sum(mic[start:] ** 2) / max(np.sum(residual[start:] ** 2), 1e-9)))


def offset_of(mic: np.ndarray, reference: np.ndarray, most: int) -> tuple[int, float]:
    """(signed lag of `mic` behind `reference`, normalised correlation), within +-`most`."""
    size = 1 << int(np.ceil(np.log2(len(mic) + most)))
    correlation = np.fft.irfft(np.fft.rfft(mic, size) * np.conj(np.fft.rfft(reference, size)), size)
    lags = np.concatenate([correlation[-most:], correlation[:most]])
    best = int(np.argmax(np.abs(lags)))
    norm = float(np.sqrt((mic @ mic) * (reference @ reference))) + 1e-9
    return best - most, float(abs(lags[best]) / norm)


def live(seconds: float, leak_percent: int, thresholds: list[float]) -> None:
    """The approaches on the real parts: a PulseAudio room with the real Speaker in it."""
    import tempfile
    from dataclasses import replace

    from kiosk.config import Settings
    from kiosk.events import Event, EventType
    from kiosk.intents import IntentName
    from kiosk.listening import create_listener
    from kiosk.speech import create_speaker
    from kiosk.speech.player import Player
    from tests.support.pulseaudio import PulseAudioServer

    library = load_library(BUNDLED_CONTENT / "en")
    texts = [sentence.text for section in library.sections() for sentence in section.sentences]
    pulse = PulseAudioServer().start()
    runs: dict[str, tuple[np.ndarray, np.ndarray, list[tuple[float, float]], list[float]]] = {}
    underflows = 0
    try:
        with pulse.room(leak_percent), tempfile.TemporaryDirectory() as cache:
            settings = replace(Settings(), cache_dir=Path(cache))
            speaker = create_speaker(settings, library, lambda _event: None)
            try:
                player = speaker.output
                assert isinstance(player, Player)
                if not player.wait_ready(15):
                    raise SystemExit("no sound output")
                for run in ("reading", "stops", "chatter"):
                    stopped: list[float] = []

                    def on_event(item: Event, stopped: list[float] = stopped) -> None:
                        if item.type is EventType.HEARD and item["intent"].name is IntentName.STOP:
                            stopped.append(time.monotonic())

                    # The kiosk's own listener, deaf but for "stop" as while it speaks.
                    listener = create_listener(settings, library, on_event, speaker=speaker)
                    listener.set_deaf(True)
                    played = pulse.start_recording(RATE)
                    heard = pulse.start_recording(RATE, device="room.monitor")
                    time.sleep(1.0)
                    began = time.monotonic()
                    speaker.speak(texts, 0)
                    said: list[tuple[float, float]] = []
                    k = 0
                    while time.monotonic() - began < seconds - 6:
                        time.sleep(4.0 + (k % 3))
                        if run != "reading":
                            voice, rate = VISITORS[k % len(VISITORS)]
                            gain = (1.0, 0.5)[(k // 2) % 2]
                            line = (
                                STOPS[(k // 3) % len(STOPS)] if run == "stops"
                                else CHATTER[k % len(CHATTER)]
                            )
                            clip = synthesize(line, voice, rate) * gain
                            start = time.monotonic()
                            pulse.say_in_room(clip.astype(np.int16).tobytes())
                            said.append((start, time.monotonic()))
                        k += 1
                    time.sleep(max(0.0, seconds - (time.monotonic() - began)))
                    speaker.stop()
                    listener.close()
                    mic_start = pulse.recording_start(heard)
                    # Line the reference up with the microphone by the recorders' timing, the
                    # microphone a quarter second behind (the signals then fix it exactly).
                    early = round((mic_start - pulse.recording_start(played) - 0.25) * RATE)
                    reference = pulse.finish_recording(played) * 32768.0
                    reference = (
                        reference[early:] if early >= 0
                        else np.concatenate([np.zeros(-early), reference])
                    )
                    mic = pulse.finish_recording(heard) * 32768.0
                    spans = [(a - mic_start, b - mic_start) for a, b in said]
                    runs[run] = (reference, mic, spans, [t - mic_start for t in stopped])
                underflows = player.underflows
            finally:
                speaker.close()
    finally:
        pulse.stop()
    print(f"live: {seconds:.0f} s of reading with no visitor, {seconds:.0f} s with "
          f"{len(runs['stops'][2])} stops and {seconds:.0f} s with {len(runs['chatter'][2])} "
          f"chatter lines; leak {leak_percent}% (PulseAudio volume); "
          f"player underflows: {underflows}")
    minutes = seconds / 60
    print(f"{'approach':10} {'threshold':>9} {'caught':>10} {'FA reading':>11} {'FA w/ stops':>12}"
          f" {'FA chatter':>11}")
    aligned: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, list[bool]]] = {}
    for run, (reference, mic, _spans, _tap) in runs.items():
        # Both recordings start at slightly different times: line them up by the signals,
        # leaving the echo 30 ms behind the reference, as BargeIn does.
        lag, strength = max(
            (offset_of(mic[a : a + 5 * RATE], reference[a : a + 5 * RATE], RATE)
             for a in range(RATE, min(len(mic), len(reference), 40 * RATE) - 5 * RATE, 5 * RATE)),
            key=lambda found: found[1],
        )
        shift = int(0.03 * RATE) - lag  # the reference moves this many samples earlier
        ref = np.concatenate([np.zeros(max(0, -shift)), reference[max(0, shift) :]])[: len(mic)]
        ref = np.concatenate([ref, np.zeros(len(mic) - len(ref))])
        # Is the echo path steady? Its delay measured over successive 3 s windows.
        centres, lags, windows = [], [], []
        for start in range(0, len(mic) - 3 * RATE, 3 * RATE):
            part = slice(start, start + 3 * RATE)
            if np.sum(ref[part] ** 2) > 1e3 * 3 * RATE:
                found, peak = offset_of(mic[part], ref[part], RATE // 2)
                windows.append(f"{found * 1000 / RATE:.0f}({peak:.1f})")
                if peak > 0.5:
                    centres.append(start + 1.5 * RATE)
                    lags.append(found)
        print(f"  {run}: echo delay (ms, correlation) per 3 s: {' '.join(windows)}")
        residual, gate = cancel(mic, ref)
        print(f"  {run}: recordings lined up at {lag / RATE * 1000:.0f} ms "
              f"(correlation {strength:.2f}); canceller ERLE after 10 s "
              f"{erle(mic, residual):.1f} dB")
        if len(lags) > 2:
            # The loopback's clock drifts against the sink's, and a recording may slip (the
            # delay then steps): re-time the reference along the measured delays, piecewise
            # between window centres, as a delay-tracking canceller would. A straight line
            # through them would take a step for drift and misalign both halves.
            index = np.arange(len(ref))
            positions = index - (np.interp(index, centres, lags) - 0.03 * RATE)
            ref = np.interp(positions, index, ref, left=0.0, right=0.0)
            residual, gate = cancel(mic, ref)
            print(f"  {run}: reference re-timed along the measured delays "
                  f"({min(lags) * 1000 / RATE:.0f}-{max(lags) * 1000 / RATE:.0f} ms); canceller "
                  f"ERLE after 10 s {erle(mic, residual):.1f} dB")
        aligned[run] = (mic, ref, residual, gate)
    for threshold in thresholds:
        rows: list[tuple[str, list[float], list[float], list[float]]] = []
        for label in ("raw", "aec", "aec+gate"):
            spotted_in: dict[str, list[float]] = {}
            for run, (mic, _ref, residual, gate) in aligned.items():
                if label == "raw":
                    spotted_in[run] = spot(mic, threshold)
                elif label == "aec":
                    spotted_in[run] = spot(residual, threshold)
                else:
                    spotted_in[run] = spot(residual, threshold, while_open(gate))
            rows.append((label, spotted_in["reading"], spotted_in["stops"], spotted_in["chatter"]))
        if threshold == thresholds[0]:
            rows.append(("kiosk", runs["reading"][3], runs["stops"][3], runs["chatter"][3]))
        for label, quiet, stops, chatter in rows:
            spans = runs["stops"][2]
            caught, false = score(stops, spans, KIOSK_LATE_S if label == "kiosk" else HIT_AFTER_S)
            print(f"{label:10} {threshold:9.0e} {caught:4d}/{len(spans):<3d} "
                  f"{len(quiet) / minutes:6.2f}/min {false / minutes:7.2f}/min "
                  f"{len(chatter) / minutes:6.2f}/min")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--voice", default="en")
    parser.add_argument("--rate", type=int, default=150)
    parser.add_argument("--thresholds", default="1e-5,1e-10,1e-20,1e-30,1e-40")
    parser.add_argument("--live", action="store_true", help="measure on the real parts")
    parser.add_argument("--leak-percent", type=int, default=60)
    args = parser.parse_args()
    thresholds = [float(t) for t in args.thresholds.split(",")]
    if args.live:
        live(args.seconds, args.leak_percent, thresholds)
        return 0
    began = time.monotonic()
    reference = reading(args.seconds, args.voice, args.rate)
    minutes = len(reference) / RATE / 60
    print(f"reading: {len(reference) / RATE:.0f} s of the kiosk's content ({args.voice}, "
          f"{args.rate} wpm); rooms (leak dB, delay ms): {ROOMS}")
    scenes: list[tuple[Scene, Scene, np.ndarray, np.ndarray, list[bool], list[bool]]] = []
    for index, (leak, delay) in enumerate(ROOMS):
        name = f"{leak:+.0f} dB, {delay:.0f} ms"
        quiet = scene(name, reference, leak, delay, False, 100 + index)
        stops = scene(name, reference, leak, delay, True, 100 + index)
        res_quiet, gate_quiet = cancel(quiet.mic, reference)
        res_stops, gate_stops = cancel(stops.mic, reference)
        print(f"  {name}: {len(stops.stops)} stops; canceller ERLE after 10 s "
              f"{erle(quiet.mic, res_quiet):.1f} dB")
        scenes.append((quiet, stops, res_quiet, res_stops, gate_quiet, gate_stops))
    total_stops = sum(len(s[1].stops) for s in scenes)
    print(f"{total_stops} stops in all; {minutes * len(scenes):.1f} min of reading with no "
          "visitor\n")
    print(f"{'approach':10} {'threshold':>9} {'caught':>10} {'FA/min reading':>15} "
          f"{'FA/min w/ stops':>16}")
    for threshold in thresholds:
        from_reference = spot(reference, threshold)

        def vetoed(
            times: list[float], delay_ms: float, reference_times: list[float] = from_reference
        ) -> list[float]:
            lag = delay_ms / 1000
            return [
                t for t in times if not any(abs(t - lag - r) <= VETO_S for r in reference_times)
            ]

        rows: dict[str, list[int]] = {}
        for quiet, stops, res_quiet, res_stops, gate_quiet, gate_stops in scenes:
            delay = float(quiet.name.split(",")[1].split()[0])
            raw_q, raw_s = spot(quiet.mic, threshold), spot(stops.mic, threshold)
            aec_q, aec_s = spot(res_quiet, threshold), spot(res_stops, threshold)
            gated_q = spot(res_quiet, threshold, while_open(gate_quiet))
            gated_s = spot(res_stops, threshold, while_open(gate_stops))
            for label, q, s in (
                ("raw", raw_q, raw_s),
                ("veto", vetoed(raw_q, delay), vetoed(raw_s, delay)),
                ("aec", aec_q, aec_s),
                ("aec+gate", gated_q, gated_s),
            ):
                caught, false = score(s, stops.stops)
                row = rows.setdefault(label, [0, 0, 0])
                row[0] += caught
                row[1] += len(q)
                row[2] += false
        for label, (caught, false_quiet, false_stops) in rows.items():
            share = 100 * caught / total_stops
            print(f"{label:10} {threshold:9.0e} {caught:4d}/{total_stops:<3d} {share:3.0f}%"
                  f" {false_quiet / (minutes * len(scenes)):9.2f} ({false_quiet:3d})"
                  f" {false_stops / (minutes * len(scenes)):9.2f} ({false_stops:3d})")
        sys.stdout.flush()
    print(f"\n({time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
