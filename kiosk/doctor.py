"""`kiosk doctor`: a staff check of one kiosk, part by part, on the real parts.

Each check prints one line, OK, WARN (the kiosk runs, with something missing) or FAIL (the kiosk
cannot do its job), and the exit status is 1 if any check failed. The speech check renders an
interface line with the configured voice; the listening check feeds that synthetic speech to the
kiosk's own recogniser (a loopback that needs no microphone). No audio is written anywhere but the
speech cache, and nothing a visitor said is involved.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kiosk.config import ASSETS_DIR, ConfigError, Settings
from kiosk.content_parser import validate_tree
from kiosk.files import check_writable
from kiosk.last_good import last_good_dir
from kiosk.library import Library
from kiosk.usage import UsageError, read_days

if TYPE_CHECKING:  # the speech stack is imported only when a check needs it
    from kiosk.speech.render import Renderer

#: Phrases for the loopback check, with the intent and topic each must come out as.
# Phrases that pocketsphinx alone hears from espeak-ng's default voice (which it hears worst of
# all: "say that again" came out "i talk to you" every time), so that a healthy kiosk passes.
# espeak-ng's rendering of a phrase differs slightly from run to run, so one may still fail.
LOOPBACK_PHRASES: tuple[tuple[str, str, str | None], ...] = (
    ("next", "next", None),
    ("second opinions", "topic", "second-opinions"),
    ("tell me about second opinions", "topic", "second-opinions"),
    ("tell me about calcifications", "topic", "calcifications"),
)
#: Silence put around each loopback phrase, as a microphone would hear the room around it.
LOOPBACK_QUIET_MS = 300
#: Peak level (of full scale) above which a rendering counts as sound rather than silence.
SOUND_LEVEL = 0.02
#: How long to wait for an output or input device to open.
DEVICE_WAIT_S = 5.0


class Status(StrEnum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Finding:
    """The result of one check."""

    check: str
    status: Status
    detail: str


def _commands_problem(library: Library) -> str:
    """The first line of what is wrong with the content's commands file, or ''."""
    from kiosk.command_words import CommandsError
    from kiosk.understanding import Understanding

    try:
        Understanding(library)
    except CommandsError as error:
        return str(error).splitlines()[0]
    return ""


