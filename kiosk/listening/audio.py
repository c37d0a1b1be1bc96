"""Audio in memory: WAV, AIFF, FLAC or Ogg (Vorbis, Opus) files -> 16 kHz mono int16.

Files are decoded by libsndfile (the `soundfile` package, whose wheel bundles it: any WAV
encoding it knows, A-law, mu-law and ADPCM included, any rate and number of channels) and
resampled by FFT (see `resample`). Nothing here writes audio anywhere; callers drop the arrays
once decoded.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np
import soundfile

RATE = 16_000


class AudioError(ValueError):
    """Audio that cannot be decoded; `code` is stable for tools."""

    code = "audio"


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Float samples at `rate` -> float samples at `target` (band-limited, by FFT).

    Cutting the spectrum at the new Nyquist frequency is the ideal anti-aliasing filter; a
    cheaper interpolating resampler measurably hurt recognition of synthetic speech here.
    libsoxr (`soxr`, which the player uses) was tried in its place: its "HQ" filter is flat to
    7.4 kHz and stops at 8 kHz, and with it 200 of the 284 clips of
    tests/listening/test_recognition.py came out right instead of 210, below four of its
    per-intent floors. A whole recording (at most 30 s) fits one FFT: 1-3 ms for 3 s here.
    """
    data = samples.astype(np.float64)
    if rate == target or data.size == 0:
        return data
    length = max(1, round(data.size * target / rate))
    spectrum = np.fft.rfft(data)
    bins = length // 2 + 1
    if bins <= spectrum.size:
        spectrum = spectrum[:bins]
    else:
        spectrum = np.concatenate([spectrum, np.zeros(bins - spectrum.size, dtype=complex)])
    return np.fft.irfft(spectrum, n=length) * (length / data.size)


def to_pcm16(samples: np.ndarray) -> np.ndarray:
    """Float samples (int16 scale) -> int16, clipped."""
    return np.clip(np.round(samples), -32768, 32767).astype(np.int16)


SAVE_AS = "save it as 16-bit PCM WAV"
#: The kinds of file read, by their first four bytes, and the libsndfile formats each may open as
#: (MP3, which libsndfile also reads, is left out: its decoder prints its own complaints about a
#: damaged file straight to the process's stderr).
KINDS = {b"RIFF": "WAV", b"RF64": "WAV", b"FORM": "AIFF", b"fLaC": "FLAC", b"OggS": "Ogg"}
FORMATS = {"WAV": {"WAV", "WAVEX", "RF64"}, "AIFF": {"AIFF"}, "FLAC": {"FLAC"}, "Ogg": {"OGG"}}
NOT_AUDIO = f"not a WAV, AIFF or FLAC file, nor Ogg Vorbis or Opus; {SAVE_AS}"
#: What libsndfile gives as the length of a file whose header does not say (SF_COUNT_MAX).
UNKNOWN_LENGTH = 2**63 - 1
NOT_WAV = "not a WAV file (it does not start with a RIFF/WAVE header)"
#: Samples decoded at a time (two seconds of 16 kHz mono; fewer frames of many channels).
BLOCK_SAMPLES = 32_000
#: libsndfile's words for the commonest damage to a WAV, said plainly.
PLAIN_REASONS = {
    "No 'data' chunk": "it has no audio (data) chunk (cut short?)",
    "Short 'fmt ' chunk": "its format chunk is cut short",
}


def read_wav(data: bytes, longest_s: float | None = None) -> np.ndarray:
    """A WAV file's bytes as 16 kHz mono int16; AudioError, with the reason, if unusable.

    Any rate and number of channels (averaged) and any encoding libsndfile reads. Audio longer
    than `longest_s` seconds is refused.
    """
    return _read(io.BytesIO(data), longest_s, ("WAV",))


def read_wav_file(path: Path, longest_s: float | None = None) -> np.ndarray:
    """`read_wav` of a file, whose length is checked before its audio is read: an hour-long
    recording is refused without being loaded."""
    with path.open("rb") as file:
        return _read(file, longest_s, ("WAV",))


