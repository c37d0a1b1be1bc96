"""What the engines report: sentences started and speech finished, the sound and the microphone
lost and back, listening started and stopped, and what the listener heard.

The speaker's reports keep the reading position in step (reading.py) and move a "Read all" on to
the next section; a device lost or back changes the status line. What was heard goes on to
voice.py. Every event is passed on to the UI as it came, except a heard intent (its words).
Call on the controller's thread: the UI marshals the engines' events onto it.
"""

from __future__ import annotations

from kiosk.controller.state import Speech
from kiosk.controller.visit import VisitMixin
from kiosk.controller.voice import VoiceMixin
from kiosk.events import Event, EventType, Heard, Reason, Sentence, event


class EngineEventsMixin(VoiceMixin, VisitMixin):
    """Turns the Speaker's and the Listener's events into state changes and speech."""

    def on_engine_event(self, engine_event: Event) -> None:
        """An event from the Speaker or the Listener (call on the controller's thread)."""
        kind, payload = engine_event.type, engine_event.payload
        if isinstance(payload, Sentence) and kind is EventType.SENTENCE_STARTED:
            self._sentence_started(payload.index, payload.text)
        elif kind is EventType.SPEECH_FINISHED:
            self._speech_finished()
        elif kind is EventType.SPEECH_PAUSED and self._state.speech is Speech.SPEAKING:
            self._set(speech=Speech.PAUSED)
        elif kind is EventType.SOUND_UNAVAILABLE:
            self._set(sound_available=False, speech=Speech.IDLE,
                      status=self.text("status.sound_unavailable"))
            self._emit(EventType.PROMPT, key="status.sound_unavailable", text=self._state.status)
        elif kind is EventType.SOUND_AVAILABLE and not self._state.sound_available:
            self._set(sound_available=True, status=self._mic_status())
            self._say("status.sound_back")
        elif kind is EventType.MICROPHONE_UNAVAILABLE:
            was = self._state.microphone_available
            self._set(microphone_available=False, listening=False)
            self._set(status=self._state.status or self.text("status.microphone_unavailable"))
            if was:
                self._silence()
                self._say("status.microphone_unavailable")
        elif kind is EventType.MICROPHONE_AVAILABLE and not self._state.microphone_available:
            self._set(microphone_available=True)
            if self._state.sound_available:
                self._set(status="")
            self._say("status.microphone_back")
        elif kind is EventType.LISTENING_STARTED:
            self._set(listening=True)
        elif kind is EventType.LISTENING_STOPPED:
            self._set(listening=False)
            if self._state.prompt_key == "prompt.listening":
                self._set(prompt="", prompt_key="")  # it no longer listens: do not say it does
        elif isinstance(payload, Heard):
            self._set(listening=False)
            if payload.intent is not None:
                self._heard(payload.intent)  # which passes HEARD on, without the intent
                return
        elif isinstance(payload, Reason) and kind is EventType.NOT_UNDERSTOOD:
            self._not_heard(payload.reason)
        # Pass engine state on so the UI can redraw (a heard intent returned above: its words
        # never go further).
        self._publish(event(kind) if isinstance(payload, Heard) else engine_event)

    def _mic_status(self) -> str:
        if self._state.microphone_available:
            return ""
        return self.text("status.microphone_unavailable")

    def _sentence_started(self, index: int, text: str) -> None:
        started = self._reading.sentence_started(index, text)
        if started is None:
            return
        kind, position = started
        if kind != "prompt":
            self._visit.listened()
        if position >= 0 and position != self._state.sentence:
            self._set(sentence=position)
            self._emit_position()

    def _speech_finished(self) -> None:
        if self._state.speech is not Speech.SPEAKING:
            return
        utterance = self._reading.finished()
        if utterance is None:
            return
        self._set(speech=Speech.IDLE)
        self.listener.set_deaf(False)
        if utterance.kind == "question" and self._state.microphone_available:
            # The answer is spoken without pressing Talk again.
            self.speaker.earcon("listening")
            self.listener.start_listening()
        if utterance.kind != "section":
            return
        if self._state.reading_all:
            self._step_section(+1)
        else:
            self.speaker.earcon("end_of_section")
            self._say("screen.end_of_section")
