"""`kiosk recognize` reads the WAV, AIFF, FLAC and Ogg files other tools write, or says how to
save them.

The files are made by sox (installed by `make test`), so the headers are a real tool's, not ours:
sox writes the "extensible" header for more than two channels or more than 16 bits, which
Python 3.11's `wave` module refuses.
"""

from __future__ import annotations

import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kiosk.listening.audio import AudioError, read_audio_file, read_wav, read_wav_file, write_wav
from tests.support.speech_fixtures import hour_long_wav

pytestmark = pytest.mark.skipif(
    subprocess.run(["which", "sox"], capture_output=True).returncode != 0,
    reason="sox is installed by `make test`",
)


@pytest.fixture(scope="module")
def tone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Half a second of a 440 Hz tone at half scale, 16-bit mono at 16 kHz (a WAV file)."""
    t = np.arange(8000) / 16_000
    path = tmp_path_factory.mktemp("wav") / "tone.wav"
    path.write_bytes(write_wav(16384 * np.sin(2 * np.pi * 440 * t)))
    return path


def converted_file(source: Path, *options: str, suffix: str = ".wav") -> Path:
    """The source re-written by sox with the given output options (the suffix names the format)."""
    target = source.with_name(f"out{abs(hash((options, suffix)))}{suffix}")
    subprocess.run(["sox", str(source), *options, str(target)], check=True)
    return target


def converted(source: Path, *options: str) -> bytes:
    """The source re-written by sox with the given output options, as WAV bytes."""
    return converted_file(source, *options).read_bytes()


@pytest.mark.parametrize(
    ("options", "header_tag"),
    [
        (("-b", "8"), 1),
        (("-b", "24"), 0xFFFE),
        (("-b", "32"), 0xFFFE),
        (("-e", "floating-point", "-b", "32"), 3),
        (("-e", "floating-point", "-b", "64"), 3),
        (("-c", "2", "-r", "44100"), 1),
        (("-c", "3"), 0xFFFE),
        (("-c", "2", "-b", "24", "-r", "48000"), 0xFFFE),
    ],
)
def test_other_encodings_read_as_the_same_sound(
    tone: Path, options: tuple[str, ...], header_tag: int
) -> None:
    data = converted(tone, *options)
    # The header really is the kind this case is about (sox chose it, not this test).
    assert struct.unpack_from("<H", data, 20)[0] == header_tag
    reference = read_wav(tone.read_bytes()).astype(np.float64)
    read = read_wav(data)
    assert read.dtype == np.int16 and abs(read.size - reference.size) <= 1
    samples = read.astype(np.float64)
    samples, reference = samples[: reference.size], reference[: samples.size]
    # Same level and same wave; 8-bit's dithered quantisation noise (-39 dB here) is allowed for.
    level = np.sqrt(np.mean(samples**2)) / np.sqrt(np.mean(reference**2))
    assert 0.98 < level < 1.02
    error = np.sqrt(np.mean((samples[100:-100] - reference[100:-100]) ** 2))
    assert error < 0.02 * np.sqrt(np.mean(reference**2))


def _same_sound(read: np.ndarray, reference: np.ndarray) -> None:
    """The same level and the same wave (to within 2%), give or take a sample of length."""
    assert read.dtype == np.int16 and abs(read.size - reference.size) <= 1
    samples = read.astype(np.float64)[: reference.size]
    reference = reference.astype(np.float64)[: samples.size]
    level = np.sqrt(np.mean(samples**2)) / np.sqrt(np.mean(reference**2))
    assert 0.98 < level < 1.02
    error = np.sqrt(np.mean((samples[100:-100] - reference[100:-100]) ** 2))
    assert error < 0.02 * np.sqrt(np.mean(reference**2))


@pytest.mark.parametrize(
    ("suffix", "options"),
    [
        (".wav", ()),
        (".flac", ()),
        (".aiff", ()),
        (".wav", ("-c", "2", "-r", "44100")),
        (".flac", ("-c", "2", "-r", "48000", "-b", "24")),
        (".aiff", ("-c", "2", "-b", "8")),
        # What Python's `wave` refuses.
        (".wav", ("-b", "24")),
        (".wav", ("-e", "floating-point", "-b", "32")),
        (".wav", ("-c", "3")),
        # Refused by the kiosk's former reader; libsndfile reads them (lossy, but within 2%).
        (".wav", ("-e", "mu-law")),
        (".wav", ("-e", "a-law")),
        (".aiff", ("-c", "3")),
        (".ogg", ()),
        (".ogg", ("-c", "2", "-r", "44100")),
    ],
)
def test_audio_files_read_as_the_same_sound(
    tone: Path, suffix: str, options: tuple[str, ...]
) -> None:
    # Stereo at the level of mono: SpeechRecognition's own mix-down would double it.
    read = read_audio_file(converted_file(tone, *options, suffix=suffix), longest_s=30)
    _same_sound(read, read_wav(tone.read_bytes()))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tone: b"", "the file is empty"),
        (lambda tone: b"ID3\x03" + bytes(200), "not a WAV, AIFF or FLAC file"),
        (lambda tone: b"hello, this is text\n" * 10, "not a WAV, AIFF or FLAC file"),
        (lambda tone: b"RIFF\x00\x00not a wave", "not a WAV file"),
        (lambda tone: tone.read_bytes()[:30], "no audio (data) chunk"),
        (lambda tone: converted_file(tone, suffix=".flac").read_bytes()[:60],
         "FLAC file cannot be read"),
        (lambda tone: b"fLaC" + bytes(100), "FLAC file cannot be read"),
        (lambda tone: converted_file(tone, suffix=".aiff").read_bytes()[:40],
         "AIFF file cannot be read"),
    ],
)
def test_unreadable_audio_files_say_why(
    tone: Path, tmp_path: Path, make: Callable[[Path], bytes], message: str
) -> None:
    bad = tmp_path / "bad.audio"
    bad.write_bytes(make(tone))
    with pytest.raises(AudioError) as raised:
        read_audio_file(bad, longest_s=30)
    assert message in str(raised.value)


def test_a_long_flac_is_refused_before_it_is_decoded(tmp_path: Path) -> None:
    flac = tmp_path / "hour.flac"
    subprocess.run(["sox", "-n", "-r", "16000", "-b", "16", str(flac), "trim", "0", "3600"],
                   check=True)
    with pytest.raises(AudioError, match="3600 s of audio is more than one request"):
        read_audio_file(flac, longest_s=30)
    with pytest.raises(AudioError, match="3600 s of audio is more than one request"):
        read_audio_file(hour_long_wav(tmp_path / "hour.wav"), longest_s=30)


def test_a_lossless_float_copy_reads_back_sample_for_sample(tone: Path) -> None:
    float_copy = converted(tone, "-e", "floating-point", "-b", "32")
    assert np.array_equal(read_wav(float_copy), read_wav(tone.read_bytes()))


def cut_format(wav: bytes) -> bytes:
    """The same file with its format chunk declared (and cut) 10 bytes long."""
    return wav[:16] + struct.pack("<I", 10) + wav[20:30] + wav[36:]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tone: b"", "empty"),
        (lambda tone: b"ID3\x03" + bytes(200), "not a WAV file"),
        (lambda tone: cut_format(tone.read_bytes()), "format chunk is cut short"),
        (lambda tone: tone.read_bytes()[:30], "no audio (data) chunk"),
        (lambda tone: tone.read_bytes()[:36], "no audio (data) chunk"),
    ],
)
def test_unreadable_files_say_why_and_how_to_save_them(
    tone: Path, make: Callable[[Path], bytes], message: str
) -> None:
    with pytest.raises(AudioError) as raised:
        read_wav(make(tone))
    assert message in str(raised.value)
    if "cannot be read" in str(raised.value):
        assert "save it as 16-bit PCM WAV" in str(raised.value)


def test_a_recording_longer_than_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match="3600 s of audio is more than one request"):
        read_wav_file(hour_long_wav(tmp_path / "hour.wav"), longest_s=30)
    # Half a second passes a one-second limit, is refused by a shorter one, and reads from the
    # file as from its bytes.
    tone = tmp_path / "tone.wav"
    tone.write_bytes(write_wav(np.full(8000, 1000.0)))
    assert np.array_equal(read_wav_file(tone, longest_s=1), read_wav(tone.read_bytes()))
    with pytest.raises(AudioError, match=r"at most 0\.25 s"):
        read_wav(tone.read_bytes(), longest_s=0.25)


def test_a_data_chunk_cut_short_reads_what_is_there(tone: Path) -> None:
    whole = tone.read_bytes()
    assert read_wav(whole[: 44 + 2000]).size == 1000


def test_float_samples_past_full_scale_or_not_numbers_clip_or_fall_silent() -> None:
    values = np.array([0.5, 2.0, -3.0, np.nan, np.inf, -np.inf] * 400, dtype="<f4")
    fmt = struct.pack("<HHIIHH", 3, 1, 16_000, 64_000, 4, 32)
    body = values.tobytes()
    data = (
        b"RIFF" + struct.pack("<I", 4 + 8 + len(fmt) + 8 + len(body)) + b"WAVE"
        + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", len(body)) + body
    )
    samples = read_wav(data)
    assert samples.dtype == np.int16 and samples.size == values.size
    assert samples.max() == 32767 and samples.min() == -32768
