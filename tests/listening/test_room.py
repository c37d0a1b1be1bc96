"""The kiosk in a room: its own loudspeaker leaks into its microphone, as it will on site.

Real parts throughout: the real Speaker plays into the PulseAudio null sink, a loopback carries
that sound into a "room" sink at about -13 dB, and the real Listener hears the room's monitor
as its default microphone (tests/support/pulseaudio.py, `room`). A visitor's voice is played into
the same room. The listener is made as the kiosk makes it, with the speaker's output as the
reference of its echo canceller (barge-in).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.controller import Controller
from kiosk.events import EventType
from kiosk.intents import Intent, IntentName
from kiosk.library import Library, Section
from kiosk.listening import create_listener
from kiosk.speech import create_speaker
from kiosk.speech.player import Player
from tests.support.marshal import Marshal
from tests.support.pulseaudio import PulseAudioServer
from tests.support.speech_fixtures import have_espeak, pad, synthesize

pytestmark = [
    pytest.mark.real_audio,
    pytest.mark.skipif(not have_espeak(), reason="espeak-ng is not installed"),
]

#: PulseAudio volume of the leak from loudspeaker to microphone (cubic: about -13 dB).
ECHO_VOLUME_PERCENT = 60
#: The visitor's voice and rate.
VOICE = ("en-us+klatt", 150)
#: Tries a visitor gets to stop the reading by voice (about half are caught live: docs/voice.md).
STOP_TRIES = 8


@contextmanager
def reading_in_the_room(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> Iterator[tuple[Controller, Marshal, Section]]:
    """The kiosk, made as the app makes it, starting to read a section aloud in the room."""
    settings = replace(Settings(), cache_dir=tmp_path, rate_wpm=200)
    marshal = Marshal()
    with pulse.room(ECHO_VOLUME_PERCENT):
        controller = Controller(settings, library)
        speaker = create_speaker(settings, library, marshal)
        listener = create_listener(settings, library, marshal, speaker=speaker)
        try:
            assert isinstance(speaker.output, Player)
            assert speaker.output.wait_ready(15)
            controller.attach(speaker, listener)
            section = library.section("calcifications", "benign-or-cancer")
            controller.handle(
                Intent(IntentName.SECTION, topic="calcifications", section=section.id)
            )
            yield controller, marshal, section
        finally:
            listener.close()
            speaker.close()


def test_own_voice_in_the_microphone_never_makes_the_kiosk_act(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> None:
    with reading_in_the_room(pulse, library, tmp_path) as (controller, marshal, section):
        seen = marshal.seen
        # The whole section is read to its end while the microphone hears every word.
        last = len(section.sentences)  # the speaker's queue opens with the section's title
        marshal.pump_until(controller, EventType.SENTENCE_FINISHED, 60, index=last)
        kinds = [e.type for e in seen]
        started = [e["index"] for e in seen if e.type is EventType.SENTENCE_STARTED]
        assert started[: last + 1] == list(range(last + 1)), "reading was cut short"
        assert EventType.SPEECH_STOPPED not in kinds
        assert EventType.HEARD not in kinds, [e.data for e in seen if e.type is EventType.HEARD]
        # Reading flows on into the next section; the visitor stops it by key.
        controller.handle(Intent(IntentName.STOP))

        # Not a deaf microphone: once the kiosk is quiet, a visitor in the same room is heard.
        marshal.pump_for(controller, 1.0)
        seen.clear()
        controller.talk()
        marshal.pump_for(controller, 0.5)
        visitor = pad(synthesize("please speak louder", *VOICE), 0.4)
        volume = controller.state.volume_db
        pulse.say_in_room(visitor.tobytes())
        marshal.pump_for(controller, 8)
        heard = [e["intent"].name for e in seen if e.type is EventType.HEARD]
        assert heard == [IntentName.LOUDER], [(e.type, dict(e.data)) for e in seen if "word" not in e.type]
        assert controller.state.volume_db > volume


def test_a_visitor_stops_the_reading_by_voice_over_the_loudspeaker(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> None:
    assert Settings().barge_in, "barge-in is on by default"
    with reading_in_the_room(pulse, library, tmp_path) as (controller, marshal, _section):
        seen = marshal.seen
        # The canceller learns the room from the kiosk's first seconds of speech.
        marshal.pump_for(controller, 5.0)
        assert EventType.SPEECH_STOPPED not in [e.type for e in seen]
        stop = pad(synthesize("please stop", *VOICE), 0.2).tobytes()
        for _ in range(STOP_TRIES):
            pulse.say_in_room(stop)
            marshal.pump_for(controller, 2.5)
            if EventType.SPEECH_STOPPED in [e.type for e in seen]:
                break
        heard = [e["intent"].name for e in seen if e.type is EventType.HEARD]
        assert heard == [IntentName.STOP], heard
        kinds = [e.type for e in seen]
        assert EventType.SPEECH_STOPPED in kinds
        # Reading flows on from section to section: once stopped, no sentence starts again.
        marshal.pump_for(controller, 2.0)
        after = [e.type for e in seen][kinds.index(EventType.SPEECH_STOPPED) :]
        assert EventType.SENTENCE_STARTED not in after, "the reading went on"
