"""One prerendered speech cache for a test session.

A kiosk started with an empty cache renders all of its content in the background (`kiosk
prerender`'s work: about 70 s of both cores with the natural voice). Tests that start several
real kiosks give each a copy of one cache, rendered once, so that background work does not load
the machine under the checks (audio underruns, late sounds). Tests about the cache itself keep
an empty one.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

#: Where the kiosk keeps its speech cache under its cache folder (kiosk.speech.render).
SPEECH = "speech"


def prerender(cache_dir: Path) -> Path:
    """Run the real `kiosk prerender` into `cache_dir`; returns `cache_dir`."""
    env = {**os.environ, "KIOSK_CACHE_DIR": str(cache_dir)}
    done = subprocess.run([str(Path(sys.executable).with_name("kiosk")), "prerender"],
                          env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"kiosk prerender failed:\n{done.stderr[-2000:]}")
    return cache_dir


def seed(cache_dir: Path, prerendered: Path) -> None:
    """Give a kiosk's cache folder a copy of the prerendered speech."""
    shutil.copytree(prerendered / SPEECH, Path(cache_dir) / SPEECH)
