"""What the recogniser heard of spoken development lines, read from data/decoded_dev.jsonl.

The data is generated: regenerate it with `nice .venv/bin/python -m
tests.understanding.make_decoded_dev` (espeak-ng voices en-us+klatt3, en-us+f3, en-us+m3,
en-gb-x-rp+f5 at 150 wpm; a quarter again with pink noise at 10 dB). Texts only, no audio. CLIPS
is the first batch, SECOND a second one (other lines, voices and noise) first used to check that
what was learnt on the first carries over. Each line of the file is one Clip, with its batch:
- kind: command, name, question or chatter; said: the line spoken;
- expected: the command's intent; "topic <topic>" or "section <topic> <section>" for a name; the
  sections whose passage answers a question; "none" for chatter;
- heard, confidence: the unwarped decoder's words and lattice posterior; warped: the same for the
  warped decoders; kiosk: the kiosk's answer when the file was made ("<intent> <topic> <section>").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

DATA = Path(__file__).with_name("data") / "decoded_dev.jsonl"
#: The batches in the file, by the name each row gives.
BATCHES = ("first", "second")


class Clip(NamedTuple):
    kind: str
    said: str
    expected: str
    voice: str
    noisy: bool
    heard: str
    confidence: float
    warped: tuple[tuple[str, float], ...]
    kiosk: str


def clip_row(batch: str, clip: Clip) -> str:
    """One line of the file: the clip as JSON, with its batch."""
    return json.dumps({"batch": batch, **clip._asdict()}, ensure_ascii=False)


def _clip(row: dict[str, Any]) -> Clip:
    return Clip(
        row["kind"], row["said"], row["expected"], row["voice"], bool(row["noisy"]),
        row["heard"], float(row["confidence"]),
        tuple((str(text), float(confidence)) for text, confidence in row["warped"]),
        row["kiosk"],
    )


def load(path: Path = DATA) -> dict[str, tuple[Clip, ...]]:
    """Every batch's clips, in the file's order."""
    found: dict[str, list[Clip]] = {batch: [] for batch in BATCHES}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if row.get("batch") not in found:
                raise ValueError(f"{path}:{number}: unknown batch {row.get('batch')!r}")
            found[row["batch"]].append(_clip(row))
    return {batch: tuple(clips) for batch, clips in found.items()}


_BY_BATCH = load()
CLIPS: tuple[Clip, ...] = _BY_BATCH["first"]
SECOND: tuple[Clip, ...] = _BY_BATCH["second"]
