"""`kiosk recognize --json FILE...` and `kiosk understand --json TEXT` (see INTENTS.md)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from kiosk.cli.content import library_or_report
from kiosk.command_words import CommandsError
from kiosk.config import Settings
from kiosk.intents import Intent
from kiosk.understanding import Understanding

EXIT_OK, EXIT_PROBLEM = 0, 1
#: Longer recordings are refused: a request is a few seconds (the live kiosk stops an utterance
#: after its listening time), and the decoder's work grows faster than the length (measured on
#: pink noise: 30 s took 2.9 s to decode, 60 s 9.6 s, 600 s over 11 minutes).
LONGEST_RECORDING_S = 30.0


def _print(fields: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(fields, ensure_ascii=False), flush=True)
    else:
        slots = " ".join(
            f"{key}={fields[key]}" for key in ("topic", "section") if fields.get(key)
        )
        where = f"{fields['file']}: " if "file" in fields else ""
        print(f"{where}{fields['intent']} {slots}".rstrip(), flush=True)


def _recognize(args: argparse.Namespace, settings: Settings) -> int:
    """Decode audio files with the live kiosk's recogniser, loaded once for all files."""
    from kiosk.listening import build_recognizer
    from kiosk.listening.decoder import DecoderError

    library = library_or_report(settings)
    if library is None:
        return EXIT_PROBLEM
    try:
        recognizer, neural_problem = build_recognizer(settings, library)
    except (DecoderError, CommandsError) as error:
        print(f"kiosk: cannot start the recogniser: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    if neural_problem is not None:
        print(f"kiosk: pocketsphinx alone: {neural_problem}", file=sys.stderr)
    try:
        return _recognize_files(args, recognizer)
    finally:
        recognizer.close()


def _recognize_files(args: argparse.Namespace, recognizer: Any) -> int:
    """One JSON (or text) line for each file, in order; EXIT_PROBLEM if any cannot be read."""
    from kiosk.listening.audio import AudioError, read_audio_file

    status = EXIT_OK
    for name in args.files:
        fields: dict[str, Any] = {"file": name}
        try:
            samples = read_audio_file(Path(name), LONGEST_RECORDING_S)
        except (OSError, AudioError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            fields.update({"heard": None, "intent": "error", "topic": None, "section": None,
                           "answer": None, "confidence": 0.0, "decode_ms": None,
                           "error": f"{name}: {reason}"})
            status = EXIT_PROBLEM
            if args.json:
                _print(fields, as_json=True)
            else:  # the reason too, not a bare "error": staff need to know what to mend
                print(f"{name}: error: {reason}", flush=True)
            continue
        start = time.perf_counter()
        intent = recognizer.recognize(samples)
        fields.update(intent.as_json_fields())
        fields["decode_ms"] = round((time.perf_counter() - start) * 1000, 1)
        _print(fields, args.json)
    return status


def understand_fields(intent: Intent) -> dict[str, Any]:
    """The `kiosk understand` JSON: the recognize line minus file and decode time."""
    return intent.as_json_fields()


def _understand(args: argparse.Namespace, settings: Settings) -> int:
    library = library_or_report(settings)
    if library is None:
        return EXIT_PROBLEM
    try:
        understanding = Understanding(library)
    except CommandsError as error:
        print(error, file=sys.stderr)
        return EXIT_PROBLEM
    _print(understand_fields(understanding.understand(" ".join(args.text))), args.json)
    return EXIT_OK


def register(subparsers: Any) -> None:
    """Add `recognize` and `understand` to the kiosk command."""
    recognize = subparsers.add_parser(
        "recognize", help="decode WAV, AIFF, FLAC or Ogg (Vorbis, Opus) files with the kiosk's "
        "recogniser; one line per file",
    )
    recognize.add_argument("files", nargs="+", metavar="FILE")
    recognize.add_argument("--json", action="store_true", help="one JSON object per line")
    recognize.set_defaults(handler=_recognize)
    understand = subparsers.add_parser("understand", help="text -> intent, as the kiosk would")
    understand.add_argument("text", nargs="+", metavar="TEXT")
    understand.add_argument("--json", action="store_true", help="one JSON object")
    understand.set_defaults(handler=_understand)