def read_audio_file(path: Path, longest_s: float | None = None) -> np.ndarray:
    """A WAV, AIFF, FLAC or Ogg (Vorbis or Opus) file as 16 kHz mono int16: channels averaged,
    other rates resampled; AudioError, with the reason, if not. OSError if it cannot be opened.

    Audio longer than `longest_s` seconds is refused from its header, before it is decoded.
    """
    with path.open("rb") as file:
        return _read(file, longest_s, tuple(FORMATS))


def _read(file: BinaryIO, longest_s: float | None, kinds: tuple[str, ...]) -> np.ndarray:
    """Decode an open file of one of `kinds` (see KINDS) to 16 kHz mono int16."""
    head = file.read(12)
    file.seek(0)
    if not head:
        raise AudioError("the file is empty")
    kind = KINDS.get(head[:4])
    if kind not in kinds:
        raise AudioError(NOT_WAV if kinds == ("WAV",) else NOT_AUDIO)
    if kind == "WAV" and head[8:12] != b"WAVE":
        raise AudioError(NOT_WAV)
    try:
        with soundfile.SoundFile(file) as sound:
            rate, channels = sound.samplerate, sound.channels
            if sound.format not in FORMATS[kind]:
                raise AudioError(NOT_WAV if kinds == ("WAV",) else NOT_AUDIO)
            if channels < 1 or not 4000 <= rate <= 384_000:
                raise AudioError(f"unsupported {kind} format ({channels} channels, {rate} Hz)")
            if sound.frames != UNKNOWN_LENGTH:
                _check_length(sound.frames / rate, longest_s)
            mono = _decode(sound, longest_s)
    # libsndfile's errors are RuntimeErrors; soundfile raises ValueError or TypeError for a
    # header it cannot make sense of.
    except (RuntimeError, TypeError, ValueError) as error:
        if isinstance(error, AudioError):
            raise
        raise AudioError(_why(kind, error)) from None
    if mono.size == 0:
        raise AudioError("the file holds no audio (cut short?)")
    # A float file may hold NaN or values past full scale; those become silence or clip.
    samples = np.nan_to_num(mono, nan=0.0, posinf=1.0, neginf=-1.0) * 32768.0
    return to_pcm16(resample(samples, rate))


def _decode(sound: soundfile.SoundFile, longest_s: float | None) -> np.ndarray:
    """An open file's audio as mono float64 (channels averaged), decoded a block at a time: a
    header may not give the length (a streamed FLAC does not), and nothing much past the limit
    is decoded, nor more than a block of many channels held."""
    unknown_length = sound.frames == UNKNOWN_LENGTH
    blocks: list[np.ndarray] = []
    decoded = 0
    while True:
        block = np.full((max(1, BLOCK_SAMPLES // sound.channels), sound.channels),
                        np.nan if unknown_length else 0.0)
        try:
            block = sound.read(out=block)
        except RuntimeError:
            if not unknown_length:
                raise
            # libsndfile decodes the frames of a file of unknown length, then fails to seek past
            # them: keep what it decoded (a FLAC's integers never decode to NaN).
            missing = np.isnan(block[:, 0])
            if missing.any():
                block = block[: int(np.argmax(missing))]
        if not block.shape[0]:
            break
        blocks.append(block[:, 0] if sound.channels == 1 else block.mean(axis=1))
        decoded += block.shape[0]
        _check_length(decoded / sound.samplerate, longest_s)
    return np.concatenate(blocks) if blocks else np.zeros(0)


def _why(kind: str, error: Exception) -> str:
    """The message for a file of `kind` that libsndfile could not decode."""
    said = str(getattr(error, "error_string", error)).strip().rstrip(".")
    reason = next((plain for words, plain in PLAIN_REASONS.items() if words in said), None)
    if reason is None:
        reason = f"damaged or cut short ({said[:1].lower()}{said[1:]})" if said else "damaged"
    return f"this {kind} file cannot be read: {reason}; {SAVE_AS}"


def _check_length(seconds: float | None, longest_s: float | None) -> None:
    if seconds is not None and longest_s is not None and seconds > longest_s:
        raise AudioError(
            f"{seconds:.0f} s of audio is more than one request (at most {longest_s:g} s); "
            "cut the recording to what was said"
        )


def write_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV bytes in memory (for tests and tools; never written to disk here)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(to_pcm16(np.asarray(samples, dtype=np.float64)).tobytes())
    return buffer.getvalue()
