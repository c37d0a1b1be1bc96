"""Shared fixtures: real services started by the tests themselves."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.config import BUNDLED_CONTENT
from kiosk.content_parser import load_library
from kiosk.library import Library
from tests.support.pulseaudio import PulseAudioServer
from tests.support.speech_cache import prerender

# The kiosk keeps its usage figures under $XDG_STATE_HOME: every test, and every kiosk a test
# starts, writes them to a folder of this run's, not to the home folder.
_STATE_HOME = tempfile.mkdtemp(prefix="kiosk-test-state-")
os.environ["XDG_STATE_HOME"] = _STATE_HOME
atexit.register(shutil.rmtree, _STATE_HOME, ignore_errors=True)

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


@pytest.fixture(scope="session")
def prerendered_speech(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A cache folder holding every content text rendered by `kiosk prerender` (once a session;
    copy it with tests.support.speech_cache.seed)."""
    return prerender(tmp_path_factory.mktemp("prerendered"))

