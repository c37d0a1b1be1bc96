"""Shared fixtures: real services started by the tests themselves."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import BUNDLED_CONTENT
from kiosk.library import Library, load_library
from tests.support.pulseaudio import PulseAudioServer

SEED = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "seed"
    / "calcifications-and-second-opinions.txt"
)


@pytest.fixture(scope="session")
def library() -> Library:
    """The bundled English content."""
    return load_library(BUNDLED_CONTENT / "en")


@pytest.fixture(scope="session")
def pulse() -> Iterator[PulseAudioServer]:
    """A private PulseAudio daemon with a null sink and a pipe-source microphone."""
    server = PulseAudioServer().start()
    try:
        yield server
    finally:
        server.stop()
