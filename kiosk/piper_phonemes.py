"""Piper's phonemes for a text with phoneme blocks, the words around a block said in context.

The lexicon gives Piper a word it says badly as a block of espeak-ng IPA, `[[ipa|word]]`: Piper's
own `[[ipa]]` syntax with the written word after a bar (`phoneme_block`). piper-tts 1.8 splits a
text at its blocks and phonemizes each stretch between them on its own, so the stretch before a
block ends as if it ended a sentence: "Most are a" comes out "mˈoʊst ɑːɹ ˈeɪ", the letter name,
where the whole sentence has the article "ɐ", and "be" before a block a stressed "bˈiː".

Here the whole text is phonemized at once by espeak-ng, as Piper does (the voice's espeak voice
and vowel clusters), with each block's word in its place; then the phonemes espeak-ng gave that
word are found (the word phonemized alone, compared without stress marks, which espeak-ng moves
in context) and the block's phonemes put in their place. Everything else is what espeak-ng says
for the sentence as written. A word that cannot be found (none of the lexicon's) keeps espeak-ng's
phonemes, so a visitor hears the sentence either way. A block without a word (Piper's bare
`[[ipa]]`, which the kiosk no longer writes) stands in with "thing", or "item" before a vowel.

Imports nothing of the kiosk, and piper-tts only when a phonemizer is built (the worker's process).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

#: Part of the natural voice's cache key: a new one when this module, or the worker's way of
#: saying its phonemes (kiosk.piper_worker: firm_onset, the sampling noise), says a text
#: differently.
PHONEMIZER = "context1-onset1-noise0"
#: A phoneme block: Piper's [[ ]] with, in the kiosk's, "|word" at its end.
BLOCK = re.compile(r"\[\[(.*?)\]\]")
#: Between a block's phonemes and the written word it stands for.
WORD_MARK = "|"
#: Stress marks: espeak-ng moves and demotes them in a sentence ("mˈækɹək" alone, "mˌækɹək" in
#: one), so a word is looked for without them.
STRESS = frozenset("ˈˌ")
#: Where a word ends in espeak-ng's output (a clause's punctuation ends it too).
WORD_ENDS = frozenset(" ,;:.!?")
#: What espeak-ng adds to a word's end before a vowel ("nˈuːɚɹ ˈɪmɪdʒᵻz", "bˈiːʲ ɐ").
LINKING = frozenset("ʲɹ")
#: espeak-ng's vowels, for a bare block's stand-in word.
VOWELS = frozenset("aeiouæɐɑɒɔəɚɛɜɝɪʊʌᵻ")
STAND_INS = ("thing", "item")


def phoneme_block(ipa: str, word: str) -> str:
    """The text Piper's worker reads for `word`, said as `ipa` (espeak-ng's IPA)."""
    return f"[[{ipa.strip()}{WORD_MARK}{word}]]"


def read_block(inside: str) -> tuple[list[str], str]:
    """A block's phonemes (as Piper takes them: its characters) and its word (or a stand-in)."""
    ipa, mark, word = inside.rpartition(WORD_MARK)
    if not mark:
        ipa, word = inside, ""
    phonemes = list(ipa.strip())
    if not word.strip():
        first = next((p for p in phonemes if p not in STRESS), "")
        word = STAND_INS[first in VOWELS]
    return phonemes, word.strip()


def plain_text(text: str) -> tuple[str, list[tuple[list[str], str, int]]]:
    """`text` with each block's written word in its place, and the blocks: (phonemes, word,
    how many times the word is written before it, the block's own and earlier blocks too)."""
    parts: list[str] = []
    blocks: list[tuple[list[str], str, int]] = []
    cursor = 0
    for match in BLOCK.finditer(text):
        phonemes, word = read_block(match.group(1))
        parts.append(text[cursor:match.start()])
        written = re.compile(rf"(?<![\w'’-]){re.escape(word)}(?![\w'’-])", re.IGNORECASE)
        blocks.append((phonemes, word, len(written.findall("".join(parts)))))
        parts.append(word)
        cursor = match.end()
    parts.append(text[cursor:])
    return "".join(parts), blocks


@dataclass
class Sentence:
    """One sentence's phonemes for the model, and where its blocks' phonemes lie: (start, end)."""

    phonemes: list[str]
    blocks: list[tuple[int, int]] = field(default_factory=list)


class ContextPhonemizer:
    """espeak-ng's phonemes for a whole text, blocks swapped in for their words."""

    def __init__(self, voice: Any) -> None:
        from piper.config import PhonemeType
        from piper.phonemize_espeak import EspeakPhonemizer

        self._voice = voice
        self._espeak_voice = voice.config.espeak_voice
        self._clusters = voice.config.vowel_clusters
        # A voice that is not phonemized by espeak-ng cannot read espeak-ng's IPA.
        self._espeak = (EspeakPhonemizer(voice.espeak_data_dir)
                        if voice.config.phoneme_type == PhonemeType.ESPEAK else None)

    def _phonemize(self, text: str) -> list[list[str]]:
        if self._espeak is None:
            return [list(s) for s in self._voice.phonemize(text)]
        return self._espeak.phonemize(self._espeak_voice, text, vowel_clusters=self._clusters)

    def sentences(self, text: str) -> list[Sentence]:
        """The text's sentences, each block's phonemes in place of its word's."""
        plain, blocks = plain_text(text)
        sentences = [Sentence(s) for s in self._phonemize(plain) if s]
        if self._espeak is None:
            return sentences
        # The last block first: a swapped word is no longer found, so earlier ones count right.
        for phonemes, word, before in reversed(blocks):
            found = find_word(sentences, self._word_phonemes(word), before)
            if found is None:
                continue  # said as espeak-ng says it, in its sentence
            index, start, end = found
            sentence = sentences[index]
            sentence.phonemes[start:end] = phonemes
            shift = len(phonemes) - (end - start)
            sentence.blocks = [(a + shift, b + shift) if a >= end else (a, b)
                               for a, b in sentence.blocks]
            sentence.blocks.append((start, start + len(phonemes)))
            sentence.blocks.sort()
        return sentences

    def _word_phonemes(self, word: str) -> list[str]:
        alone = [p for s in self._phonemize(word) for p in s]
        return [p for p in alone if p not in STRESS and p not in WORD_ENDS]


def find_word(sentences: Sequence[Sentence], word: Sequence[str],
              skip: int = 0) -> tuple[int, int, int] | None:
    """Where `word` (phonemes without stress marks) is said as a whole word in `sentences`, the
    first `skip` times left out: (sentence, start, end), its stress marks included; or None.

    A whole word stands between spaces, a clause's punctuation or the sentence's ends (a
    linking "ʲ" or "ɹ" after it allowed): "calcifications" is not found in "microcalcifications".
    """
    if not word:
        return None
    for index, sentence in enumerate(sentences):
        phonemes = sentence.phonemes
        view = [(i, p) for i, p in enumerate(phonemes) if p not in STRESS]
        letters = [p for _, p in view]
        for at in range(len(view) - len(word) + 1):
            if letters[at:at + len(word)] != list(word):
                continue
            start, end = view[at][0], view[at + len(word) - 1][0] + 1
            while start > 0 and phonemes[start - 1] in STRESS:
                start -= 1
            after = phonemes[end:end + 2]
            if after[:1] and after[0] in LINKING:
                after = after[1:]
            if ((start == 0 or phonemes[start - 1] in WORD_ENDS)
                    and (not after or after[0] in WORD_ENDS)):
                if not skip:
                    return index, start, end
                skip -= 1
    return None
