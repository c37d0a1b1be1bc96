"""The neural recogniser's process: `python -m kiosk.neural_worker FD MODEL_DIR THREADS`.

It sits outside kiosk.listening so that starting it imports nothing but faster-whisper: the
listening package would bring in pocketsphinx, the understanding and their memory. The model is
loaded once; then each request, (number, 16 kHz mono s16le audio, prompt, rows), is answered on
the same socket. With no rows it is transcribed: (number, text, avg_logprob, no_speech_prob, ms).
With rows (texts, such as what Whisper heard and some of the kiosk's own phrasings) each is
scored against the audio: (number, [(its tokens' summed log probability, tokens), ...], ms); the
recogniser uses that to tell which phrasing a garbled transcript was (docs/voice.md, "Phrasings
scored by Whisper"). Audio stays in memory.

Whisper was trained on 30 s windows, and faster-whisper's `transcribe` pads every utterance to
one; the encoder's cost grows with the window, and a request to the kiosk lasts a few seconds.
So this worker drives faster-whisper's parts itself and encodes a 10 s window when the utterance
fits in one: a third of the time, and on the development audio as many or more utterances
understood (docs/voice.md, "A shorter window").

Memory: faster-whisper imports PyAV (FFmpeg's libraries) at its top for `decode_audio`, which
this worker never calls (it is given samples, not files). A placeholder module stands in for
`av` before faster-whisper is imported: the process is about 24 MB smaller (docs/speech.md,
"Memory"), and a call that did need PyAV would fail with AttributeError, not decode.
"""

from __future__ import annotations

import os
import sys
import time
import types
from multiprocessing.connection import Connection
from typing import Any

from kiosk.child_process import requests
from kiosk.worker_memory import memory_release

#: Tokens one utterance may produce: a request to the kiosk is a short sentence, and Whisper in
#: noise can run on inventing text until its window ends.
MAX_TOKENS = 48
#: Mel frames (10 ms each) of the encoder's window for an utterance that fits in it.
SHORT_WINDOW_FRAMES = 1000
#: Whisper's own window, for anything longer.
FULL_WINDOW_FRAMES = 3000
#: Prompt tokens kept, as faster-whisper keeps them: half of the decoder's 448 positions.
PROMPT_TOKENS = 223
#: Scoring rows encode the utterance and this much more (mel frames), in whole seconds: each row
#: runs the decoder's attention over the whole window, so a short one makes rows cheap.
SCORING_MARGIN_FRAMES = 200


def skip_pyav() -> None:
    """Have `import av` give an empty placeholder module in this process (see the docstring)."""
    sys.modules.setdefault("av", types.ModuleType("av", "not loaded: the worker decodes no files"))


class Transcriber:
    """One loaded Whisper model, greedy and without timestamps, for short English requests."""

    def __init__(self, model_dir: str, threads: int) -> None:
        from faster_whisper import WhisperModel
        from faster_whisper.tokenizer import Tokenizer
        from faster_whisper.transcribe import get_suppressed_tokens

        self.model = WhisperModel(model_dir, device="cpu", compute_type="int8",
                                  cpu_threads=threads)
        # A multilingual model is told the language, so it never guesses another one.
        self.tokenizer = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual,
                                   task="transcribe", language="en")
        self.suppressed = list(get_suppressed_tokens(self.tokenizer, [-1]))
        self._prompts: dict[str, list[int]] = {}

    def _prompt(self, words: str) -> list[int]:
        tokenizer = self.tokenizer
        if words not in self._prompts:
            leading = tokenizer.encode(" " + words.strip())[-PROMPT_TOKENS:] if words else []
            leading = [tokenizer.sot_prev, *leading] if leading else []
            self._prompts[words] = [*leading, *tokenizer.sot_sequence, tokenizer.no_timestamps]
        return self._prompts[words]

    def transcribe(self, audio: Any, prompt: str) -> tuple[str, float, float]:
        """Text, mean token log probability and no-speech probability for float32 audio."""
        from faster_whisper.audio import pad_or_trim

        if len(audio) < 160:  # less than one frame: nothing to hear
            return "", -10.0, 1.0
        features = self.model.feature_extractor(audio)
        frames = features.shape[-1]
        window = SHORT_WINDOW_FRAMES if frames <= SHORT_WINDOW_FRAMES else FULL_WINDOW_FRAMES
        encoded = self.model.encode(pad_or_trim(features[:, :FULL_WINDOW_FRAMES], window))
        tokens = self._prompt(prompt)
        result = self.model.model.generate(
            encoded, [tokens], beam_size=1, max_length=len(tokens) + MAX_TOKENS,
            return_scores=True, return_no_speech_prob=True, suppress_blank=True,
            suppress_tokens=self.suppressed,
        )[0]
        ids = result.sequences_ids[0]
        # CTranslate2's score is the sum over the tokens divided by their number; faster-whisper
        # divides by one more (the end of text), and the kiosk's thresholds were set on that.
        avg_logprob = result.scores[0] * len(ids) / (len(ids) + 1)
        text = self.tokenizer.decode(ids).strip()
        return text, avg_logprob if text else -10.0, result.no_speech_prob

    def score(self, audio: Any, rows: list[str]) -> list[tuple[float, int]]:
        """Each row's (total log probability, tokens) as what was said, teacher-forced (no
        prompt)."""
        import ctranslate2
        import numpy as np
        from faster_whisper.audio import pad_or_trim

        if len(audio) < 160 or not rows:
            return [(-1e9, 1)] * len(rows)
        features = self.model.feature_extractor(audio)[:, :SHORT_WINDOW_FRAMES]
        frames = features.shape[-1]
        window = min(SHORT_WINDOW_FRAMES, (frames + SCORING_MARGIN_FRAMES) // 100 * 100)
        encoded = np.asarray(self.model.encode(pad_or_trim(features, window)))
        tokens = [self.tokenizer.encode(" " + row.strip()) or [self.tokenizer.eot]
                  for row in rows]
        batch = ctranslate2.StorageView.from_array(np.repeat(encoded, len(rows), axis=0))
        start = [*self.tokenizer.sot_sequence, self.tokenizer.no_timestamps]
        aligned = self.model.model.align(batch, start, tokens, [frames // 2] * len(rows),
                                         median_filter_width=1)
        probabilities = [np.maximum(np.asarray(one.text_token_probs), 1e-12) for one in aligned]
        return [(float(np.sum(np.log(each))), max(1, len(each))) for each in probabilities]


def serve(connection: Connection, model_dir: str, threads: int) -> None:
    """Load the model once, then answer requests until the socket closes or None comes."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder needs no hub; never reach for one
    skip_pyav()
    import numpy as np

    release = memory_release()
    try:
        transcriber = Transcriber(model_dir, threads)
    except Exception as error:  # a corrupt model: said once, then the process ends
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    release()  # loading converts the weights to int8, with about 100 MB of scratch memory
    connection.send(("ready", ""))
    for request in requests(connection):
        number, pcm, prompt, rows = request
        started = time.perf_counter()
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        if rows:
            scores = transcriber.score(audio, list(rows))
            connection.send((number, scores, (time.perf_counter() - started) * 1000))
        else:
            text, avg_logprob, no_speech = transcriber.transcribe(audio, prompt)
            connection.send((number, text, avg_logprob, no_speech,
                             (time.perf_counter() - started) * 1000))
        del audio
        release()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2], int(sys.argv[3]))