class _Checks:
    """Runs the checks in order; later checks use what earlier ones loaded."""

    def __init__(self, settings: Settings, config_problems: Sequence[ConfigError] = ()) -> None:
        self.settings = settings
        self.config_problems = config_problems
        self.library: Library | None = None
        self._renderer: Renderer | None = None

    def renderer(self, library: Library) -> Renderer:
        """One renderer (and synthesis worker) for every check that speaks."""
        if self._renderer is None:
            from kiosk.speech.render import build_renderer

            self._renderer = build_renderer(self.settings, library)
        return self._renderer

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()

    def configuration(self) -> Finding:
        s = self.settings
        detail = (
            f"language {s.language}, voice {s.voice or 'default'}, {s.rate_wpm} wpm, "
            f"{s.volume_db:g} dB, idle {s.idle_timeout_s:g} s, microphone {s.microphone}"
        )
        if self.config_problems:
            # The kiosk runs on with the defaults, but the site did not get what it asked for.
            listed = "; ".join(str(problem) for problem in self.config_problems)
            return Finding("configuration", Status.FAIL, f"ignored: {listed}; in use: {detail}")
        if not s.staff_pin:
            return Finding("configuration", Status.WARN, detail + "; no staff_pin: staff exit off")
        return Finding("configuration", Status.OK, detail)

    def content(self) -> Finding:
        library, problems = validate_tree(self.settings.language_dir)
        if library is None:
            first = problems[0] if problems else "unknown problem"
            more = (
                f" (and {len(problems) - 1} more; run `kiosk validate`)"
                if len(problems) > 1
                else ""
            )
            kept = last_good_dir(self.settings.cache_dir, self.settings.language)
            kept_library = validate_tree(kept)[0]
            if kept_library is not None and not _commands_problem(kept_library):
                # The checks after this one test what visitors are shown.
                self.library = kept_library
                shown = f"visitors see the last good copy ({kept}), which the checks below use"
            else:
                shown = "visitors see the error screen"
            return Finding("content", Status.FAIL, f"{first}{more}; {shown}")
        problem = _commands_problem(library)
        if problem:
            return Finding("content", Status.FAIL, problem)
        self.library = library
        sections = sum(len(topic.sections) for topic in library.topics)
        return Finding(
            "content", Status.OK, f"{len(library.topics)} topics, {sections} sections, valid"
        )

    def fonts(self) -> Finding:
        fonts = sorted((ASSETS_DIR / "fonts").glob("*.ttf"))
        if not fonts:
            return Finding("fonts", Status.FAIL, f"no fonts in {ASSETS_DIR / 'fonts'}")
        return Finding("fonts", Status.OK, ", ".join(font.stem for font in fonts))

    def speech(self) -> Finding:
        if self.library is None:
            return Finding("speech", Status.FAIL, "skipped: no valid content")
        from kiosk.speech import SynthesisError

        # Two interface lines joined: not a cached text, so the synthesiser itself is tried.
        text = f"{self.library.text('screen.app_title')}. {self.library.text('button.help')}."
        renderer = self.renderer(self.library)
        try:
            started = time.perf_counter()
            renderer.warm_up()  # the voice loads (or is found missing) before the timing
            load_ms = (time.perf_counter() - started) * 1000
            started = time.perf_counter()
            rendering = renderer.render(text, self.settings.rate_wpm)
            took_ms = (time.perf_counter() - started) * 1000
        except (SynthesisError, OSError) as error:
            return Finding("speech", Status.FAIL, f"synthesis failed: {error}")
        peak = float(np.abs(rendering.to_float()).max(initial=0.0))
        if rendering.duration_s < 0.3 or peak < SOUND_LEVEL:
            return Finding("speech", Status.FAIL, "the synthesiser produced silence")
        synthesizer = renderer.synthesizer
        # The voice in use and its licences, where staff see them.
        voice = getattr(synthesizer, "description", synthesizer.ident)
        detail = (
            f"voice: {voice}; loaded in {load_ms:.0f} ms, rendered "
            f"{rendering.duration_s:.1f} s of speech in {took_ms:.0f} ms"
        )
        fallback = getattr(synthesizer, "fallback_reason", "")
        if fallback:
            return Finding(
                "speech", Status.WARN,
                f"the natural voice is not in use: {fallback}; espeak-ng speaks instead, which "
                f"listeners understand less well; {detail}",
            )
        voice_problem = getattr(synthesizer, "voice_problem", "")
        if voice_problem:
            return Finding("speech", Status.WARN, f"{detail}; {voice_problem}")
        return Finding("speech", Status.OK, detail)

    def cache(self) -> Finding:
        if self.library is None:
            return Finding("speech cache", Status.WARN, "skipped: no valid content")
        from kiosk.speech.render import library_texts

        renderer = self.renderer(self.library)
        texts = sorted(set(library_texts(self.library, self.settings)))
        ready = sum(renderer.cached(t, self.settings.rate_wpm) is not None for t in texts)
        detail = f"{ready} of {len(texts)} texts prerendered in {self.settings.cache_dir}"
        stand_in_for = renderer.cache_stand_in_for
        if stand_in_for:
            # Speech still works, from a temporary folder that does not outlive the process.
            return Finding(
                "speech cache", Status.WARN,
                f"{stand_in_for}; speech is cached in a temporary folder instead",
            )
        if ready < len(texts):
            return Finding("speech cache", Status.WARN, detail + "; run `kiosk prerender`")
        return Finding("speech cache", Status.OK, detail)

    def sound_output(self) -> Finding:
        from kiosk.speech.player import Player

        player = Player()
        player.start(lambda _notice: None)
        try:
            ready = player.wait_ready(DEVICE_WAIT_S)
        finally:
            player.close()
        if not ready:
            return Finding(
                "sound output",
                Status.WARN,
                "no audio output could be opened: the kiosk will show text only",
            )
        return Finding("sound output", Status.OK, "an output stream opened and ran")

    def microphone(self) -> Finding:
        if self.settings.microphone == "none":
            return Finding("microphone", Status.OK, "turned off in the settings")
        from kiosk.listening.listener import MicrophoneError
        from kiosk.listening.pulse_source import microphone_source

        frames = threading.Event()
        try:
            stream = microphone_source(self.settings.microphone)(lambda _pcm: frames.set())
        except MicrophoneError as error:
            return Finding(
                "microphone", Status.WARN, f"{error}: voice input is off; touch and keys work"
            )
        try:
            heard = frames.wait(DEVICE_WAIT_S)
        finally:
            stream.close()
        # Only that audio arrived is kept: its content is dropped unread.
        if not heard:
            return Finding("microphone", Status.WARN, "opened, but no audio arrived")
        return Finding("microphone", Status.OK, "opened and delivered audio")

    def recognition(self) -> Finding:
        if self.library is None:
            return Finding("recognition", Status.FAIL, "skipped: no valid content")
        from kiosk.listening import Recognizer
        from kiosk.listening.audio import RATE, resample, to_pcm16

        started = time.perf_counter()
        recognizer = Recognizer(self.library)
        load_ms = (time.perf_counter() - started) * 1000
        renderer = self.renderer(self.library)
        right, decode_ms = 0, []
        for phrase, intent_name, topic in LOOPBACK_PHRASES:
            rendering = renderer.render(phrase, self.settings.rate_wpm)
            speech = to_pcm16(resample(rendering.pcm.astype(np.float64), rendering.rate))
            # As a microphone hears it: quiet before and after, which the noise suppressor and
            # the decoder's silence model need (a rendering starts on its first phone).
            quiet = np.zeros(RATE * LOOPBACK_QUIET_MS // 1000, dtype=np.int16)
            samples = np.concatenate([quiet, speech, quiet])
            started = time.perf_counter()
            intent = recognizer.recognize(samples)
            decode_ms.append((time.perf_counter() - started) * 1000)
            right += intent.name == intent_name and intent.topic == topic
        detail = (
            f"{right} of {len(LOOPBACK_PHRASES)} synthetic phrases understood; decoder loaded in "
            f"{load_ms:.0f} ms, {max(decode_ms):.0f} ms per phrase at most"
        )
        # The check is that recognition works end to end, not a measure of accuracy (that is
        # benchmarks/voice.py): one synthetic phrase misheard is still OK.
        status = Status.OK if right >= len(LOOPBACK_PHRASES) - 1 else Status.WARN
        missing = recognizer.decoder.missing
        if missing:
            # Phrases using these words are not listened for until lexicon.toml gives them phones.
            status = Status.WARN
            detail += f"; no pronunciation for: {', '.join(missing[:10])} (add to lexicon.toml)"
        return Finding("recognition", Status.FAIL if right == 0 else status, detail)

    def neural_recognition(self) -> Finding:
        """Which neural model hears what pocketsphinx is unsure of, and its time per utterance."""
        name = "neural recognition"
        if self.settings.recognizer != "hybrid":
            return Finding(name, Status.OK, "off (recognizer = \"fast\"): pocketsphinx alone")
        if self.library is None:
            return Finding(name, Status.FAIL, "skipped: no valid content")
        from speech_recognition import AudioData

        from kiosk.listening.audio import RATE, resample, to_pcm16
        from kiosk.listening.neural import NeuralError, NeuralRecognizer, vocabulary_prompt

        model = Path(self.settings.neural_model).expanduser() if self.settings.neural_model \
            else None
        started = time.perf_counter()
        try:
            neural = NeuralRecognizer(model, prompt=vocabulary_prompt(self.library))
            try:
                neural.wait_ready()
            except NeuralError:
                neural.close()
                raise
        except NeuralError as error:
            return Finding(name, Status.FAIL, f"{error}: the kiosk listens with pocketsphinx "
                           "alone, which understands far less in a noisy room")
        try:
            load_ms = (time.perf_counter() - started) * 1000
            phrase = LOOPBACK_PHRASES[0][0]
            rendering = self.renderer(self.library).render(phrase, self.settings.rate_wpm)
            speech = to_pcm16(resample(rendering.pcm.astype(np.float64), rendering.rate))
            quiet = np.zeros(RATE * LOOPBACK_QUIET_MS // 1000, dtype=np.int16)
            pcm = np.concatenate([quiet, speech, quiet]).astype("<i2").tobytes()
            audio = AudioData(pcm, RATE, 2)
            neural.transcribe(audio)  # the first utterance pays for warming up
            started = time.perf_counter()
            heard = neural.transcribe(audio)
            utterance_ms = (time.perf_counter() - started) * 1000
        finally:
            neural.close()
        if heard is None:
            return Finding(name, Status.FAIL, f"the model in {neural.model_dir} loaded but did "
                           "not answer: the kiosk listens with pocketsphinx alone")
        return Finding(
            name, Status.OK,
            f"Whisper model {neural.model_dir}, loaded in {load_ms:.0f} ms; one utterance "
            f"takes {utterance_ms:.0f} ms on this machine",
        )

    def usage(self) -> Finding:
        path = self.settings.usage_file
        if path is None:
            return Finding("usage figures", Status.OK, "off (usage_figures = false)")
        try:
            days = read_days(path, set_damaged_aside=False)
        except UsageError as error:
            return Finding(
                "usage figures", Status.WARN,
                f"{error}; the kiosk sets a damaged file aside and counts afresh",
            )
        try:
            check_writable(path.parent)
        except OSError as error:
            return Finding(
                "usage figures", Status.WARN,
                f"{path.parent} cannot be written ({error.strerror or error}): "
                "the kiosk counts in memory only",
            )
        week = [date.today() - timedelta(days=n) for n in range(7)]
        visits = sum(days.get(day.isoformat(), {}).get("visits", 0) for day in week)
        return Finding("usage figures", Status.OK, f"{visits} visits in the last 7 days ({path})")

    def all(self) -> Iterator[Callable[[], Finding]]:
        yield from (
            self.configuration,
            self.content,
            self.fonts,
            self.speech,
            self.cache,
            self.usage,
            self.sound_output,
            self.microphone,
            self.recognition,
            self.neural_recognition,
        )


def run_checks(
    settings: Settings, config_problems: Sequence[ConfigError] = (),
    only: Collection[str] | None = None,
) -> Iterator[Finding]:
    """Every check in order (or those named in `only`, as `_Checks` names them); a check that
    breaks unexpectedly is reported, not raised."""
    checks = _Checks(settings, config_problems)
    try:
        for check in checks.all():
            if only is not None and check.__name__ not in only:
                continue
            try:
                yield check()
            except Exception as error:  # a staff tool reports every failure as a finding
                name = check.__name__.replace("_", " ")
                yield Finding(name, Status.FAIL, f"unexpected {type(error).__name__}: {error}")
    finally:
        checks.close()


def _doctor(args: argparse.Namespace, settings: Settings) -> int:
    failed = False
    for finding in run_checks(settings, getattr(args, "config_problems", ())):
        failed |= finding.status is Status.FAIL
        if args.json:
            print(
                json.dumps(
                    {
                        "check": finding.check,
                        "status": str(finding.status),
                        "detail": finding.detail,
                    }
                ),
                flush=True,
            )
        else:
            print(f"{finding.status:<4}  {finding.check:<13} {finding.detail}", flush=True)
    return 1 if failed else 0


def register(subparsers: Any) -> None:
    """Add `kiosk doctor` to the command line."""
    parser = subparsers.add_parser(
        "doctor", help="check this kiosk part by part: content, speech, sound, microphone, voice"
    )
    parser.add_argument("--json", action="store_true", help="one JSON object per check")
    # The doctor runs every check with a bad setting set aside, and reports the setting.
    parser.set_defaults(handler=_doctor, reports_config_problems=True)

