"""File habits shared by the caches, the usage figures and the readers of staff-edited files."""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

#: How staff-edited text (content, settings) is decoded: UTF-8, with the byte-order mark that
#: some Windows editors (Notepad among them) write dropped; TOML and the front matter refuse it.
TEXT_ENCODING = "utf-8-sig"


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all: a temporary file beside it, synced, then renamed over
    it, so a crash or a power cut never leaves it half written. Raises OSError."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def check_writable(folder: Path) -> None:
    """Raise OSError unless this process can create and remove files in `folder` (made if
    missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = folder / f".probe-{os.getpid()}-{threading.get_ident()}"
    probe.write_bytes(b"")
    probe.unlink()
