"""Audio in memory: WAV, AIFF or FLAC files -> 16 kHz mono int16.

Nothing here writes audio anywhere; callers drop the arrays once decoded.
"""

from __future__ import annotations

import io
import struct
import wave
from pathlib import Path
from typing import BinaryIO

import numpy as np
import speech_recognition as sr

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


def read_audio_file(path: Path, longest_s: float | None = None) -> np.ndarray:
    """A WAV, AIFF or FLAC file as 16 kHz mono int16, read by SpeechRecognition's `AudioFile`
    (stereo mixed down, other rates and widths converted); AudioError, with the reason, if not.

    The WAVs that Python's `wave` module refuses (float, the "extensible" header, compressed)
    go to `read_wav_file`, which reads them or says why it cannot. Audio longer than
    `longest_s` seconds is refused from its header, before it is decoded.
    """
    with path.open("rb") as file:
        head = file.read(42)
    if not head:
        raise AudioError("the file is empty")
    _check_length(_flac_seconds(head), longest_s)  # AudioFile decodes a FLAC whole to open it
    try:
        with sr.AudioFile(str(path)) as source:
            seconds = source.DURATION
            fits = longest_s is None or seconds <= longest_s
            audio = _mono(source) if fits else None
    # The file itself opened above, so whatever fails here is its content (ValueError, or an
    # AssertionError for more than two channels) or the FLAC decoder (OSError).
    except Exception as error:
        if head[:4] in (b"RIFF", b"RF64"):
            return read_wav_file(path, longest_s)
        kind = {b"FORM": "AIFF", b"fLaC": "FLAC"}.get(head[:4])
        if kind is None:
            raise AudioError(f"not a WAV, AIFF or FLAC file; {SAVE_AS}") from None
        known = isinstance(error, (AssertionError, OSError))
        reason = str(error).lower() if known else "damaged or cut short"
        raise AudioError(f"this {kind} file cannot be read ({reason}); {SAVE_AS}") from None
    _check_length(seconds, longest_s)
    assert audio is not None
    pcm = audio.get_raw_data(convert_rate=RATE, convert_width=2)
    if not pcm:
        raise AudioError("the file holds no audio (cut short?)")
    return np.frombuffer(pcm, dtype="<i2").copy()


def _mono(source: sr.AudioFile) -> sr.AudioData:
    """An open `AudioFile`'s audio as one channel of `AudioData`.

    Read from its reader rather than its stream, to put two things right: the stream adds a
    stereo file's channels (doubling the level of a voice recorded on both, and clipping loud
    speech), where they are averaged here; and `AudioData` takes 8-bit samples to be unsigned, as
    WAV's are, where AIFF's (and so FLAC's, decoded to AIFF) are signed.
    """
    reader = source.audio_reader
    width, rate, channels = reader.getsampwidth(), reader.getframerate(), reader.getnchannels()
    frames = np.frombuffer(reader.readframes(reader.getnframes()), np.uint8)
    if not source.little_endian:  # AIFF
        frames = frames.reshape(-1, width)[:, ::-1].ravel()
        if width == 1:
            frames = frames ^ np.uint8(0x80)
    audio = sr.AudioData(frames.tobytes(), rate, width)
    if channels == 1:
        return audio
    # Each sample made 16-bit by SpeechRecognition (any width), then each frame's two averaged.
    pairs = np.frombuffer(audio.get_raw_data(convert_width=2), "<i2")
    mono = pairs.reshape(-1, 2).astype(np.int32).sum(axis=1) // 2
    return sr.AudioData(mono.astype("<i2").tobytes(), rate, 2)


def _flac_seconds(head: bytes) -> float | None:
    """A FLAC file's length from its STREAMINFO block; None if not FLAC or not stated."""
    if len(head) < 26 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return None
    # After 10 bytes of block and frame sizes: 20 bits of rate, 8 of channels and bits per
    # sample, then 36 bits of sample count (0: unknown).
    (packed,) = struct.unpack_from(">Q", head, 18)
    rate, samples = packed >> 44, packed & (1 << 36) - 1
    return samples / rate if rate and samples else None


def _check_length(seconds: float | None, longest_s: float | None) -> None:
    if seconds is not None and longest_s is not None and seconds > longest_s:
        raise AudioError(
            f"{seconds:.0f} s of audio is more than one request (at most {longest_s:g} s); "
            "cut the recording to what was said"
        )


def _read_wav(file: BinaryIO, longest_s: float | None) -> np.ndarray:
    fmt, size = _find_audio(file)
    tag, channels, rate, bits = _wav_format(fmt)
    _check_length(size / (channels * bits // 8) / rate, longest_s)
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
