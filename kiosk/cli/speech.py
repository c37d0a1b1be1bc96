"""`kiosk say`, `kiosk read` and `kiosk prerender`: speech from the command line.

say      speak a text through the kiosk's speaker, or write it to a WAV file (--out);
read     read a topic aloud sentence by sentence, or write one WAV per sentence and a manifest;
prerender  fill the audio cache with every content sentence and interface line (install time).
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import time
import wave
from pathlib import Path
from typing import Any

from kiosk.cli.content import library_or_report
from kiosk.config import Settings
from kiosk.events import Event, EventType
from kiosk.library import Library
from kiosk.sentences import split_sentences
from kiosk.speech.render import build_renderer, library_texts
from kiosk.speech.synth import Rendering, SynthesisError

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
#: How long `say` and `read` wait for the sound device before giving up.
DEVICE_WAIT_S = 10.0


def register(subparsers: Any) -> None:
    """Add the speech subcommands to the `kiosk` command."""
    say = subparsers.add_parser("say", help="speak a text (or write it to a WAV file)")
    say.add_argument("text", nargs="+", help="the text to speak")
    say.add_argument("--out", type=Path, metavar="FILE.wav", help="write a WAV file instead")
    _rate_option(say)
    say.set_defaults(handler=_say)

    read = subparsers.add_parser(
        "read", help="read a topic aloud sentence by sentence (or write one WAV per sentence)"
    )
    read.add_argument("topic", help="topic id, such as calcifications")
    read.add_argument("--section", metavar="ID", help="read only this section")
    read.add_argument(
        "--out", type=Path, metavar="DIR",
        help="write NNN.wav per sentence and manifest.json (texts, durations) into DIR",
    )
    _rate_option(read)
    read.set_defaults(handler=_read)

    prerender = subparsers.add_parser(
        "prerender", help="render all content and interface speech into the audio cache"
    )
    prerender.set_defaults(handler=_prerender)


def _rate_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--rate", type=int, metavar="WPM",
        help="speaking rate in words per minute (default: the rate_wpm setting)",
    )


def _rate(args: argparse.Namespace, settings: Settings) -> int | None:
    """The rate asked for, or None (after saying why) if it is out of the configured range."""
    rate = settings.rate_wpm if args.rate is None else int(args.rate)
    if not settings.rate_min_wpm <= rate <= settings.rate_max_wpm:
        print(
            f"kiosk: --rate must be between {settings.rate_min_wpm} and {settings.rate_max_wpm}",
            file=sys.stderr,
        )
        return None
    return rate



def write_wav(path: Path, rendering: Rendering) -> None:
    """Write mono 16-bit PCM as a WAV file (the user asked for this file)."""
    # The file is opened first: when `wave.open` itself fails to open a path, Python 3.11 also
    # prints an "Exception ignored" traceback from the half-made writer.
    with path.open("wb") as file, wave.open(file, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(rendering.rate)
        handle.writeframes(rendering.pcm.astype("<i2").tobytes())


class _Listener:
    """Collects a speaker's events on the command line's thread."""

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[Event] = queue.SimpleQueue()

    def __call__(self, item: Event) -> None:
        self.events.put(item)


def _speak_aloud(settings: Settings, library: Library | None, texts: list[str], echo: bool) -> int:
    """Speak `texts` in order and wait until they have been heard; print each as it starts."""
    from kiosk.speech import create_speaker

    listener = _Listener()
    speaker = create_speaker(settings, library, listener)
    try:
        speaker.speak(texts)
        deadline = time.monotonic() + DEVICE_WAIT_S
        started = stopped = False
        while True:
            timeout = None if started else max(0.0, deadline - time.monotonic())
            if stopped:
                timeout = 0.5  # a lost device reports itself just after the cut
            try:
                item = listener.events.get(timeout=timeout)
            except queue.Empty:
                if stopped:
                    print("kiosk: speech was cut off", file=sys.stderr)
                else:
                    print("kiosk: sound did not start; is an audio device connected?",
                          file=sys.stderr)
                return EXIT_PROBLEM
            if item.type is EventType.SENTENCE_STARTED:
                started = True
                if echo:
                    print(item["text"], flush=True)
            elif item.type is EventType.SPEECH_FINISHED:
                return EXIT_OK
            elif item.type is EventType.SOUND_UNAVAILABLE:
                print(f"kiosk: sound is not available: {item['reason']}", file=sys.stderr)
                return EXIT_PROBLEM
            elif item.type is EventType.SPEECH_STOPPED:
                stopped = True
    finally:
        speaker.close()


def _say(args: argparse.Namespace, settings: Settings) -> int:
    text = " ".join(args.text).strip()
    if not text:
        print("kiosk: nothing to say", file=sys.stderr)
        return EXIT_USAGE
    rate = _rate(args, settings)
    if rate is None:
        return EXIT_USAGE
    library = library_or_report(settings)
    if args.out is not None:
        if args.out.suffix.lower() != ".wav":
            print("kiosk: --out must name a .wav file", file=sys.stderr)
            return EXIT_USAGE
        renderer = build_renderer(settings, library)
        try:
            rendering = renderer.render(text, rate)
            write_wav(args.out, rendering)
        except SynthesisError as error:
            print(f"kiosk: speech synthesis failed: {error}", file=sys.stderr)
            return EXIT_PROBLEM
        except OSError as error:
            print(f"kiosk: cannot write {args.out}: {error.strerror or error}", file=sys.stderr)
            return EXIT_PROBLEM
        finally:
            renderer.close()
        print(f"{args.out}: {rendering.duration_s:.2f} s")
        return EXIT_OK
    sentences = split_sentences(text) or [text]
    return _speak_aloud(_with_rate(settings, rate), library, sentences, echo=False)


def _with_rate(settings: Settings, rate: int) -> Settings:
    from dataclasses import replace

    return replace(settings, rate_wpm=rate)


def _read(args: argparse.Namespace, settings: Settings) -> int:
    rate = _rate(args, settings)
    if rate is None:
        return EXIT_USAGE
    library = library_or_report(settings)
    if library is None:
        return EXIT_PROBLEM
    try:
        topic = library.topic(args.topic)
    except KeyError:
        known = ", ".join(t.id for t in library.topics)
        print(f"kiosk: no topic {args.topic!r}; topics: {known}", file=sys.stderr)
        return EXIT_USAGE
    sections = list(topic.sections)
    if args.section:
        sections = [s for s in sections if s.id == args.section]
        if not sections:
            known = ", ".join(s.id for s in topic.sections)
            print(f"kiosk: no section {args.section!r} in {topic.id}; sections: {known}",
                  file=sys.stderr)
            return EXIT_USAGE
    # Titles are read as headings, then each sentence: what the kiosk says in "Read all".
    entries = [
        entry
        for section in sections
        for entry in [(section.id, -1, section.title)]
        + [(section.id, n, s.text) for n, s in enumerate(section.sentences)]
    ]
    if args.out is None:
        return _speak_aloud(
            _with_rate(settings, rate), library, [text for _, _, text in entries], echo=True
        )
    return _write_topic(settings, library, entries, args.out, rate)


def _write_topic(
    settings: Settings, library: Library, entries: list[tuple[str, int, str]], out: Path, rate: int
) -> int:
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        print(f"kiosk: cannot create {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_PROBLEM
    renderer = build_renderer(settings, library)
    manifest: list[dict[str, Any]] = []
    try:
        for number, (section_id, index, text) in enumerate(entries, start=1):
            rendering = renderer.render(text, rate)
            name = f"{number:03d}.wav"
            write_wav(out / name, rendering)
            manifest.append({
                "file": name, "section": section_id,
                "sentence": index if index >= 0 else None,
                "text": text, "duration_s": round(rendering.duration_s, 3),
            })
        (out / "manifest.json").write_text(
            json.dumps({"rate_wpm": rate, "voice": settings.voice or "default", "items": manifest},
                       indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
    except SynthesisError as error:
        print(f"kiosk: speech synthesis failed: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    except OSError as error:
        print(f"kiosk: cannot write into {out}: {error.strerror or error}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        renderer.close()
    total = sum(item["duration_s"] for item in manifest)
    print(f"{out}: {len(manifest)} files, {total:.1f} s of speech, manifest.json")
    return EXIT_OK


def _prerender(args: argparse.Namespace, settings: Settings) -> int:
    library = library_or_report(settings)
    if library is None:
        return EXIT_PROBLEM
    renderer = build_renderer(settings, library)
    if renderer.cache_stand_in_for:
        # Rendering into a temporary stand-in would be thrown away at once.
        renderer.close()
        print(f"kiosk: cannot prerender: speech cache {renderer.cache_stand_in_for}",
              file=sys.stderr)
        return EXIT_PROBLEM
    texts = list(library_texts(library, settings))
    rendered = 0
    began = time.monotonic()
    try:
        for text in texts:
            if renderer.cached(text, settings.rate_wpm) is None:
                renderer.render(text, settings.rate_wpm)
                rendered += 1
    except SynthesisError as error:
        print(f"kiosk: speech synthesis failed: {error}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        renderer.close()
    cache = renderer.cache
    size = cache.size_bytes() / 1e6 if cache is not None else 0.0
    cache_dir = cache.root if cache is not None else settings.cache_dir
    print(
        f"{len(texts)} texts at {settings.rate_wpm} wpm: {rendered} rendered, "
        f"{len(texts) - rendered} already cached ({size:.1f} MB in {cache_dir}) "
        f"in {time.monotonic() - began:.1f} s"
    )
    return EXIT_OK
