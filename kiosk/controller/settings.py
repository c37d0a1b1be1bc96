"""The visitor's settings: speech rate and volume, text size and contrast, and the Adjust panel
that shows them with their values.

Each change is made, told to the UI (SETTINGS_CHANGED) and confirmed aloud, unless content is
being read: then the reading itself carries a new rate or volume, and a new text size or
contrast is only shown.
"""

from __future__ import annotations

from kiosk.controller.core import ControllerCore
from kiosk.controller.state import Screen, Speech


class SettingsMixin(ControllerCore):
    """Slower, faster, quieter, louder, text size and high contrast."""

    def _reading_content(self) -> bool:
        """True while content (not just an interface line) is being spoken or is paused."""
        return self._state.speech is not Speech.IDLE and not self._reading.speaking_a_prompt

    def _confirm(self, key: str) -> None:
        """Say the new setting, unless reading is going on (which then carries it)."""
        if not self._reading_content():
            self._silence()
            self._say(key)

    def _change_rate(self, step: int) -> None:
        settings = self.settings
        rate = self._state.rate_wpm + step * settings.rate_step_wpm
        rate = max(settings.rate_min_wpm, min(settings.rate_max_wpm, rate))
        if rate == self._state.rate_wpm:
            self._silence()
            self._say("prompt.at_fastest" if step > 0 else "prompt.at_slowest")
            return
        self._set(rate_wpm=rate)
        self.speaker.set_rate(rate)
        self._settings_changed()
        self._confirm("button.faster" if step > 0 else "button.slower")

    def _change_volume(self, step: int) -> None:
        settings = self.settings
        volume = self._state.volume_db + step * settings.volume_step_db
        volume = max(settings.volume_min_db, min(0.0, volume))
        if volume == self._state.volume_db:
            self._silence()
            self._say("prompt.at_loudest" if step > 0 else "prompt.at_quietest")
            return
        self._set(volume_db=volume)
        self.speaker.set_volume(volume)
        self._settings_changed()
        self._confirm("button.louder" if step > 0 else "button.quieter")

    def _text_size(self) -> None:
        steps = self.settings.text_scale_steps
        step = (self._state.text_step + 1) % (steps + 1)
        self._set(text_step=step, text_scale=1.0 + step / steps)
        self._settings_changed()
        self._confirm_line("prompt.text_size", step=step + 1, steps=steps + 1)

    def _contrast(self) -> None:
        on = not self._state.high_contrast
        self._set(high_contrast=on)
        self._settings_changed()
        self._confirm_line("prompt.high_contrast_on" if on else "prompt.high_contrast_off")

    def _confirm_line(self, key: str, **values: object) -> None:
        if not self._reading_content():
            self._silence()
            self._say(key, **values)
        else:
            self._show(key, **values)

    # ----- the Adjust panel -------------------------------------------------------------

    def adjust_values(self) -> tuple[str, str, str, str]:
        """Speed, volume, text size and contrast as the panel shows them ("Speed: normal",
        "Volume: 7 of 9", ...)."""
        state, settings, t = self._state, self.settings, self.text
        steps = round((state.rate_wpm - settings.rate_wpm) / settings.rate_step_wpm)
        if steps == 0:
            speed = t("adjust.speed_normal")
        else:
            speed = t("adjust.speed_faster" if steps > 0 else "adjust.speed_slower",
                      steps=abs(steps))
        levels = round(-settings.volume_min_db / settings.volume_step_db) + 1
        level = round((state.volume_db - settings.volume_min_db) / settings.volume_step_db) + 1
        sizes = settings.text_scale_steps + 1
        return (
            t("adjust.speed", value=speed),
            t("adjust.volume", step=level, steps=levels),
            t("adjust.text_size", step=state.text_step + 1, steps=sizes),
            t("adjust.contrast_high" if state.high_contrast else "adjust.contrast_standard"),
        )

    def _adjust(self) -> None:
        """Open the Adjust panel and say what it holds, or close it. Reading stops while the
        panel is open (a visitor who cannot see it must hear what it holds, and each change is
        then confirmed at its new speed and volume) and goes on from the same sentence when
        the panel closes."""
        opening = not self._state.adjusting
        self._set(adjusting=opening, focus=None)  # the first Down goes to the first control
        self._settings_changed()
        if opening:
            self._resume_after_adjusting = self._reading_content()
            self._silence()
            self._say("adjust.title", *self.adjust_values())
        elif self._resume_after_adjusting and self._state.screen is Screen.READER:
            self._resume_after_adjusting = False
            self._silence()
            self._read_section(self._state.sentence, intro=False)
        else:
            self._confirm("button.done")
