"""Memory hand-back for the kiosk's processes (the kiosk's own, Whisper's, Piper's): nothing
else imported.

A transcription or a long sentence needs a few hundred megabytes of scratch memory for a moment;
glibc keeps what was freed unless asked to give it back, and the kiosk's processes together must
stay small on a kiosk PC.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable

#: mallopt parameter number (malloc.h).
_M_MMAP_THRESHOLD = -3


def memory_release() -> Callable[[], None]:
    """glibc's malloc_trim(0) as a function; a no-op where there is no glibc."""
    try:
        trim = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return lambda: None

    def release() -> None:
        trim(0)

    return release


def map_large_blocks(threshold_bytes: int) -> None:
    """Have glibc serve blocks from `threshold_bytes` up with their own mapping, unmapped when
    freed: a process whose big scratch blocks come and go then never keeps them in its heap
    (glibc otherwise raises the threshold as such blocks are freed). A no-op without glibc."""
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, threshold_bytes)
