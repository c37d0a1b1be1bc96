"""Fixtures shared by the speech tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kiosk.speech.piper import PiperSynthesizer, find_voice


@pytest.fixture(scope="module")
def piper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PiperSynthesizer]:
    """One Piper worker for a test module: it loads a 63 MB model."""
    synth = PiperSynthesizer(tmp_path_factory.mktemp("piper-scratch"), find_voice(""))
    try:
        yield synth
    finally:
        synth.close()
    assert list(synth.scratch_dir.iterdir()) == []  # no audio left behind
