"""Audio in memory: WAV bytes -> 16 kHz mono int16, resampled with numpy alone.

Nothing here writes audio anywhere; callers drop the arrays once decoded.
"""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path
from typing import BinaryIO

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


#: WAV format tags (the first field of the "fmt " chunk) that hold plain samples.
PCM, FLOAT, EXTENSIBLE = 1, 3, 0xFFFE
#: Sample sizes read for each tag; anything else gets a message saying how to save the file.
READABLE_BITS = {PCM: (8, 16, 24, 32), FLOAT: (32, 64)}
#: Compressed encodings some recorders and phones write, named in the message.
COMPRESSED = {2: "ADPCM", 6: "A-law", 7: "mu-law", 0x11: "IMA ADPCM", 0x31: "GSM", 0x55: "MP3"}
SAVE_AS = "save it as 16-bit PCM WAV"


def read_wav(data: bytes, longest_s: float | None = None) -> np.ndarray:
    """A WAV file's bytes as 16 kHz mono int16; AudioError, with the reason, if unusable.

    Any rate and number of channels; integer PCM of 8, 16, 24 or 32 bits or 32/64-bit float,
    including the "extensible" header that recorders write for more than two channels or more
    than 16 bits (Python 3.11's `wave` module refuses that header, so the chunks are read here).
    Audio longer than `longest_s` seconds is refused.
    """
    return _read_wav(io.BytesIO(data), longest_s)


def read_wav_file(path: Path, longest_s: float | None = None) -> np.ndarray:
    """`read_wav` of a file, whose length is checked before its audio is read: an hour-long
    recording is refused without being loaded."""
    with path.open("rb") as file:
        return _read_wav(file, longest_s)


def _read_wav(file: BinaryIO, longest_s: float | None) -> np.ndarray:
    fmt, size = _find_audio(file)
    tag, channels, rate, bits = _wav_format(fmt)
    seconds = size / (channels * bits // 8) / rate
    if longest_s is not None and seconds > longest_s:
        raise AudioError(
            f"{seconds:.0f} s of audio is more than one request (at most {longest_s:g} s); "
            "cut the recording to what was said"
        )
    samples = _wav_samples(file.read(size), tag, channels, bits)
    return to_pcm16(resample(samples, rate))


def _find_audio(file: BinaryIO) -> tuple[bytes, int]:
    """The "fmt " chunk of a RIFF/WAVE file and the byte length of its audio, the file left at
    the start of that audio (a cut-off data chunk counts only the bytes there are)."""
    end = file.seek(0, io.SEEK_END)
    file.seek(0)
    header = file.read(12)
    if not header:
        raise AudioError("the file is empty")
    if len(header) < 12 or header[:4] not in (b"RIFF", b"RF64") or header[8:12] != b"WAVE":
        raise AudioError("not a WAV file (it does not start with a RIFF/WAVE header)")
    fmt = None
    while len(chunk := file.read(8)) == 8:
        name, (size,) = chunk[:4], struct.unpack_from("<I", chunk, 4)
        if name == b"fmt ":
            fmt = file.read(size)
        elif name == b"data":
            if fmt is None:
                break
            return fmt, min(size, end - file.tell())
        else:
            file.seek(size, io.SEEK_CUR)
        # Chunks are padded to an even length.
        file.seek(size & 1, io.SEEK_CUR)
    if fmt is None:
        raise AudioError("not a readable WAV file: it has no format chunk before its audio")
    raise AudioError("not a readable WAV file: it has no audio (data) chunk (cut short?)")


def _wav_format(fmt: bytes) -> tuple[int, int, int, int]:
    """(format tag, channels, rate, bits per sample), checked to be readable."""
    if len(fmt) < 16:
        raise AudioError("not a readable WAV file: its format chunk is cut short")
    tag, channels, rate, _, _, bits = struct.unpack_from("<HHIIHH", fmt)
    if tag == EXTENSIBLE and len(fmt) >= 26:
        # The real encoding is the first two bytes of the sub-format GUID.
        (tag,) = struct.unpack_from("<H", fmt, 24)
    if tag in COMPRESSED:
        name = COMPRESSED[tag]
        raise AudioError(f"this WAV is compressed ({name}) and cannot be read; {SAVE_AS}")
    if tag not in READABLE_BITS:
        raise AudioError(f"this WAV's encoding (format {tag}) cannot be read; {SAVE_AS}")
    if bits not in READABLE_BITS[tag]:
        kind = "float" if tag == FLOAT else "PCM"
        raise AudioError(f"{bits}-bit {kind} WAV cannot be read; {SAVE_AS}")
    if channels < 1 or rate < 4000 or rate > 384_000:
        raise AudioError(f"unsupported WAV format ({channels} channels, {rate} Hz)")
    return tag, channels, rate, bits


def _wav_samples(frames: bytes, tag: int, channels: int, bits: int) -> np.ndarray:
    """Interleaved samples -> mono float64 at int16 scale (channels averaged)."""
    width = bits // 8
    usable = len(frames) - len(frames) % (width * channels)
    raw = frames[:usable]
    if tag == FLOAT:
        values = np.frombuffer(raw, dtype=f"<f{width}").astype(np.float64)
        # A float file may hold NaN or values past full scale; those become silence or clip.
        samples = np.nan_to_num(values, nan=0.0, posinf=1.0, neginf=-1.0) * 32768.0
    elif width == 1:
        samples = (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    elif width == 3:
        triples = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        joined = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
        samples = (joined - ((joined & 0x800000) << 1)).astype(np.float64) / 256.0
    else:
        samples = np.frombuffer(raw, dtype=f"<i{width}").astype(np.float64) / 256 ** (width - 2)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    return samples


def write_wav(samples: np.ndarray, rate: int = RATE) -> bytes:
    """16-bit mono WAV bytes in memory (for tests and tools; never written to disk here)."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(to_pcm16(np.asarray(samples, dtype=np.float64)).tobytes())
    return buffer.getvalue()
