"""The real speaker behind the real controller: reading position follows what is heard."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kiosk.config import Settings
from kiosk.controller import Controller
from kiosk.engines import NullListener
from kiosk.events import EventType
from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.speech import create_speaker
from kiosk.speech.player import Player
from tests.support.marshal import Marshal
from tests.support.pulseaudio import PulseAudioServer


@pytest.mark.real_audio
def test_controller_reading_follows_the_heard_sentences(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> None:
    settings = replace(Settings(), cache_dir=tmp_path, rate_wpm=220)
    controller = Controller(settings, library)
    positions: list[int] = []
    controller.subscribe(
        lambda e: positions.append(e["sentence"]) if e.type is EventType.READING_POSITION else None
    )
    marshal = Marshal()
    speaker = create_speaker(settings, library, marshal)
    listener = NullListener(marshal)
    try:
        assert isinstance(speaker.output, Player)
        assert speaker.output.wait_ready(15)
        controller.attach(speaker, listener)
        section = library.section("calcifications", "benign-or-cancer")
        recorder = pulse.start_recording()
        time.sleep(0.2)
        positions.clear()
        controller.handle(Intent(IntentName.SECTION, topic="calcifications", section=section.id))
        marshal.pump_until(controller, EventType.SENTENCE_STARTED, 20, text=section.sentences[1].text)
        assert controller.state.sentence == 1
        controller.handle(Intent(IntentName.PAUSE))
        paused = marshal.pump_until(controller, EventType.SPEECH_PAUSED, 5)
        controller.handle(Intent(IntentName.RESUME))
        again = marshal.pump_until(controller, EventType.SENTENCE_STARTED, 10)
        assert again["index"] == paused["index"]
        assert again["text"] == section.sentences[1].text
        controller.handle(Intent(IntentName.STOP))
        marshal.pump_until(controller, EventType.SPEECH_STOPPED, 5)
        audio = pulse.finish_recording(recorder)
        assert positions[:2] == [0, 1]
        assert np.mean(np.abs(audio) > 0.003) > 0.3  # it was heard, not just reported
    finally:
        speaker.close()
