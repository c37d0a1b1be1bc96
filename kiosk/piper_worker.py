"""The natural voice's process: `python -m kiosk.piper_worker MODEL.onnx CONFIG.json`.

It sits outside kiosk.speech, as kiosk.neural_worker sits outside kiosk.listening, so that starting
it imports piper-tts and onnxruntime and nothing of the kiosk's (no PortAudio, no numpy-heavy
player). Why a process at all: onnxruntime computing a sentence would otherwise compete with the
UI and the audio callback for the kiosk's GIL, and a fault in it would take the kiosk down.

Protocol, as kiosk.speech._synth_worker's: one JSON line per request on stdin, {"text",
"length_scale", "path"}, and one JSON reply per line: {"ok": true, "words": [[start, end, weight],
...]} once a 16-bit mono WAV is written at `path`, or {"ok": false, "error": ...}. The first line
is the hello, sent after the model has loaded and spoken one word (so a corrupt or mismatched
model fails here, once, rather than on a visitor's first sentence).

Piper reports no word timing, so each word gets a weight, its number of phonemes (punctuation
adds a pause), from which the parent spreads word marks over the audio.
"""

from __future__ import annotations

import json
import os
import re
import sys
import wave
from typing import Any, TextIO

from kiosk.worker_memory import memory_release

#: onnxruntime threads: the machine has 2 cores, shared with the UI and speech recognition.
THREADS = 1
#: Silence between the sentences of one text (Piper renders each on its own and adds none).
SENTENCE_GAP_S = 0.25
#: Extra weight, in phonemes, of the pause a punctuation mark ending a word brings.
PAUSE_WEIGHT = {",": 3, ";": 4, ":": 4, ".": 6, "!": 6, "?": 6}
#: A token: a [[ raw phonemes ]] block (Piper's own syntax) or a run of non-space characters.
_TOKEN = re.compile(r"\[\[.*?\]\]\S*|\S+")
_WORD_CHAR = re.compile(r"[^\W_]")


def _protocol_stream() -> TextIO:
    """Keep the real stdout for replies; anything a library prints goes to stderr."""
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")


def _load(model: str, config: str) -> Any:
    # Before the import: onnxruntime's telemetry writes a file in $TMPDIR as it loads.
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    with open(config, encoding="utf-8") as handle:
        settings = json.load(handle)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = THREADS
    options.inter_op_num_threads = THREADS
    options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
    # Without onnxruntime's own arena the scratch memory of a long sentence goes back to malloc,
    # and memory_release() hands it to the system: measured here, the worker stays at about
    # 142 MB between sentences instead of keeping its largest sentence's 310-340 MB (the peak
    # while rendering the longest content sentence is about 420 MB either way).
    options.enable_cpu_mem_arena = False
    # PiperVoice.load() takes no session options, so the session is built here.
    session = onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )
    return PiperVoice(config=PiperConfig.from_dict(settings), session=session)


def _render(voice: Any, text: str, length_scale: float) -> Any:
    """float32 audio for `text`, its sentences joined with a short gap."""
    import numpy as np
    from piper.config import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale)
    gap = np.zeros(int(SENTENCE_GAP_S * voice.config.sample_rate), dtype=np.float32)
    parts: list[Any] = []
    for chunk in voice.synthesize(text, config):
        if parts:
            parts.append(gap)
        parts.append(chunk.audio_float_array)
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def word_weights(voice: Any, text: str) -> list[list[int]]:
    """[[start, end, weight], ...]: each word's characters (punctuation left out) and phonemes.

    A token with no letters or digits (a dash) gets start == end: a pause, not a word.
    """
    words: list[list[int]] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        phonemes = sum(len(s) - s.count(" ") for s in voice.phonemize(token))
        weight = phonemes + PAUSE_WEIGHT.get(token.rstrip("\"'’”)]")[-1:], 0)
        letters = [m.start() for m in _WORD_CHAR.finditer(token)]
        if token.startswith("[[") or not letters:
            start = end = match.start()
        else:
            start, end = match.start() + letters[0], match.start() + letters[-1] + 1
        words.append([start, end, max(weight, 1)])
    return words


def _write_wav(path: str, audio: Any, rate: int) -> None:
    import numpy as np

    pcm = np.clip(audio * 32767.0, -32767, 32767).astype("<i2")
    with wave.open(path, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rate)
        handle.writeframes(pcm.tobytes())


def main(argv: list[str]) -> int:
    replies = _protocol_stream()
    try:
        model, config = argv
        voice = _load(model, config)
        if not len(_render(voice, "Ready.", 1.0)):
            raise RuntimeError("the voice produced no audio")
    except Exception as error:  # any failure to start is reported, not raised
        failure = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(failure) + "\n")
        return 1
    release = memory_release()
    release()
    rate = int(voice.config.sample_rate)
    replies.write(json.dumps({"ok": True, "ready": True, "sample_rate": rate}) + "\n")
    for line in sys.stdin:
        try:
            request = json.loads(line)
            text, path = str(request["text"]), str(request["path"])
            audio = _render(voice, text, float(request["length_scale"]))
            _write_wav(path, audio, rate)
            reply: dict[str, Any] = {"ok": True, "words": word_weights(voice, text)}
        except Exception as error:  # report the error; the parent decides what to do
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        release()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
