"""Audio in memory: WAV bytes -> 16 kHz mono int16, resampled with numpy alone.

Nothing here writes audio anywhere; callers drop the arrays once decoded.
"""

from __future__ import annotations

import io
import wave

import numpy as np

RATE = 16_000


class AudioError(ValueError):
    """Audio that cannot be decoded; `code` is stable for tools."""

    code = "audio"


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Float samples at `rate` -> float samples at `target` (band-limited, by FFT).

    Cutting the spectrum at the new Nyquist frequency is the ideal anti-aliasing filter; a
    cheaper interpolating resampler measurably hurt recognition of synthetic speech here.
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


def read_wav(data: bytes) -> np.ndarray:
    """A 16-bit PCM WAV (any rate, any channels) as 16 kHz mono int16; AudioError if unusable."""
    try:
        with wave.open(io.BytesIO(data), "rb") as wav:
            channels = wav.getnchannels()
            width = wav.getsampwidth()
            rate = wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, ValueError) as error:
        raise AudioError(f"not a readable WAV file: {error}") from None
    if width != 2:
        raise AudioError(f"only 16-bit PCM WAV is supported, not {8 * width}-bit")
    if channels < 1 or rate < 4000 or rate > 384_000:
        raise AudioError(f"unsupported WAV format ({channels} channels, {rate} Hz)")
    usable = len(frames) - len(frames) % (2 * channels)
    samples = np.frombuffer(frames[:usable], dtype="<i2").astype(np.float64)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return to_pcm16(resample(samples, rate))


def write_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV bytes in memory (for tests and tools; never written to disk here)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(to_pcm16(np.asarray(samples, dtype=np.float64)).tobytes())
    return buffer.getvalue()
