"""The first utterance after start-up is decoded again if the cold decoder could not place it."""

from __future__ import annotations

from kiosk.intents import IntentName
from kiosk.library import Library
from kiosk.listening.decoder import Heard, SpeechDecoder
from kiosk.listening.recognizer import Recognizer


class ScriptedDecoder(SpeechDecoder):
    """Returns the scripted results in turn and records the audio of each utterance.

    A SpeechDecoder, so it can take the recogniser's decoder's place and mypy checks the
    methods it stands in for; it loads no model (the real `__init__` is not called)."""

    def __init__(self, results: list[str]) -> None:  # no super().__init__(): no model
        self.results = results
        self.utterances: list[bytes] = []

    def begin(self) -> None:
        self.utterances.append(b"")

    def feed(self, pcm: bytes) -> None:
        self.utterances[-1] += pcm

    def finish(self) -> Heard:
        return Heard(self.results.pop(0), 0.9, 100)


def test_first_utterance_gets_a_second_pass_later_ones_do_not(library: Library) -> None:
    recognizer = Recognizer(library)
    decoder = ScriptedDecoder(["", "next", ""])
    recognizer.decoder = decoder
    recognizer.begin()
    recognizer.feed(b"\x01\x02")
    recognizer.feed(b"\x03\x04")
    assert recognizer.finish().name is IntentName.NEXT
    recognizer.begin()
    recognizer.feed(b"\x05")
    assert recognizer.finish().name is IntentName.NONE  # later utterances are decoded once
    assert decoder.utterances == [b"\x01\x02\x03\x04", b"\x01\x02\x03\x04", b"\x05"]


def test_a_dropped_first_utterance_keeps_no_audio(library: Library) -> None:
    recognizer = Recognizer(library)
    decoder = ScriptedDecoder(["", "next"])
    recognizer.decoder = decoder
    recognizer.begin()
    recognizer.feed(b"\x09\x09")
    recognizer.discard()
    recognizer.begin()
    recognizer.feed(b"\x01")
    assert recognizer.finish().name is IntentName.NEXT
    assert decoder.utterances == [b"\x09\x09", b"\x01"]
