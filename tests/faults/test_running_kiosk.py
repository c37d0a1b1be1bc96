"""Faults under a running kiosk, one test each: after every one it still serves a visitor.

One real `kiosk run` for the module, in a real window under Xvfb, with the real audio server
and virtual devices (a microphone fed silence in real time, as a real one delivers), the natural
voice's worker and the neural recogniser's process; its state folder sits on a tiny file system
that is full from the start, so the usage figures can never be written. The tests run in the
order written: each fault is added to what came before.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import psutil
import pytest

from kiosk.config import BUNDLED_CONTENT
from tests.faults.test_audio_server import _sound_comes_back
from tests.support.microphone import MicrophoneFeeder
from tests.support.pulseaudio import MIC_RATE, PulseAudioServer
from tests.support.speech_cache import seed
from tests.support.speech_fixtures import have_espeak, pad, synthesize
from tests.support.xvfb import XvfbDisplay, kiosk_windows, screen_pixels, send_keys

pytestmark = [pytest.mark.real_audio, pytest.mark.real_window, pytest.mark.slow]

#: A request must be heard this soon after a fault.
SERVED_WITHIN_S = 15.0
#: Idle seconds before a visit ends and its figures are saved (the settings allow 20 and up,
#: with the idle warning, 20 s at the least, shorter).
IDLE_S = 21
#: A spoken request must be acted on this soon after the microphone is back (the listener
#: looks for it every 2 s; an attempt, Talk then "help", takes about 5 s).
VOICE_BACK_WITHIN_S = 25.0
#: Two screenshots of one screen differ in fewer pixels than this; two screens, in 20-40%.
SAME_SCREEN = 0.02


@dataclass
class Kiosk:
    process: subprocess.Popen[bytes]
    server: PulseAudioServer
    microphone: MicrophoneFeeder
    display: str
    window: str
    log: Path
    cache: Path
    content: Path
    state: Path

    def serves(self, keys: tuple[str, ...] = ("KP_9",)) -> float | None:
        """Seconds until a request is heard at the sink (a repeat by default), or None."""
        return _sound_comes_back(self.server, self.display, self.window, SERVED_WITHIN_S, keys)

    def child(self, module: str) -> psutil.Process | None:
        for process in psutil.Process(self.process.pid).children(recursive=True):
            try:
                if module in " ".join(process.cmdline()):
                    return process
            except psutil.NoSuchProcess:
                continue
        return None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def log_since(self, offset: int) -> str:
        """What the log says after its first `offset` bytes."""
        return self.log.read_bytes()[offset:].decode(errors="replace")


@pytest.fixture(scope="module")
def kiosk(tmp_path_factory: pytest.TempPathFactory, prerendered_speech: Path) -> Iterator[Kiosk]:
    if shutil.which("Xvfb") is None or shutil.which("pulseaudio") is None:
        pytest.fail("Xvfb and PulseAudio are needed: run `make test`, which installs them")
    folder = tmp_path_factory.mktemp("running")
    content = folder / "content"
    shutil.copytree(BUNDLED_CONTENT, content)
    seed(folder / "cache", prerendered_speech)  # no background rendering under the checks
    state = folder / "state"
    state.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(state)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.fail(f"a full state folder needs a small tmpfs (run as root): {mounted.stderr}")
    server = PulseAudioServer().start()
    microphone = MicrophoneFeeder(server.fifo)
    try:
        with open(state / "filler", "wb", buffering=0) as filler:  # full from the start
            try:
                while True:
                    filler.write(b"\0" * 1024)
            except OSError:
                pass
        log = folder / "kiosk.log"
        with XvfbDisplay(1280, 800) as display, open(log, "wb") as log_file:
            env = {**display.env, **server.env, "KIOSK_CACHE_DIR": str(folder / "cache"),
                   "KIOSK_STATE_DIR": str(state), "KIOSK_CONTENT_DIR": str(content),
                   "KIOSK_IDLE_TIMEOUT_S": str(IDLE_S), "KIOSK_IDLE_WARNING_S": "20"}
            env.pop("SDL_AUDIODRIVER", None)
            env.pop("KIVY_NO_CONSOLELOG", None)
            process = subprocess.Popen([str(Path(sys.executable).with_name("kiosk")), "run"],
                                       env=env, stdout=log_file, stderr=log_file)
            try:
                windows = kiosk_windows(display.display, process,
                                        lambda: log.read_text(errors="replace")[-2000:])
                running = Kiosk(process, server, microphone, display.display, windows[-1],
                                log, folder / "cache", content, state)
                assert running.serves(("KP_2",)) is not None, "the kiosk never spoke"
                yield running
                process.send_signal(signal.SIGTERM)
                assert process.wait(timeout=10) == 0, "SIGTERM did not end the kiosk cleanly"
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
    finally:
        microphone.close()
        server.stop()
        subprocess.run(["umount", "-l", str(state)], check=False)


def test_the_synthesis_worker_killed_mid_sentence(kiosk: Kiosk) -> None:
    send_keys(kiosk.display, kiosk.window, "F1")  # the help, read aloud at length
    time.sleep(1.5)
    worker = kiosk.child("piper_worker") or kiosk.child("_synth_worker")
    assert worker is not None, "no synthesis worker found"
    worker.kill()
    assert kiosk.serves() is not None, "silent after its synthesis worker was killed"
    assert kiosk.process.poll() is None


def test_the_recogniser_process_killed(kiosk: Kiosk) -> None:
    recogniser = kiosk.child("neural_worker")
    assert recogniser is not None, "no neural recogniser process found"
    recogniser.kill()
    # Noticed, logged and started again at the next utterance (tests/listening/test_neural.py);
    # until then the kiosk must serve as before.
    assert kiosk.serves() is not None
    assert kiosk.process.poll() is None


def test_the_recognition_process_killed(kiosk: Kiosk) -> None:
    """pocketsphinx runs in a process of its own (kiosk/listening/recognizer_process.py):
    killed, it costs at most the utterance in progress; the kiosk logs it, starts it again and
    acts on the next spoken request."""
    help_screen, said = _help_by_voice(kiosk)
    process = kiosk.child("recognizer_worker")
    assert process is not None, "no recognition process found"
    before = kiosk.log.stat().st_size
    process.kill()
    assert kiosk.serves() is not None
    assert _acts_on_voice(kiosk, help_screen, said, VOICE_BACK_WITHIN_S), \
        "a spoken request was not acted on after the recognition process died:\n" + \
        kiosk.log_since(before)[-3000:]
    assert _lines(kiosk, before, "recognition process"), kiosk.log_since(before)[-3000:]
    restarted = kiosk.child("recognizer_worker")
    assert restarted is not None and restarted.pid != process.pid
    assert kiosk.process.poll() is None


def test_the_cache_folder_deleted_while_the_kiosk_reads(kiosk: Kiosk) -> None:
    send_keys(kiosk.display, kiosk.window, "F1")
    time.sleep(1.0)
    before = kiosk.log_text()
    _delete_while_written(kiosk.cache)
    assert kiosk.serves(("KP_2", "KP_8")) is not None, "silent after its cache was deleted"
    assert kiosk.process.poll() is None
    # The synthesiser's scratch folder lived there: it was made again, and the sound never
    # counted as lost (it did, once, before the fix).
    assert "sound unavailable" not in kiosk.log_text()[len(before):]


def test_the_content_replaced_by_a_broken_edit_while_it_runs(kiosk: Kiosk) -> None:
    topics = sorted((kiosk.content / "en" / "topics").glob("*.md"))
    good = [topic.read_text() for topic in topics]
    for topic in topics:
        topic.write_text("a half-saved edit\n")
    assert kiosk.serves(("KP_2", "KP_5")) is not None  # move and open: content is read
    assert kiosk.process.poll() is None
    # Staff mend it before the visit ends (a broken edit at a visit's end is the window
    # test's content_reload flow).
    for topic, text in zip(topics, good, strict=True):
        topic.write_text(text)


def test_a_full_state_folder_costs_the_figures_only(kiosk: Kiosk) -> None:
    # A visit ends after IDLE_S without input (and once the section being read is over); its
    # figures cannot be written to the full folder. Said once in the log; the kiosk goes on.
    def unwritten() -> list[str]:
        return [line for line in kiosk.log_text().splitlines()
                if "cannot write" in line and "usage" in line]

    deadline = time.monotonic() + IDLE_S + 120
    while not unwritten() and time.monotonic() < deadline:
        time.sleep(1)
    assert kiosk.process.poll() is None
    said = kiosk.log_text()
    assert len(unwritten()) == 1, said[-3000:]
    assert kiosk.serves() is not None
    assert "Traceback" not in said, said[-3000:]
    assert os.listdir(kiosk.state) == ["filler"], "nothing half-written left behind"
    # The cache deleted earlier held the last good copy of the content: made again when the
    # visit ended (of the content as it was last good, not the broken edit).
    kept = kiosk.cache / "content-last-good" / "en" / "topics" / "calcifications.md"
    assert kept.is_file() and kept.read_text().startswith("+++")


def _delete_while_written(folder: Path) -> None:
    """`rm -rf` as staff would run it, run again if a pass fails: the kiosk may write a new
    file into the folder (its background prerendering) while it is being emptied, which fails
    that pass with "Directory not empty"."""
    for _ in range(50):
        try:
            shutil.rmtree(folder)
            return
        except OSError:  # a file came or went while the folder was being emptied
            time.sleep(0.02)
    raise AssertionError(f"{folder} could not be deleted")


def _same_screen(shown: np.ndarray, expected: np.ndarray) -> bool:
    return float(np.mean(np.any(shown != expected, axis=2))) < SAME_SCREEN


def _acts_on_voice(kiosk: Kiosk, help_screen: np.ndarray, said: bytes, within_s: float) -> bool:
    """Talk, then "help" into the microphone, until the help screen shows (as the keypad's
    help opens it) or `within_s` passes; from the welcome screen each time."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        send_keys(kiosk.display, kiosk.window, "Home")
        time.sleep(1.0)
        send_keys(kiosk.display, kiosk.window, "t")  # Talk: the earcon, then it listens
        time.sleep(1.0)
        kiosk.microphone.speech.put(said)
        # As long as before (the words, then 2 s), but looked at as it goes: done once shown.
        attempt_ends = time.monotonic() + len(said) / 2 / MIC_RATE + 2.0
        while time.monotonic() < attempt_ends:
            time.sleep(0.25)
            if _same_screen(screen_pixels(kiosk.display), help_screen):
                return True
    return False


