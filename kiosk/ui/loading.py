"""Shown for the moment content and engines load (off the UI thread): nothing to do yet."""

from __future__ import annotations

from pathlib import Path

from kivy.lang import Builder
from kivy.uix.screenmanager import Screen


class LoadingScreen(Screen):  # type: ignore[misc]
    """A plain page; the welcome screen replaces it as soon as content is ready."""


Builder.load_file(str(Path(__file__).with_suffix(".kv")))
