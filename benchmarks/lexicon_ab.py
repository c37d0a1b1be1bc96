"""Does a lexicon `ipa` entry help Piper be understood? Each entry against the lexicon as it is.

Run: .venv/bin/python benchmarks/lexicon_ab.py [--texts FILE] [--times 1] WORD=IPA [WORD=IPA ...]

For each WORD=IPA, every content text with WORD (a sentence or title) is rendered by Piper at the
kiosk's default rate `--times` times with the bundled lexicon and as many with WORD's `ipa` set
to IPA (or unset, with WORD=), uncached, and heard by benchmarks/intelligibility.py's listener
(Moonshine base-en). Printed for both: words wrong, domain words heard, meaning-changing errors,
and how often WORD itself was heard, with what the listener wrote when it was not. Piper says a
text the same way every time (kiosk.piper_worker.NOISE_SCALE), so one rendering is enough.

With `--texts FILE` (benchmarks/data/lexicon_dev.txt) the texts are development sentences
instead of the content's: an entry tried there and then checked once on the content has not
been tuned on the sentences the intelligibility benchmark reads.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.intelligibility import (  # noqa: E402
    Listener,
    Score,
    content_texts,
    domain_words,
    normalise,
    to_listener_rate,
)
from kiosk.config import BUNDLED_CONTENT, Settings  # noqa: E402
from kiosk.content_parser import load_library  # noqa: E402
from kiosk.library import LexiconEntry  # noqa: E402
from kiosk.speech.piper import PiperSynthesizer, find_voice  # noqa: E402
from kiosk.speech.render import Renderer  # noqa: E402


def with_ipa(lexicon: Mapping[str, LexiconEntry], word: str, ipa: str) -> dict[str, LexiconEntry]:
    """The lexicon with `word`'s ipa set to `ipa` ("" takes it away)."""
    changed = dict(lexicon)
    entry = changed.get(word) or LexiconEntry(word, None, None, 0, None)
    changed[word] = dataclasses.replace(entry, ipa=ipa or None)
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("entries", nargs="+", metavar="WORD=IPA")
    parser.add_argument("--times", type=int, default=1, help="renderings of each text")
    parser.add_argument("--texts", type=Path, help="one text per line instead of the content's")
    args = parser.parse_args()
    library = load_library(BUNDLED_CONTENT / "en")
    texts, domain = content_texts(library), domain_words(library)
    if args.texts:
        lines = args.texts.read_text(encoding="utf-8").splitlines()
        texts = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    rate = Settings().rate_wpm
    synth = PiperSynthesizer(Path(tempfile.mkdtemp(prefix="kiosk-lexicon-ab-")), find_voice(""))
    listener = Listener()
    try:
        for item in args.entries:
            word, _, ipa = item.partition("=")
            word = word.lower()
            chosen = [text for text in texts if word in normalise(text)]
            print(f"== {word} = {ipa!r}: {len(chosen)} texts x {args.times}")
            for label, lexicon in (("as bundled", library.lexicon),
                                   ("with entry", with_ipa(library.lexicon, word, ipa))):
                renderer = Renderer(synth, None, lexicon, "")
                score = Score(label, rate)
                for text in chosen * args.times:
                    rendering = renderer.render(text, rate)
                    score.add(text, listener.transcribe(
                        to_listener_rate(rendering.pcm, rendering.rate)), domain | {word})
                said = sum(normalise(text).count(word) for text in chosen) * args.times
                print(f"  {label}: words wrong {score.errors}/{score.words}, domain words "
                      f"{score.domain_heard}/{score.domain}, {word} {said - score.missed[word]}"
                      f"/{said}, meaning-changing errors {len(score.changes)}")
                for change, text, heard in score.changes:
                    print(f"    {change}: {text!r} -> {heard!r}")
                for missed, text, heard in score.misheard:
                    if missed == word:
                        print(f"    missed: {text!r} -> {heard!r}")
            sys.stdout.flush()
    finally:
        listener.close()
        synth.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
