"""Memory of the whole kiosk as installed: the UI process and every process under it.

Run: .venv/bin/python -m benchmarks.memory

The real `kiosk run` (the .venv/bin/kiosk entry point, default settings, no window size: it fills
the display) is started on a private 1920x1080 Xvfb display with a private PulseAudio daemon (a
null sink; a pipe-source microphone fed in real time), and a short visit is driven with real key
presses: keypad 2 and 5 (open a topic), 2 and 5 (read its first section), then twice 0 (Talk)
and an utterance spoken with espeak-ng into the microphone, until the answer is heard at the sink:
"what are calcifications" (a section's name: pocketsphinx alone acts on it) and "how often do I
need a mammogram" (a question: the neural pass hears it too, so its working memory counts).

Then each of the kiosk's processes (found by walking /proc: children of children) is listed with
VmRSS (now) and VmHWM (its peak), from /proc/PID/status, in MB (MiB), and the totals: the RSS
sum, the sum of the peaks (an upper bound: the peaks need not coincide) and the largest RSS sum
seen while sampling twice a second. The baseline, in the same run on the same display and audio
server: the same visit with KIOSK_RECOGNIZER=fast (pocketsphinx alone, no neural process).
Target (the issue): all the kiosk's processes together at most 550 MB RSS. With --breakdown N,
each process's N largest mappings (/proc/PID/smaps, by file, or [heap] and [anon]) after a visit.

With --piper-worker [--rate WPM], the Piper worker alone: a fresh one (kiosk.piper_worker, as the
kiosk starts it) renders every content sentence, through the lexicon as the renderer gives it
to Piper, uncached, at the kiosk's default rate; before each sentence its peak is reset
(/proc/PID/clear_refs), so VmHWM after the reply is that sentence's peak. Printed: the peaks
(the largest, the median, how many over the worker's 250 MB target), VmRSS between sentences,
render times and the audio's duration as the kiosk plays it (leading silence trimmed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from tests.support.microphone import MicrophoneFeeder
from tests.support.pulseaudio import PulseAudioServer
from tests.support.speech_fixtures import have_espeak, pad, synthesize
from tests.support.xvfb import XvfbDisplay, send_keys, window_ids

ROOT = Path(__file__).resolve().parents[1]
KIOSK = ROOT / ".venv" / "bin" / "kiosk"
TARGET_MB = 550.0
#: A section's name, which pocketsphinx alone is sure of, then a question, which always goes to
#: the neural pass too (recognizer.py, FAST_PATH_CONFIDENCE): so its working memory is counted.
UTTERANCES = ("what are calcifications", "how often do I need a mammogram")
VOICE = ("en-us+klatt", 150)  # the e2e test's visitor voice
#: A 20 ms frame above this level at the sink is sound (as in tests/e2e/driver.py).
ACTIVE_DB = -45.0
#: Generous: a busy 2-core machine, software rendering, a model loading.
START_TIMEOUT_S = 240.0
ANSWER_TIMEOUT_S = 120.0
SAMPLE_S = 0.5


@dataclass
class Proc:
    """One process of the kiosk's tree as last seen."""

    pid: int
    name: str
    rss_kb: int = 0
    hwm_kb: int = 0
    ended: bool = False


