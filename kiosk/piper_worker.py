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

The text is phonemized by kiosk.piper_phonemes rather than by Piper: a lexicon word's [[ ]]
block is swapped in for that word's phonemes in its whole sentence, so the words around it are
said in context (Piper phonemizes the text between blocks piece by piece, and "a" before a block
came out as the letter "ay").

Piper reports no word timing, so each word gets a weight, its number of phonemes (punctuation
adds a pause), from which the parent spreads word marks over the audio.

Memory: the model's decoder needs scratch memory in proportion to the audio one run makes (about
21 MB a second of speech here, on top of the 135 MB the loaded model takes), so a long sentence
is rendered in pieces of at most PIECE_S seconds: cut after a clause (a comma, semicolon, colon
or dash, which espeak-ng turns into a semicolon), and only where a clause alone is too long,
between two words; never inside a lexicon word's [[ phonemes ]] block. The pieces are joined
with about the pause the model makes at a comma (none between two words) and the sentence is
normalised as a whole, as Piper normalises a sentence. onnxruntime's arena hands its memory
back after every run, and glibc maps large blocks on their own, so what one piece used is given
back before the next instead of piling up in the heap.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import wave
from collections.abc import Sequence
from typing import Any, TextIO

from kiosk.piper_phonemes import ContextPhonemizer
from kiosk.worker_memory import map_large_blocks, memory_release

#: onnxruntime threads: the machine has 2 cores, shared with the UI and speech recognition.
THREADS = 1
#: Added to the worker's niceness: a lower priority than the kiosk's own process.
NICENESS = 5
#: Silence between the sentences of one text (Piper renders each on its own and adds none).
SENTENCE_GAP_S = 0.25
#: Extra weight, in phonemes, of the pause a punctuation mark ending a word brings.
PAUSE_WEIGHT = {",": 3, ";": 4, ":": 4, ".": 6, "!": 6, "?": 6}
#: A token: a [[ phonemes ]] block (kiosk.piper_phonemes) or a run of non-space characters.
_TOKEN = re.compile(r"\[\[.*?\]\]\S*|\S+")
_WORD_CHAR = re.compile(r"[^\W_]")

#: Voiced stops that, opening a run of the model, are given twice (a longer closure). The joe voice
#: starts "Before", "Benign" and "benign" alone with a voiced ramp and no burst, which a listener
#: took for "The four", "The nine" (a number); given twice, the stop has its closure and release
#: (docs/speech.md, "How well listeners understand each voice").
ONSET_STOPS = frozenset("bdɡ")
#: The most audio, in seconds, that one run of the model is meant to make: the worker's peak is
#: about 135 MB plus 21 MB a second of it (measured: docs/speech.md), and the 250 MB target
#: leaves room for a run to come out a fifth longer than estimated, as Piper's randomness may.
PIECE_S = 4.5
#: Seconds of audio one run makes of n phonemes, estimated before it runs: n * (PHONEME_FIXED_S
#: + PHONEME_SCALED_S * length_scale) + RUN_SCALED_S * length_scale (the silence at its ends).
#: Fitted with the joe voice to the bundled content at three rates; a run may differ by 20%.
PHONEME_FIXED_S = 0.0121
PHONEME_SCALED_S = 0.0359
RUN_SCALED_S = 0.274
#: Silence put where a piece ending a clause meets the next, per unit of length_scale (0.24 s at
#: 150 wpm). The model lengthens a piece's last syllable by itself, so with this a cut clause
#: takes about 0.05 s longer than the model's own pause at that comma (0.37 s median, measured
#: over the content's clause cuts). Where a clause too long alone is cut between two words no
#: silence is put: that lengthening alone makes it about 0.2 s longer than unbroken speech.
CLAUSE_PAUSE_S = 0.2
#: Piper samples each run: noise in the sound (`noise_scale`, the voice's own 0.667) and in each
#: phoneme's length (`noise_w`, 0.8), so a text never comes out the same twice. Without either,
#: a listening machine (benchmarks/intelligibility.py) got 50/981 words wrong and 36/41 domain
#: words right, the same in two runs, against 54, 49, 58/981 and 35, 36, 34/41 with the voice's
#: own noise, and 54, 54, 54, 58/981 and 37, 36, 37, 34/41 at a third of it (docs/speech.md). The
#: same text now sounds the same every time, wherever it was rendered.
NOISE_SCALE = 0.0
NOISE_W_SCALE = 0.0
#: Quiet kept on each side of a join (the fading end of a sound is not cut), in seconds.
JOIN_EDGE_S = 0.01
#: Below this fraction of a piece's peak, a sample at its edge is silence.
QUIET = 0.002
#: Phonemes after which espeak-ng ends a clause (Piper keeps them, then a space).
CLAUSE_ENDS = frozenset(",;:")
#: A phoneme that marks primary stress: a word without one is a function word ("the", "or").
PRIMARY_STRESS = "ˈ"
#: glibc serves blocks from this size (bytes) with their own mapping, given back when freed
#: (measured: 13 MB off the peak, as glibc's own threshold keeps growing blocks in its heap).
MMAP_THRESHOLD = 128 * 1024


