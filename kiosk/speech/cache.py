"""The audio cache: rendered sentences on disk, keyed by text + voice + rate + lexicon.

Each entry is one file `<key[:2]>/<key>.kpcm`: a fixed header (magic, format version, sample
rate, sample count, word count, CRC-32 of the rest) then word marks then 16-bit PCM. Entries are
written to a temporary file beside their final name and renamed into place, so a crash leaves
either the old entry or none. A short, damaged or mismatched entry fails its check on reading, is
deleted and rendered again. The folder is kept under a size bound by dropping the entries used
least recently (a hit refreshes the file's modification time).

Only content and interface text belongs here (the Speaker decides what is cacheable); the
`scratch/<pid>` folder holds the synthesiser's short-lived output files.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
import struct
import threading
import zlib
from pathlib import Path

import numpy as np

from kiosk.files import check_writable, write_atomically
from kiosk.speech.synth import LEAD_IN_S, Rendering, WordMark

log = logging.getLogger(__name__)

MAGIC = b"KPCM"
FORMAT_VERSION = 1
_HEADER = struct.Struct("<4sHIIII")  # magic, version, rate, samples, words, crc32
_WORD = struct.Struct("<III")  # char start, char end, sample
SUFFIX = ".kpcm"


class CorruptEntry(Exception):
    """A cache file failed its checks."""


def cache_key(*, text: str, voice: str, rate_wpm: int, lexicon: str, synthesizer: str) -> str:
    """The key of one rendering: every input that changes the audio."""
    # The lead-in kept before the first sound is part of the audio: a change renders again.
    material = "\x1f".join((str(FORMAT_VERSION), synthesizer, voice, str(rate_wpm), lexicon,
                            f"lead-in {LEAD_IN_S:g}", text))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def encode(rendering: Rendering) -> bytes:
    """One entry's bytes."""
    words = b"".join(_WORD.pack(w.start, w.end, w.sample) for w in rendering.words)
    pcm = rendering.pcm.astype("<i2").tobytes()
    crc = zlib.crc32(pcm, zlib.crc32(words))
    header = _HEADER.pack(
        MAGIC, FORMAT_VERSION, rendering.rate, len(rendering.pcm), len(rendering.words), crc
    )
    return header + words + pcm


def decode(data: bytes) -> Rendering:
    """Parse and check one entry; raise CorruptEntry if anything is off."""
    if len(data) < _HEADER.size:
        raise CorruptEntry("shorter than its header")
    magic, version, rate, samples, count, crc = _HEADER.unpack_from(data)
    if magic != MAGIC or version != FORMAT_VERSION:
        raise CorruptEntry("not a cache entry of this version")
    words_end = _HEADER.size + count * _WORD.size
    if len(data) != words_end + samples * 2 or not 1_000 <= rate <= 192_000:
        raise CorruptEntry("truncated or wrong length")
    body = memoryview(data)[_HEADER.size:]
    if zlib.crc32(body) != crc:
        raise CorruptEntry("checksum mismatch")
    words = tuple(
        WordMark(*_WORD.unpack_from(data, _HEADER.size + i * _WORD.size)) for i in range(count)
    )
    pcm = np.frombuffer(data, dtype="<i2", offset=words_end).astype(np.int16)
    return Rendering(pcm, int(rate), words)


class AudioCache:
    """A bounded folder of renderings. Safe to use from several threads."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.scratch = self.root / "scratch" / str(os.getpid())
        #: Why the configured folder is not in use, when this cache is a temporary stand-in.
        self.stand_in_for = ""
        self._lock = threading.Lock()
        self._total: int | None = None
        self._clean_scratch()

    def check_writable(self) -> None:
        """Raise OSError unless this process can create and remove files in the cache."""
        check_writable(self.scratch)

    def _clean_scratch(self) -> None:
        """Remove scratch folders left by processes that have ended (a crash mid-synthesis)."""
        for folder in self.scratch.parent.glob("*"):
            if folder == self.scratch:
                continue
            try:
                os.kill(int(folder.name), 0)
            except ValueError:
                pass
            except ProcessLookupError:
                shutil.rmtree(folder, ignore_errors=True)
            except PermissionError:
                pass  # another user's live process

    def path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}{SUFFIX}"

    def get(self, key: str) -> Rendering | None:
        """The entry, or None if missing; a corrupt entry is deleted and reported as missing."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as error:
            log.warning("speech cache: cannot read %s: %s", path, error)
            return None
        try:
            rendering = decode(data)
        except CorruptEntry as error:
            log.warning("speech cache: %s is damaged (%s); rendering it again", path.name, error)
            self._remove(path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # most recently used
        return rendering

    def contains(self, key: str) -> bool:
        return self.path(key).is_file()

    def put(self, key: str, rendering: Rendering) -> None:
        """Store an entry atomically, then keep the folder within its bound."""
        path = self.path(key)
        data = encode(rendering)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(path, data)
        except OSError as error:
            log.warning("speech cache: cannot write %s: %s", path, error)
            return
        with self._lock:
            if self._total is not None:
                self._total += len(data)
        self._enforce_bound()

    def _entries(self) -> list[tuple[float, int, Path]]:
        entries = []
        for path in self.root.glob(f"??/*{SUFFIX}"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                entries.append((stat.st_mtime, stat.st_size, path))
        return entries

    def size_bytes(self) -> int:
        """Bytes held by all entries."""
        return sum(size for _, size, _ in self._entries())

    def _enforce_bound(self) -> None:
        with self._lock:
            if self._total is None:
                self._total = self.size_bytes()
            if self._total <= self.max_bytes:
                return
            entries = sorted(self._entries())
            total = sum(size for _, size, _ in entries)
            # Drop down to 90% so the scan does not repeat on every write.
            for _, size, path in entries:
                if total <= self.max_bytes * 0.9:
                    break
                self._remove(path)
                total -= size
            self._total = total

    def _remove(self, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink()

    def clear(self) -> None:
        """Delete every entry."""
        with self._lock:
            for _, _, path in self._entries():
                self._remove(path)
            self._total = 0
