"""The neural recogniser's process: `python -m kiosk.neural_worker FD MODEL_DIR THREADS`.

It sits outside kiosk.listening so that starting it imports nothing but faster-whisper: the
listening package would bring in pocketsphinx, the understanding and their memory. The model is
loaded once; then each request, (number, 16 kHz mono s16le audio, prompt), is answered on the
same socket with (number, text, avg_logprob, no_speech_prob, ms). Audio stays in memory.
"""

from __future__ import annotations

import os
import sys
import time
from multiprocessing.connection import Connection

from kiosk.worker_memory import memory_release

#: Tokens one utterance may produce: a request to the kiosk is a short sentence, and Whisper in
#: noise can run on inventing text until its window ends.
MAX_TOKENS = 48


def serve(connection: Connection, model_dir: str, threads: int) -> None:
    """Load the model once, then answer requests until the socket closes or None comes."""
    os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder needs no hub; never reach for one
    import numpy as np
    from faster_whisper import WhisperModel

    release = memory_release()
    try:
        model = WhisperModel(model_dir, device="cpu", compute_type="int8", cpu_threads=threads)
    except Exception as error:  # a corrupt model: said once, then the process ends
        connection.send(("failed", f"{type(error).__name__}: {error}"))
        return
    release()  # loading converts the weights to int8, with about 100 MB of scratch memory
    connection.send(("ready", ""))
    while True:
        try:
            request = connection.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        number, pcm, prompt = request
        started = time.perf_counter()
        audio = np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0
        segments, _info = model.transcribe(
            audio, language="en", beam_size=1, temperature=0.0, without_timestamps=True,
            condition_on_previous_text=False, vad_filter=False, max_new_tokens=MAX_TOKENS,
            initial_prompt=prompt or None, no_speech_threshold=None, log_prob_threshold=None,
        )
        texts: list[str] = []
        logprobs: list[float] = []
        no_speech = 0.0
        for segment in segments:
            texts.append(segment.text.strip())
            logprobs.append(segment.avg_logprob)
            no_speech = max(no_speech, segment.no_speech_prob)
        connection.send((
            number, " ".join(texts).strip(), min(logprobs) if logprobs else -10.0,
            no_speech if logprobs else 1.0, (time.perf_counter() - started) * 1000,
        ))
        del audio, segments
        release()


if __name__ == "__main__":
    serve(Connection(int(sys.argv[1])), sys.argv[2], int(sys.argv[3]))