class _ShrinkingSession:
    """The onnxruntime session, run with its arena's memory handed back after each run."""

    def __init__(self, session: Any, run_options: Any) -> None:
        self.session = session
        self.run_options = run_options

    def run(self, output_names: Any, input_feed: Any, run_options: Any = None) -> Any:
        return self.session.run(output_names, input_feed, run_options or self.run_options)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)


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
    # onnxruntime's arena, emptied after every run (below), rather than no arena: without it the
    # pieces of one sentence leave their scratch memory scattered in malloc's heap, which grows
    # from piece to piece (measured: a 4.3 s piece at a time still peaked at 377 MB).
    options.enable_cpu_mem_arena = True
    # onnxruntime's memory patterns lay out a whole run's tensors in one block, planned from an
    # earlier run with inputs of the same shape: here the audio's length changes even so, and
    # measured, a sentence rendered again peaked up to about 100 MB above its first time.
    options.enable_mem_pattern = False
    # PiperVoice.load() takes no session options, so the session is built here.
    session = onnxruntime.InferenceSession(
        model, sess_options=options, providers=["CPUExecutionProvider"]
    )
    shrink = onnxruntime.RunOptions()
    shrink.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
    return PiperVoice(
        config=PiperConfig.from_dict(settings), session=_ShrinkingSession(session, shrink)
    )


def _render(voice: Any, phonemizer: ContextPhonemizer, text: str, length_scale: float) -> Any:
    """float32 audio for `text`, its sentences (each rendered in pieces) joined with a gap."""
    import numpy as np
    from piper.config import SynthesisConfig

    config = SynthesisConfig(length_scale=length_scale, noise_scale=NOISE_SCALE,
                             noise_w_scale=NOISE_W_SCALE)
    rate = voice.config.sample_rate
    limit = max(1, int((PIECE_S - RUN_SCALED_S * length_scale)
                       / (PHONEME_FIXED_S + PHONEME_SCALED_S * length_scale)))
    gap = np.zeros(int(SENTENCE_GAP_S * rate), dtype=np.float32)
    parts: list[Any] = []
    for sentence in phonemizer.sentences(text):
        phonemes = sentence.phonemes
        pieces = []
        for start, end, clause in plan_pieces(phonemes, limit, sentence.blocks):
            ids = voice.phonemes_to_ids(firm_onset(phonemes[start:end]))
            pause = CLAUSE_PAUSE_S * length_scale if clause else 0.0
            pieces.append((np.asarray(voice.phoneme_ids_to_audio(ids, config)), pause))
        audio = _join(pieces, rate)
        if parts:
            parts.append(gap)
        # Normalised as a whole sentence, as Piper normalises each sentence it renders.
        peak = float(np.max(np.abs(audio))) if len(audio) else 0.0
        audio = audio / peak if peak > 1e-8 else np.zeros_like(audio)
        parts.append(np.clip(audio, -1.0, 1.0).astype(np.float32))
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)


def firm_onset(phonemes: Sequence[str]) -> list[str]:
    """A run's phonemes with a voiced stop (ONSET_STOPS) that opens it given twice."""
    out = list(phonemes)
    first = next((i for i, p in enumerate(out) if p not in " ˈˌ"), None)
    if first is not None and out[first] in ONSET_STOPS:
        out.insert(first, out[first])
    return out