def _help_by_voice(kiosk: Kiosk) -> tuple[np.ndarray, bytes]:
    """The help screen as the keypad opens it, and "help" to say into the microphone."""
    if not have_espeak():
        pytest.fail("espeak-ng is needed: run `make test`, which installs it")
    said = pad(synthesize("help", "en-us+klatt", 150), 0.5).tobytes()
    send_keys(kiosk.display, kiosk.window, "F1")
    time.sleep(2.0)
    return screen_pixels(kiosk.display), said


def _lines(kiosk: Kiosk, since: int, words: str) -> list[str]:
    return [line for line in kiosk.log_since(since).splitlines() if words in line]


def test_the_microphone_source_removed_then_back(kiosk: Kiosk) -> None:
    """The microphone's source goes (its module unloaded, as a USB microphone unplugged) and
    comes back under the same name. PulseAudio moves a recording whose source goes to the
    default source, here the loudspeaker's monitor: before the fix the kiosk went on
    "listening" to its own output and never said the microphone was gone. Last in the module:
    SIGTERM then ends the kiosk (the fixture)."""
    help_screen, said = _help_by_voice(kiosk)
    assert _acts_on_voice(kiosk, help_screen, said, VOICE_BACK_WITHIN_S), \
        "a spoken request was not acted on before the fault"

    before = kiosk.log.stat().st_size
    kiosk.server.unplug_microphone()
    deadline = time.monotonic() + SERVED_WITHIN_S
    while not _lines(kiosk, before, "microphone unavailable"):
        assert time.monotonic() < deadline, "the microphone's loss was never noticed:\n" + \
            kiosk.log_since(before)[-3000:]
        time.sleep(0.5)
    assert kiosk.serves() is not None, "silent after the microphone went"
    time.sleep(6.0)  # three more looks for it (every 2 s), each failing
    assert len(_lines(kiosk, before, "microphone unavailable")) == 1
    assert kiosk.process.poll() is None

    kiosk.server.plug_microphone()
    assert _acts_on_voice(kiosk, help_screen, said, VOICE_BACK_WITHIN_S), \
        "a spoken request was not acted on after the microphone came back:\n" + \
        kiosk.log_since(before)[-3000:]
    came_back = _lines(kiosk, before, "microphone available again")
    assert len(came_back) == 1, came_back
    grown = kiosk.log.stat().st_size - before
    assert grown < 5_000, f"the log grew {grown} bytes"
    assert kiosk.process.poll() is None
