"""A small trigram language model (ARPA text) built at start-up from the kiosk's own phrases.

Absolute discounting with back-off: seen n-grams keep most of their mass, the rest backs off to the
shorter history, so phrasings never seen as a whole ("could you go back a bit") stay possible.

Libraries considered: KenLM's estimator (`lmplz`) is a C++ program built with cmake and Boost
(the `kenlm` package is its query side only), counts whole lines where these phrases carry
weights, and refuses Kneser-Ney discounts on a few hundred phrases without `--discount_fallback`;
NLTK's `nltk.lm` estimates in Python but writes no ARPA file.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable

START, END = "<s>", "</s>"
DISCOUNT = 0.5
ORDER = 3


def _log(p: float) -> float:
    return math.log10(max(p, 1e-99))


def build_arpa(sentences: Iterable[tuple[tuple[str, ...], float]]) -> str:
    """ARPA text for weighted word sequences: ((word, ...), weight)."""
    counts: list[dict[tuple[str, ...], float]] = [defaultdict(float) for _ in range(ORDER + 1)]
    for words, weight in sentences:
        if not words:
            continue
        padded = (START, *words, END)
        for n in range(1, ORDER + 1):
            for i in range(len(padded) - n + 1):
                gram = padded[i : i + n]
                if n == 1 and gram == (START,):
                    continue
                counts[n][gram] += weight
    vocabulary = sorted({g[0] for g in counts[1]} | {START})
    total = sum(counts[1].values())
    size = len(vocabulary)
    # Unigrams: add-half smoothing, so every word of the vocabulary stays reachable.
    uni = {w: (counts[1].get((w,), 0.0) + 0.5) / (total + 0.5 * (size - 1)) for w in vocabulary}
    uni[START] = 0.0
    probs: list[dict[tuple[str, ...], float]] = [{}, {(w,): p for w, p in uni.items()}]
    backoff: list[dict[tuple[str, ...], float]] = [{} for _ in range(ORDER + 1)]

    def lower(gram: tuple[str, ...]) -> float:
        """P(w | shorter history) from the already-built lower orders, with back-off."""
        if len(gram) == 1:
            return uni[gram[0]]
        if gram in probs[len(gram)]:
            return probs[len(gram)][gram]
        return backoff[len(gram) - 1].get(gram[:-1], 1.0) * lower(gram[1:])

    for n in range(2, ORDER + 1):
        by_history: dict[tuple[str, ...], dict[str, float]] = defaultdict(dict)
        for gram, count in counts[n].items():
            by_history[gram[:-1]][gram[-1]] = count
        table: dict[tuple[str, ...], float] = {}
        for history, followers in by_history.items():
            seen_total = sum(followers.values())
            for word, count in followers.items():
                table[(*history, word)] = max(count - DISCOUNT, 0.01) / seen_total
        probs.append(table)
        for history, followers in by_history.items():
            kept = sum(table[(*history, w)] for w in followers)
            lower_kept = sum(lower((*history[1:], w)) for w in followers)
            backoff[n - 1][history] = max(1.0 - kept, 1e-6) / max(1.0 - lower_kept, 1e-6)

    lines = ["\\data\\"]
    lines += [f"ngram {n}={len(probs[n])}" for n in range(1, ORDER + 1)]
    for n in range(1, ORDER + 1):
        lines += ["", f"\\{n}-grams:"]
        for gram in sorted(probs[n]):
            p = -99.0 if gram == (START,) else _log(probs[n][gram])
            entry = f"{p:.4f}\t{' '.join(gram)}"
            if n < ORDER:
                entry += f"\t{_log(backoff[n].get(gram, 1.0)):.4f}"
            lines.append(entry)
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
