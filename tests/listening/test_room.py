"""The kiosk in a room: its own loudspeaker leaks into its microphone, as it will on site.

Real parts throughout: the real Speaker plays into the PulseAudio null sink, a loopback carries
that sound into a "room" sink at about -13 dB, and the real Listener hears the room's monitor
as its default microphone (tests/support/pulseaudio.py, `room`). A visitor's voice is played into
the same room.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kiosk.config import Settings
from kiosk.controller import Controller
from kiosk.events import EventType
from kiosk.intents import Intent, IntentName
from kiosk.library import Library
from kiosk.listening import create_listener
from kiosk.speech import create_speaker
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


def test_own_voice_in_the_microphone_never_makes_the_kiosk_act(
    pulse: PulseAudioServer, library: Library, tmp_path: Path
) -> None:
    settings = replace(Settings(), cache_dir=tmp_path, rate_wpm=200)
    marshal = Marshal()
    seen = marshal.seen
    with pulse.room(ECHO_VOLUME_PERCENT):
        controller = Controller(settings, library)
        speaker = create_speaker(settings, library, marshal)
        listener = create_listener(settings, library, marshal)
        try:
            assert speaker.output.wait_ready(15)  # type: ignore[attr-defined]
            controller.attach(speaker, listener)
            section = library.section("calcifications", "benign-or-cancer")
            controller.handle(
                Intent(IntentName.SECTION, topic="calcifications", section=section.id)
            )
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
        finally:
            listener.close()
            speaker.close()