def plan_pieces(phonemes: Sequence[str], limit: int,
                keep: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int, bool]]:
    """Cut a sentence's phonemes into pieces of at most `limit`: [(start, end, clause), ...].

    `clause` says the piece ends a clause (it is False for the last piece and where a clause too
    long on its own had to be cut between two words). Pieces take as many whole clauses as fit.
    A clause cut between words is cut before a word without primary stress ("or", "to", "the")
    that follows one with it, where that costs no extra piece; else into even pieces. Nothing is
    cut inside a `keep` span (a [[ phonemes ]] block); a piece runs over `limit` only where
    it has no other place to cut. The spaces where pieces meet belong to neither.
    """
    size = len(phonemes)

    def free(cut: int) -> bool:
        return not any(start < cut < end for start, end in keep)

    clause_cuts = [i + 1 for i in range(size - 1)
                   if phonemes[i] in CLAUSE_ENDS and phonemes[i + 1] == " " and free(i + 1)]
    word_cuts = [i for i in range(1, size - 1)
                 if phonemes[i] == " " and phonemes[i - 1] != " " and free(i)]
    pieces: list[tuple[int, int, bool]] = []
    start = 0
    while size - start > limit:
        reach = start + limit
        clauses = [cut for cut in clause_cuts if start < cut <= reach]
        words = [cut for cut in word_cuts if start < cut <= reach]
        if clauses:
            cut, clause = clauses[-1], True
        elif words:
            # The clause (to its end or the sentence's) shared evenly by as few pieces as hold it.
            stop = next((cut for cut in clause_cuts if cut > reach), size)
            count = math.ceil((stop - start) / limit)
            target = start + (stop - start) / count
            # Where it costs no extra piece and leaves no scrap, at a phrase boundary.
            fitting = [cut for cut in words if stop - cut - 1 <= (count - 1) * limit] or words
            phrases = [cut for cut in fitting if _phrase_boundary(phonemes, cut)
                       and min(cut - start, stop - cut) >= limit // 4]
            cut = min(phrases or fitting, key=lambda c: abs(c - target))
            clause = False
        else:
            later = [cut for cut in clause_cuts + word_cuts if cut > reach]
            if not later:
                break
            cut = min(later)
            clause = cut in clause_cuts
        pieces.append((start, cut, clause))
        start = cut
        while start < size and phonemes[start] == " ":
            start += 1
    pieces.append((start, size, False))
    return [(a, b, clause) for a, b, clause in pieces if b > a]


def _phrase_boundary(phonemes: Sequence[str], cut: int) -> bool:
    """True if the space at `cut` follows a stressed word and comes before an unstressed one
    ("or", "to", "the"): where a phrase may end."""
    before = "".join(phonemes[:cut]).rsplit(" ", 1)[-1]
    after = "".join(phonemes[cut + 1:]).split(" ", 1)[0]
    return PRIMARY_STRESS in before and PRIMARY_STRESS not in after


def _join(pieces: Sequence[tuple[Any, float]], rate: int) -> Any:
    """The pieces' audio end to end: where two meet, the quiet at their edges is cut to
    JOIN_EDGE_S and the first's pause (seconds) put between."""
    import numpy as np

    edge = int(JOIN_EDGE_S * rate)
    out: list[Any] = []
    for index, (audio, pause) in enumerate(pieces):
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        loud = np.flatnonzero(np.abs(audio) > QUIET * float(np.max(np.abs(audio), initial=0.0)))
        first, last = (int(loud[0]), int(loud[-1]) + 1) if len(loud) else (0, 0)
        start = max(0, first - edge) if index > 0 else 0
        end = min(len(audio), last + edge) if index < len(pieces) - 1 else len(audio)
        out.append(audio[start:end])
        if index < len(pieces) - 1:
            out.append(np.zeros(int(pause * rate), dtype=np.float32))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def word_weights(phonemizer: ContextPhonemizer, text: str) -> list[list[int]]:
    """[[start, end, weight], ...]: each word's characters (punctuation left out) and phonemes.

    A token with no letters or digits (a dash) gets start == end: a pause, not a word. A
    [[ phonemes ]] block (a lexicon word) spans the whole block, which the renderer maps back to
    the word it stands for.
    """
    words: list[list[int]] = []
    for match in _TOKEN.finditer(text):
        token = match.group(0)
        phonemes = sum(len(s.phonemes) - s.phonemes.count(" ")
                       for s in phonemizer.sentences(token))
        weight = phonemes + PAUSE_WEIGHT.get(token.rstrip("\"'’”)]")[-1:], 0)
        letters = [m.start() for m in _WORD_CHAR.finditer(token)]
        if token.startswith("[["):
            start, end = match.start(), match.start() + token.index("]]") + 2
        elif not letters:
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
    # Rendering runs well ahead of playback (a real-time factor under 0.1), so on a busy
    # machine it gives way to the kiosk's audio and interface threads.
    os.nice(NICENESS)
    map_large_blocks(MMAP_THRESHOLD)
    try:
        model, config = argv
        voice = _load(model, config)
        phonemizer = ContextPhonemizer(voice)
        if not len(_render(voice, phonemizer, "Ready.", 1.0)):
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
            audio = _render(voice, phonemizer, text, float(request["length_scale"]))
            _write_wav(path, audio, rate)
            reply: dict[str, Any] = {"ok": True, "words": word_weights(phonemizer, text)}
        except Exception as error:  # report the error; the parent decides what to do
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
        release()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
