"""One guard for PortAudio, which the speaker's output and the listener's input share.

PortAudio lists devices once, when it starts; seeing a device that appeared later means
terminating and initialising it again, which invalidates every stream open in the process (seen
here: the speaker's stream cut off, and sometimes a crash inside `Pa_Terminate`). So streams are
opened under one lock and registered, and a re-scan happens only while no stream is open.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

_lock = threading.RLock()
_open_streams = 0



class _Stream(Protocol):
    def start(self) -> None: ...

    def close(self) -> None: ...


T = TypeVar("T", bound=_Stream)


def open_stream(create: Callable[[], T]) -> T:
    """Create a stream with `create` and start it, under the lock; count it as open."""
    global _open_streams
    with _lock:
        stream = create()
        try:
            stream.start()
        except Exception:
            with contextlib.suppress(Exception):
                stream.close()
            raise
        _open_streams += 1
        return stream


def close_stream(stream: Any) -> None:
    """Abort and close a stream opened by open_stream; errors of a dead device are ignored."""
    global _open_streams
    with _lock:
        # A stream on a vanished device can fail to stop or close; it is gone either way.
        with contextlib.suppress(Exception):
            stream.abort()
        with contextlib.suppress(Exception):
            stream.close()
        _open_streams = max(0, _open_streams - 1)


def rescan_devices() -> bool:
    """Make PortAudio list devices afresh, unless a stream is open; True if it did."""
    import sounddevice as sd

    with _lock:
        if _open_streams:
            return False
        sd._terminate()
        sd._initialize()
        return True