@dataclass
class Run:
    """What one kiosk run measured."""

    label: str
    procs: dict[int, Proc] = field(default_factory=dict)
    max_total_kb: int = 0
    #: What the visit was doing when the largest RSS sum was seen.
    max_total_at: str = ""
    #: What the visit is doing now (set as it goes).
    phase: str = "starting"
    notes: list[str] = field(default_factory=list)


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The name in parentheses may hold spaces: the fields after its last ")" are plain.
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(root: int) -> list[int]:
    """`root` and every process under it (children of children), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (parent := _ppid(int(entry))) is not None:
            children.setdefault(parent, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return sorted(found)


def memory_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) in kB, or None if the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return None
    values = {k: int(v.split()[0]) for k, _, v in (line.partition(":") for line in lines)
              if k in ("VmRSS", "VmHWM")}
    if "VmRSS" not in values:  # a zombie has no memory lines
        return None
    return values["VmRSS"], values.get("VmHWM", values["VmRSS"])


def mappings_kb(pid: int) -> dict[str, tuple[int, int]]:
    """What a process's resident memory is, from /proc/PID/smaps: {mapping: (Rss, private kB)}
    by the file mapped (its name), or [heap], [stack], [anon] (anonymous memory: malloc's
    arenas and mmap'd blocks, the models' tensors)."""
    found: dict[str, tuple[int, int]] = {}
    name = "?"
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        head, _, rest = line.partition(" ")
        if not head.endswith(":"):  # a mapping's first line: address perms offset dev inode path
            fields = line.split(None, 5)
            path = fields[5].strip() if len(fields) > 5 else ""
            name = Path(path).name if path.startswith("/") else (path or "[anon]")
            continue
        if head in ("Rss:", "Private_Clean:", "Private_Dirty:"):
            rss, private = found.get(name, (0, 0))
            kb = int(rest.split()[0])
            found[name] = (rss + kb, private) if head == "Rss:" else (rss, private + kb)
    return found


def print_breakdown(run: Run, top: int) -> None:
    """Each live process's largest mappings by RSS (smaps), as they are now."""
    for proc in sorted(run.procs.values(), key=lambda p: p.pid):
        found = mappings_kb(proc.pid)
        if not found:
            continue
        print(f"  {proc.pid} {proc.name}: {mb(sum(r for r, _ in found.values())).strip()} MB "
              f"({mb(sum(p for _, p in found.values())).strip()} MB private)")
        for name, (rss, private) in sorted(found.items(), key=lambda kv: -kv[1][0])[:top]:
            print(f"    {mb(rss)} MB  {mb(private)} private  {name}")


def cpu_s(pid: int) -> float:
    """User and system CPU seconds of one process (0 if gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_name(pid: int) -> str:
    """A short name from /proc/PID/cmdline: `python -m kiosk.neural_worker`, `parec`, ..."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return "?"
    args = [a.decode(errors="replace") for a in argv if a]
    if not args:
        return "?"
    program = Path(args[0]).name
    if program.startswith("python") and len(args) > 1:
        if args[1] == "-m" and len(args) > 2:
            return f"python -m {args[2]}"
        return f"{Path(args[1]).name} {' '.join(args[2:3])}".strip()  # e.g. `kiosk run`
    return program


