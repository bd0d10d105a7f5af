"""Typo tolerance: maps a word the pack never uses to the closest word it does use."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

from knowledge.morphology import is_inflection

MEMO_LIMIT = 20_000
_VOWELS = frozenset("aeiouyh")
_ELIDED = frozenset("cdjlmnst")  # c', d', j', l', m', n', s', t'
_LONG_ELISIONS = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu")


class Speller:
    """Corrects folded words against a known vocabulary.

    Two kinds of slips are undone. Typos: typos rarely touch a word's first letter, and short
    words have too many neighbours to be corrected safely, so only words of five letters or
    more are corrected, to a word with the same first letter, one edit away up to seven
    letters and two beyond. Truncations ("dérog", "appart", "biblio"): a word of five letters
    or more that begins known words which all share one stem is completed to the most
    frequent of them. Results are memoised, within a bound (the vocabulary is immutable).
    """

    def __init__(
        self,
        vocabulary: Counter[str],
        stem: Callable[[str], str],
        known: Iterable[str] = (),
        min_length: int = 5,
    ) -> None:
        self._known = frozenset(vocabulary) | frozenset(known)
        self._min_length = min_length
        self._stem = stem
        self._counts = vocabulary
        by_length: defaultdict[tuple[str, int], list[str]] = defaultdict(list)
        for word, _count in vocabulary.most_common():
            if len(word) >= min_length - 1 and word.isalpha():
                by_length[word[0], len(word)].append(word)
        self._by_length = dict(by_length)
        self._sorted = sorted(w for w in vocabulary if w.isalpha())
        self._memo: dict[str, str | None] = {}

    def correct(self, word: str) -> str | None:
        """The known word `word` was meant to be, or None (for known words too)."""
        if word in self._known or len(word) < 4 or not word.isalpha():
            return None
        if word in self._memo:
            return self._memo[word]
        result = self._unelided(word)
        if (
            result is None
            and len(word) >= self._min_length
            and not is_inflection(word, self._known)  # "refais" is no mistyped "relais"
        ):
            result = self._edited(word) or self._completed(word)
        if len(self._memo) >= MEMO_LIMIT:
            self._memo.clear()
        self._memo[word] = result
        return result

    def _unelided(self, word: str) -> str | None:
        """The word behind an elision typed without its apostrophe: "lecole" is "l'ecole",
        "jusqua" is "jusqu'a", and in SMS "jfais" is "j'fais". The elided article or pronoun
        is a stop-word, so only the word behind it is kept."""
        for prefix in _LONG_ELISIONS:
            rest = word[len(prefix) :]
            if word.startswith(prefix) and rest[:1] in _VOWELS and rest in self._known:
                return rest
        rest = word[1:]
        if word[0] == "j" and rest[0] not in _VOWELS and rest in self._known:
            return rest
        if word[0] not in _ELIDED or rest[0] not in _VOWELS:
            return None
        if len(rest) >= 3 and rest in self._counts:
            return rest
        # "davoir", "jaimerais": a stop-word behind d', j', n', m', t', s' (not l': "lavoir")
        if word[0] != "l" and len(rest) >= 4 and rest in self._known:
            return rest
        return None

    def _edited(self, word: str) -> str | None:
        budget = 1 if len(word) <= 7 else 2
        best: tuple[float, str] | None = None
        for length in range(len(word) - budget, len(word) + budget + 1):
            found = process.extractOne(
                word,
                self._by_length.get((word[0], length), ()),
                scorer=OSA.distance,
                score_cutoff=budget,
            )
            if found is not None and (best is None or found[1] < best[0]):
                best = (found[1], found[0])
        return best[1] if best is not None else None

    def _completed(self, word: str) -> str | None:
        start = bisect.bisect_left(self._sorted, word)
        candidates = []
        for known in self._sorted[start : start + 50]:
            if not known.startswith(word):
                break
            if len(known) >= len(word) + 2:
                candidates.append(known)
        if not candidates or len({self._stem(c) for c in candidates}) > 1:
            return None
        return max(candidates, key=lambda c: self._counts[c])

    def correct_all(self, folded_words: Iterable[str]) -> list[str]:
        return [self.correct(w) or w for w in folded_words]
