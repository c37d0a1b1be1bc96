"""Child process that owns the one pyttsx3 engine: text in, a WAV file in the cache folder out.

Run as `python -m kiosk.speech._synth_worker`. It reads one JSON request per line on stdin
({"text", "voice", "rate", "path"}) and answers one JSON line per request on its original
stdout: {"ok": true, "words": [[char_start, length, ms], ...]} or {"ok": false, "error": ...}.

Why a process of its own: pyttsx3 2.99 keeps global espeak state, prints to stdout, hangs when
two threads call runAndWait(), and an espeak fault would otherwise take the kiosk down with it.
One engine here serves one request at a time, each with exactly one save_to_file() per
runAndWait() (so the "only the last say() speaks" and sticky save_to_file traps cannot bite).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, TextIO


def _protocol_stream() -> TextIO:
    """Keep the real stdout for replies and send everything else printed to stderr.

    pyttsx3's espeak driver prints "Audio saved to ..." after every file it writes.
    """
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(reply_fd, "w", buffering=1, encoding="utf-8")


def _hook_word_events(engine: Any, words: list[list[int]]) -> bool:
    """Record espeak's word events with their audio position (ms), which pyttsx3 drops.

    pyttsx3 reports 'started-word' with text positions only; the audio position is what lets the
    kiosk time word highlights against playback. If the driver's internals differ from 2.99's,
    word timing is simply unavailable.
    """
    try:
        from pyttsx3.drivers import _espeak

        driver = engine.proxy._driver
        forward = driver._onSynth
    except (ImportError, AttributeError):
        return False

    def on_synth(wav: Any, numsamples: int, events: Any) -> int:
        index = 0
        while True:
            item = events[index]
            if item.type == _espeak.EVENT_LIST_TERMINATED:
                break
            if item.type == _espeak.EVENT_WORD:
                position = int(item.text_position) - 1
                words.append([position, int(item.length), int(item.audio_position)])
            index += 1
        result: int = forward(wav, numsamples, events)
        return result

    _espeak.SetSynthCallback(on_synth)
    return True


def _find_voice(engine: Any, wanted: str) -> str:
    """The id of the voice whose id or name is `wanted` (pyttsx3 ignores unknown ones silently)."""
    folded = wanted.casefold()
    voices = engine.getProperty("voices")
    for voice in voices:
        if folded in (str(voice.id).casefold(), str(voice.name).casefold()):
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
    timed = _hook_word_events(engine, words)
    replies.write(json.dumps({"ok": True, "ready": True, "word_timing": timed}) + "\n")
    current_voice = ""
    for line in sys.stdin:
        try:
            request = json.loads(line)
            text, path = str(request["text"]), str(request["path"])
            voice, rate = str(request.get("voice", "")), int(request["rate"])
            if voice and voice != current_voice:
                engine.setProperty("voice", _find_voice(engine, voice))
                current_voice = voice
            engine.setProperty("rate", rate)
            engine.setProperty("volume", 1.0)
            words.clear()
            engine.save_to_file(text, path)
            engine.runAndWait()
            if not os.path.exists(path):
                raise RuntimeError("the synthesiser wrote no audio")
            reply: dict[str, Any] = {"ok": True, "words": list(words)}
        except Exception as error:  # report the error; the parent decides what to do
            reply = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        replies.write(json.dumps(reply) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