class Sampler:
    """Samples the kiosk's tree twice a second in a thread: keeps each process's last figures
    (a process that ends keeps its last VmHWM) and the largest RSS sum seen at one moment."""

    def __init__(self, run: Run, root: int) -> None:
        self.run, self.root = run, root
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def sample(self) -> None:
        seen: set[int] = set()
        total = 0
        for pid in descendants(self.root):
            figures = memory_kb(pid)
            if figures is None:
                continue
            seen.add(pid)
            total += figures[0]
            with self._lock:
                proc = self.run.procs.setdefault(pid, Proc(pid, process_name(pid)))
                proc.rss_kb, proc.hwm_kb = figures
                if proc.name == "?":
                    proc.name = process_name(pid)
        with self._lock:
            for pid, proc in self.run.procs.items():
                proc.ended = pid not in seen
            if total > self.run.max_total_kb:
                self.run.max_total_kb, self.run.max_total_at = total, self.run.phase

    def pids(self, name_part: str) -> list[int]:
        with self._lock:
            return [p.pid for p in self.run.procs.values() if name_part in p.name and not p.ended]

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            self.sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.sample()  # the final figures, taken now


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str,
             kiosk: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if kiosk.poll() is not None:
            raise RuntimeError(f"the kiosk ended (exit {kiosk.returncode}) waiting for {what}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.5)


def idle(pids: Callable[[], list[int]], quiet_s: float = 3.0, busy_cpu_s: float = 0.1) -> bool:
    """True when the processes used under `busy_cpu_s` of CPU in `quiet_s` (a model loaded and
    waiting for requests, not still reading it)."""
    before = sum(cpu_s(pid) for pid in pids())
    time.sleep(quiet_s)
    found = pids()
    return bool(found) and sum(cpu_s(pid) for pid in found) - before < busy_cpu_s


def active_s(samples: np.ndarray, rate: int = 48_000) -> float:
    """Seconds of sound (20 ms frames above ACTIVE_DB) in a recording from the sink."""
    size = rate // 50
    count = len(samples) // size
    if count == 0:
        return 0.0
    frames = samples[: count * size].reshape(count, size).astype(np.float64)
    level = 20 * np.log10(np.sqrt(np.mean(frames**2, axis=1)) + 1e-9)
    return float((level > ACTIVE_DB).sum()) / 50


def heard_s(server: PulseAudioServer, seconds: float) -> float:
    """Seconds of sound at the sink over the next `seconds`."""
    recorder = server.start_recording()
    time.sleep(seconds)
    return active_s(server.finish_recording(recorder))


def ask(run: Run, display: XvfbDisplay, window: str, server: PulseAudioServer,
        microphone: MicrophoneFeeder, kiosk: subprocess.Popen[bytes], sampler: Sampler,
        text: str, pcm: bytes) -> None:
    """Press Talk, say `text` into the microphone and wait until the answer is heard."""
    neural_cpu = sum(cpu_s(pid) for pid in sampler.pids("neural_worker"))
    run.phase = f"answering {text!r}"
    send_keys(display.display, window, "KP_0")  # Talk: stops reading, opens the microphone
    time.sleep(1.5)  # past the "listening" earcon
    microphone.speech.put(pcm)
    time.sleep(len(pcm) / 2 / 16_000)  # the feeder plays it in real time
    asked = time.monotonic()
    # The answer: a window with more sound than the short "understood" earcon has.
    while heard_s(server, 2.0) < 1.0:
        if kiosk.poll() is not None or time.monotonic() - asked > ANSWER_TIMEOUT_S:
            raise RuntimeError(f"no answer to {text!r} heard in {ANSWER_TIMEOUT_S:g} s")
    waited = time.monotonic() - asked
    later = heard_s(server, 3.0)  # an answer goes on; "didn't catch that" is short
    note = f"{text!r}: answer heard by {waited:.0f} s, then {later:.1f} s of sound in 3 s"
    if run.label == "hybrid":  # whether the neural pass heard it (pocketsphinx sure: not)
        used = sum(cpu_s(pid) for pid in sampler.pids("neural_worker")) - neural_cpu
        note += f"; neural worker CPU {used:.1f} s"
    run.notes.append(note)


def visit(run: Run, display: XvfbDisplay, server: PulseAudioServer, microphone: MicrophoneFeeder,
          speech: dict[str, bytes], extra_env: dict[str, str], work: Path,
          breakdown: int = 0) -> None:
    """Start `kiosk run`, wait until it is up, drive the visit, take the figures, stop it."""
    env = {**display.env, **server.env, **extra_env,
           "KIOSK_CACHE_DIR": str(work / "cache"), "KIOSK_STATE_DIR": str(work / "state")}
    env.pop("SDL_AUDIODRIVER", None)  # as installed: SDL's own audio choice, too
    log_path = work / "kiosk.log"
    with open(log_path, "wb") as log:
        kiosk = subprocess.Popen([str(KIOSK), "run"], env=env, stdout=log, stderr=log, cwd=ROOT)
    sampler = Sampler(run, kiosk.pid)
    started = time.monotonic()
    try:
        wait_for(lambda: bool(window_ids(display.display, kiosk.pid)), START_TIMEOUT_S,
                 "the window", kiosk)
        window = window_ids(display.display, kiosk.pid)[-1]  # SDL's own; the first is a helper
        # The speech worker is Piper's (kiosk.piper_worker) or espeak-ng's (_synth_worker).
        wait_for(lambda: bool(sampler.pids("synth") or sampler.pids("piper_worker"))
                 and bool(sampler.pids("parec")),
                 START_TIMEOUT_S, "the speech worker and parec", kiosk)
        if run.label == "hybrid":
            wait_for(lambda: idle(lambda: sampler.pids("neural_worker")), START_TIMEOUT_S,
                     "the neural worker to load its model", kiosk)
        run.notes.append(f"up after {time.monotonic() - started:.0f} s")
        run.phase = "reading"
        send_keys(display.display, window, "KP_2")  # focus the first topic (spoken)
        time.sleep(2.0)
        send_keys(display.display, window, "KP_5")  # open it
        time.sleep(3.0)
        send_keys(display.display, window, "KP_2", "KP_5")  # its first section: read aloud
        reading = heard_s(server, 6.0)
        run.notes.append(f"reading a section: {reading:.1f} s of sound in 6 s")
        for text, pcm in speech.items():
            ask(run, display, window, server, microphone, kiosk, sampler, text, pcm)
        run.phase = "after the visit"
        if breakdown:
            sampler.sample()
            print(f"\n== recognizer {run.label}: largest mappings (smaps) after the visit ==")
            print_breakdown(run, breakdown)
    finally:
        sampler.stop()
        if kiosk.poll() is None:
            kiosk.terminate()
            try:
                kiosk.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kiosk.kill()
                kiosk.wait()
        if kiosk.returncode not in (0, -15):
            tail = log_path.read_text(errors="replace")[-1500:]
            run.notes.append(f"exit {kiosk.returncode}; log tail:\n{tail}")


def mb(kb: int) -> str:
    return f"{kb / 1024:7.1f}"


def report(run: Run) -> tuple[int, int]:
    """Print one run's table; return its (RSS sum, peak sum) in kB of the processes alive."""
    print(f"\n== recognizer {run.label} ==")
    for note in run.notes:
        print(f"  {note}")
    print(f"  {'pid':>7}  {'VmRSS MB':>8}  {'VmHWM MB':>8}  process")
    alive = [p for p in run.procs.values() if not p.ended]
    for proc in sorted(run.procs.values(), key=lambda p: p.pid):
        state = "  (ended before the end)" if proc.ended else ""
        print(f"  {proc.pid:>7}  {mb(proc.rss_kb):>8}  {mb(proc.hwm_kb):>8}  {proc.name}{state}")
    rss = sum(p.rss_kb for p in alive)
    peak = sum(p.hwm_kb for p in alive)
    print(f"  total RSS now      {mb(rss)} MB  ({len(alive)} processes)")
    print(f"  total of peaks     {mb(peak)} MB  (sum of VmHWM)")
    print(f"  largest RSS sum    {mb(run.max_total_kb)} MB  (sampled every {SAMPLE_S:g} s; "
          f"while {run.max_total_at})")
    return rss, peak


#: The issue's target for the speech worker alone.
PIPER_TARGET_MB = 250.0


def piper_worker(rate_wpm: int) -> int:
    """Every content sentence rendered by a fresh Piper worker; its peak memory per sentence."""
    from kiosk.config import BUNDLED_CONTENT, Settings
    from kiosk.content_parser import load_library
    from kiosk.speech.lexicon import respell
    from kiosk.speech.piper import PiperSynthesizer, find_voice, length_scale

    library = load_library(BUNDLED_CONTENT / "en")
    texts = [s.text for topic in library.topics for section in topic.sections
             for s in section.sentences]
    rate_wpm = rate_wpm or Settings().rate_wpm
    work = Path(tempfile.mkdtemp(prefix="kiosk-piper-memory-"))
    synth = PiperSynthesizer(work, find_voice(""))
    peaks: list[float] = []  # MB, per sentence
    afters: list[float] = []  # MB, once the sentence is done
    times: list[float] = []  # seconds to render
    audio: list[float] = []  # seconds as played
    try:
        synth.warm_up()
        assert synth._process is not None
        pid = synth._process.pid
        started = memory_kb(pid)
        for text in texts:
            time.sleep(0.1)  # the last sentence's memory handed back
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
            begun = time.perf_counter()
            # As the renderer gives it to Piper: the lexicon's ipa entries as [[ ]] blocks.
            spoken = respell(text, library.lexicon, synth.reads_phonemes).spoken
            rendering = synth.synthesize(spoken, rate_wpm, "")
            took = time.perf_counter() - begun
            figures = memory_kb(pid)
            assert figures is not None and synth._process.pid == pid, "the worker ended"
            time.sleep(0.1)
            between = memory_kb(pid) or figures
            peaks.append(figures[1] / 1024)
            afters.append(between[0] / 1024)
            times.append(took)
            audio.append(rendering.duration_s)
    finally:
        synth.close()
        shutil.rmtree(work, ignore_errors=True)
    print(f"Piper worker memory: {len(texts)} content sentences at {rate_wpm} wpm (length_scale "
          f"{length_scale(rate_wpm)}), load average {os.getloadavg()[0]:.2f}; MB = MiB")
    if started is not None:
        print(f"  started (model loaded, one word spoken): VmRSS {mb(started[0]).strip()} MB, "
              f"VmHWM {mb(started[1]).strip()} MB")
    over = sum(peak > PIPER_TARGET_MB for peak in peaks)
    print(f"  peak while rendering a sentence (VmHWM): largest {max(peaks):.1f} MB, median "
          f"{statistics.median(peaks):.1f} MB; over {PIPER_TARGET_MB:g} MB: {over} of {len(texts)}")
    print(f"  between sentences (VmRSS): largest {max(afters):.1f} MB")
    median_ms = statistics.median(times) * 1000
    print(f"  render time: total {sum(times):.1f} s, median {median_ms:.0f} ms, "
          f"longest {max(times) * 1000:.0f} ms")
    print(f"  audio as played: total {sum(audio):.1f} s, longest sentence {max(audio):.2f} s")
    for i in sorted(range(len(texts)), key=lambda i: -peaks[i])[:3]:
        print(f"    {peaks[i]:5.1f} MB  {times[i] * 1000:4.0f} ms  {audio[i]:5.2f} s  "
              f"{texts[i][:60]}")
    verdict = "meets" if max(peaks) <= PIPER_TARGET_MB else "misses"
    print(f"target at most {PIPER_TARGET_MB:g} MB RSS for the synthesis worker: {verdict} it")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--piper-worker", action="store_true",
                        help="measure the Piper worker alone over every content sentence")
    parser.add_argument("--rate", type=int, default=0, help="words per minute (--piper-worker)")
    parser.add_argument("--breakdown", type=int, default=0, metavar="N",
                        help="after each visit, print each process's N largest mappings (smaps)")
    arguments = parser.parse_args()
    if arguments.piper_worker:
        return piper_worker(arguments.rate)
    for tool in ("Xvfb", "xdotool", "pulseaudio", "parec"):
        if shutil.which(tool) is None:
            print(f"{tool} is needed: run `make test`, which installs it", file=sys.stderr)
            return 2
    if not have_espeak():
        print("espeak-ng is needed: run `make test`, which installs it", file=sys.stderr)
        return 2
    speech = {text: pad(synthesize(text, *VOICE), 0.5).tobytes() for text in UTTERANCES}
    runs = [Run("hybrid"), Run("fast")]
    server = PulseAudioServer().start()
    microphone = MicrophoneFeeder(server.fifo)  # silence, and the visitor when asked
    work = Path(tempfile.mkdtemp(prefix="kiosk-memory-"))
    try:
        with XvfbDisplay(1920, 1080) as display:
            for run in runs:
                # A fresh cache and state each: both runs start as a newly installed kiosk.
                folder = work / run.label
                folder.mkdir()
                # Hybrid is the default: only the baseline sets the recognizer.
                extra = {"KIOSK_RECOGNIZER": "fast"} if run.label == "fast" else {}
                visit(run, display, server, microphone, speech, extra, folder,
                      arguments.breakdown)
    finally:
        microphone.close()
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"kiosk memory, display 1920x1080, load average {os.getloadavg()[0]:.2f}; "
          f"MB = MiB (1024 kB)")
    totals = {run.label: report(run) for run in runs}
    (h_rss, h_peak), (f_rss, f_peak) = totals["hybrid"], totals["fast"]
    hybrid, fast = runs
    print(f"\nhybrid/fast: RSS now {h_rss / f_rss:.2f}x, sum of peaks {h_peak / f_peak:.2f}x, "
          f"largest sum seen {hybrid.max_total_kb / fast.max_total_kb:.2f}x")
    # Judged on the sums actually seen at one moment, now and at their largest: the sum of
    # peaks is only a bound.
    for name, kb in (("now", h_rss), ("largest seen", hybrid.max_total_kb)):
        verdict = "meets" if kb / 1024 <= TARGET_MB else "misses"
        print(f"target at most {TARGET_MB:g} MB RSS, all processes: hybrid {name} "
              f"{mb(kb).strip()} MB {verdict} it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
