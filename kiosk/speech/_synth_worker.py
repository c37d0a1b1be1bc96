"""Child process that owns the one pyttsx3 engine: text in, a WAV file in the cache folder out.

Run as `python -m kiosk.speech._synth_worker`. It reads one JSON request per line on stdin
({"text", "voice", "rate", "path"}) and answers one JSON line per request on its original
stdout: {"ok": true, "words": [[char_start, length, ms], ...]} or {"ok": false, "error": ...}.

Why a process of its own: pyttsx3 2.99 keeps global espeak state, prints to stdout, hangs when
two threads call runAndWait(), and an espeak fault would otherwise take the kiosk down with it.
One engine here serves one request at a time, each with exactly one save_to_file() per
runAndWait() (so the "only the last say() speaks" and sticky save_to_file traps cannot bite).

One more trap, found here: pyttsx3 starts espeak-ng in AUDIO_OUTPUT_RETRIEVAL mode, which is
asynchronous (espeak synthesises on its own thread). runAndWait() can return before the WAV file
is written (a missing, stale or cut-off file), and a rate set while espeak is still busy can be
lost. So each request waits for espeak's own end-of-message event, which pyttsx3 handles by
writing the file, before it answers; the next request therefore starts with espeak idle.

And one more: right after espeak starts, a rate set is only queued until the first synthesis,
so the driver's cancel at the start of the first runAndWait() could drop it (CI once heard the
first sentence at espeak's default 175 wpm instead of 120). The worker therefore renders one
throwaway word at start-up, and before each request reads the rate back from espeak until it
holds.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, TextIO

#: Longest wait for espeak to finish one sentence (plus a little per character).
FINISH_TIMEOUT_S = 10.0


def _protocol_stream() -> TextIO:
    """Keep the real stdout for replies and send everything else printed to stderr.

    pyttsx3's espeak driver prints "Audio saved to ..." after every file it writes.
    """
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")


def _hook_events(engine: Any, words: list[list[int]], finished: threading.Event) -> bool:
    """Record espeak's word events with their audio position (ms), which pyttsx3 drops, and
    set `finished` once pyttsx3 has handled the end of a message (its file is then written).

    pyttsx3 reports 'started-word' with text positions only; the audio position is what lets the
    kiosk time word highlights against playback. If the driver's internals differ from 2.99's,
    this returns False and the worker falls back to watching the file.
    """
    try:
        from pyttsx3.drivers import _espeak

        driver = engine.proxy._driver
        forward = driver._onSynth
    except (ImportError, AttributeError):
        return False

    def on_synth(wav: Any, numsamples: int, events: Any) -> int:
        index = 0
        ended = False
        while True:
            item = events[index]
            if item.type == _espeak.EVENT_LIST_TERMINATED:
                break
            if item.type == _espeak.EVENT_WORD:
                position = int(item.text_position) - 1
                words.append([position, int(item.length), int(item.audio_position)])
            elif item.type == _espeak.EVENT_MSG_TERMINATED:
                ended = True
            index += 1
        try:
            result: int = forward(wav, numsamples, events)
        finally:
            if ended:
                finished.set()
        return result

    _espeak.SetSynthCallback(on_synth)
    return True


def _synchronize() -> None:
    """Wait until espeak has processed every queued command."""
    try:
        from pyttsx3.drivers import _espeak

        _espeak.Synchronize()
    except (ImportError, AttributeError):
        time.sleep(0.05)


def _current_rate() -> int | None:
    """The rate espeak will speak at now, or None if this pyttsx3 cannot tell."""
    try:
        from pyttsx3.drivers import _espeak

        return int(_espeak.dll.espeak_GetParameter(_espeak.RATE, 1))
    except (ImportError, AttributeError):
        return None


def _apply_rate(engine: Any, rate: int) -> None:
    """Set the speaking rate and wait until espeak has taken it (a short bounded wait)."""
    engine.setProperty("rate", rate)
    _synchronize()
    deadline = time.monotonic() + 1.0
    while _current_rate() not in (rate, None) and time.monotonic() < deadline:
        time.sleep(0.01)
        engine.setProperty("rate", rate)


def _warm_up(engine: Any, finished: threading.Event, timed: bool) -> None:
    """Render one word to a throwaway file, so that settings apply at once from then on."""
    with tempfile.TemporaryDirectory(prefix="kiosk-espeak-") as scratch:
        path = Path(scratch) / "warm-up.wav"
        finished.clear()
        engine.save_to_file("ready", str(path))
        engine.runAndWait()
        if timed:
            finished.wait(FINISH_TIMEOUT_S)
        else:
            _wait_for_file(path)


def _wait_for_file(path: Path) -> None:
    """Without the end-of-message hook: wait until the file exists and stops growing."""
    deadline = time.monotonic() + FINISH_TIMEOUT_S
    size = -1
    while time.monotonic() < deadline:
        current = path.stat().st_size if path.exists() else -1
        if current > 44 and current == size:
            return
        size = current
        time.sleep(0.05)


def _find_voice(engine: Any, wanted: str) -> str:
    """The id of the voice whose id, name or language code (e.g. en-us) is `wanted`.

    pyttsx3 ignores an unknown voice silently, hence the search.
    """
    folded = wanted.casefold()
    voices = engine.getProperty("voices")
    for voice in voices:
        codes = [str(code).casefold() for code in getattr(voice, "languages", None) or ()]
        if folded in (str(voice.id).casefold(), str(voice.name).casefold(), *codes):
            return str(voice.id)
    raise ValueError(f"unknown voice {wanted!r}; `espeak-ng --voices` lists the voices")


def main() -> int:
    replies = _protocol_stream()
    try:
        import pyttsx3

        engine = pyttsx3.init("espeak")
    except Exception as error:  # any failure to start is reported, not raised
        failure = {"ok": False, "error": f"pyttsx3 could not start: {error}"}
        replies.write(json.dumps(failure) + "\n")
        return 1
    words: list[list[int]] = []
    finished = threading.Event()
    timed = _hook_events(engine, words, finished)
    _warm_up(engine, finished, timed)
    replies.write(json.dumps({"ok": True, "ready": True, "word_timing": timed}) + "\n")
    current_voice = ""
    #: Why each voice asked for and not found was replaced by the default.
    unknown_voices: dict[str, str] = {}
    for line in sys.stdin:
        try:
            request = json.loads(line)
            text, path = str(request["text"]), str(request["path"])
            voice, rate = str(request.get("voice", "")), int(request["rate"])
            if voice and voice != current_voice:
                current_voice = voice
                try:
                    engine.setProperty("voice", _find_voice(engine, voice))
                except ValueError as error:
                    # A mistyped voice must not silence the kiosk: the engine's default speaks,
                    # and every reply for that voice says so until the setting is mended.
                    unknown_voices[voice] = f"{error}; the default voice speaks instead"
            engine.setProperty("volume", 1.0)
            # Let espeak apply those settings now: runAndWait() begins by calling the driver's
            # stop(), which cancels espeak's queue (and with it a rate not yet applied) if
            # espeak still looks busy.
            _apply_rate(engine, rate)
            words.clear()
            finished.clear()
            engine.save_to_file(text, path)
            engine.runAndWait()
            if timed:
                if not finished.wait(FINISH_TIMEOUT_S + len(text) / 100):
                    raise RuntimeError("espeak did not finish the sentence")
            else:
                _wait_for_file(Path(path))
            if not os.path.exists(path):
                raise RuntimeError("the synthesiser wrote no audio")
            reply: dict[str, Any] = {"ok": True, "words": list(words)}
            if voice in unknown_voices:
                reply["voice_problem"] = unknown_voices[voice]
        except Exception as error:  # report the error; the parent decides what to do
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
