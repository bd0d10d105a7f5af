"""Typo tolerance: maps a word the pack never uses to the closest word it does use."""

from __future__ import annotations

import bisect
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA, Levenshtein

from knowledge.morphology import is_inflection

MEMO_LIMIT = 20_000
MAX_WORD_LENGTH = 30  # beyond, no French word: letters held down or pasted, left as they are
# Infinitives and feminine participles are French words the pack may not use, not slips:
# "livrer" is no "livre", "jouer" no "jour", "entendre" no "éteindre", "cheminée" no "chemin".
REGULAR_ENDINGS = ("er", "ir", "dre", "ee", "ees")
# A word cut short stops mid-stem ("dérog", "appart", "biblio"); one ending like a verb's
# present or a feminine ("pousse", "passes", "tentent") is whole: "pousse" is no "poussette".
WHOLE_WORD_ENDINGS = ("e", "es", "ent")
MIN_VERB_STEM = 5  # the shortest stem by which "j" and a verb's form are told apart
_THIRD_PLURAL = "nt"  # but "déborde" is "débordent", the same verb
_VOWELS = frozenset("aeiouyh")
# Letters French spelling never doubles: "vooter" can only be "voter", while "calculee" is a
# word ("calculée"), as are many with "ss", "tt", "ll"…
_NEVER_DOUBLED = frozenset("aiouyhjkqvwxz")
_ELIDED = frozenset("cdjlmnst")  # c', d', j', l', m', n', s', t'
_LONG_ELISIONS = ("jusqu", "lorsqu", "puisqu", "quoiqu", "qu")
# "d'un", "d'une", "j'en", "s'en", "s'est", "n'est", "j'y"
_SHORT_ELIDED = frozenset({"un", "une", "en", "est", "y"})
_KEYBOARD_ROWS = (
    "azertyuiop", "qsdfghjklm", "wxcvbn",  # AZERTY
    "qwertyuiop", "asdfghjkl", "zxcvbnm",  # QWERTY, on phones too
)  # fmt: skip
# Letters one key apart (same row, or the row below on either side), and letters that stand
# for the same sound in French spelling ("an"/"en", "c"/"k"/"q", "s"/"z", "i"/"y").
_SLIPS = frozenset(
    {(row[i], row[i + 1]) for row in _KEYBOARD_ROWS for i in range(len(row) - 1)}
    | {
        (upper[i + shift], lower[i])
        for upper, lower in (("azertyuiop", "qsdfghjklm"), ("qsdfghjklm", "wxcvbn"),
                             ("qwertyuiop", "asdfghjkl"), ("asdfghjkl", "zxcvbnm"))
        for i in range(len(lower))
        for shift in (0, 1)
        if i + shift < len(upper)
    }
    | {("a", "e"), ("i", "y"), ("c", "k"), ("c", "q"), ("k", "q"), ("c", "s"), ("s", "z"),
       ("m", "n"), ("g", "j")}
)  # fmt: skip


class Speller:
    """Corrects folded words against a known vocabulary.

    Two kinds of slips are undone. Typos: typos rarely touch a word's first letter, and short
    words have too many neighbours to be corrected safely, so only words of five letters or
    more are corrected, to a word with the same first letter, one edit away up to seven
    letters and two beyond, each edit a slip of the finger (see `_slips`). Truncations
    ("dérog", "appart", "biblio"): a word of five letters or more that begins known words
    which all share one stem, and does not end like a whole word ("pousse" is no "poussette",
    but "déborde" is "débordent"), is completed to the most frequent of them. Elisions typed
    without their apostrophe ("lecole", "dun") lose their article or pronoun, and a letter
    French never doubles struck twice or two neighbours swapped are undone in any word of
    five letters or more, stop-words included ("besoiin", "avior"). Results are memoised,
    within a bound (the vocabulary is immutable).
    """

    def __init__(
        self,
        vocabulary: Counter[str],
        stem: Callable[[str], str],
        known: Iterable[str] = (),
        min_length: int = 5,
        shorthands: Iterable[str] = (),
    ) -> None:
        """`known`: words never corrected; `shorthands`: those of them that are SMS forms
        of a word ("aprem"), which may follow an elision typed whole ("laprem")."""
        self._known = frozenset(vocabulary) | frozenset(known)
        self._shorthands = frozenset(shorthands)
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
        self._known_stems: frozenset[str] | None = None  # built the first time it is needed

    def __contains__(self, word: object) -> bool:
        """Whether `word` is known: a word of the pack, a stop-word or a lexicon word."""
        return word in self._known

    def correct(self, word: str) -> str | None:
        """The known word `word` was meant to be, or None (for known words too)."""
        if word in self._known or not word.isalpha() or len(word) > MAX_WORD_LENGTH:
            return None
        if len(word) < 4:  # too short to correct, but an elision typed whole: "dun", "jy"
            return self._unelided(word) if word[0] != "c" else None
        if word in self._memo:
            return self._memo[word]
        result = self._unelided(word) or self._struck_twice_or_swapped(word)
        if (
            result is None
            and len(word) >= self._min_length
            and not is_inflection(word, self._known)  # "refais" is no mistyped "relais"
            and not word.endswith(REGULAR_ENDINGS)
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
        if word[0] == "j" and rest[0] in _VOWELS and self._known_verb(rest):
            return rest  # "jemmenage", "jhabite": j'emménage, j'habite
        if word[0] not in _ELIDED or rest[0] not in _VOWELS:
            return None
        if word[0] == "c":  # c' stands before "est", "était": "couvert" is no "c'ouvert"
            return rest if rest in self._known and rest not in self._counts else None
        if len(rest) >= 3 and (rest in self._counts or rest in self._shorthands):
            return rest
        # "davoir", "jaimerais": a stop-word behind d', j', n', m', t', s' (not l': "lavoir");
        # "dun", "jen": an article or "en", too short to be told apart from other words
        if word[0] != "l" and (len(rest) >= 4 or rest in _SHORT_ELIDED) and rest in self._known:
            return rest
        return None

    def _struck_twice_or_swapped(self, word: str) -> str | None:
        """The known word, stop-words included, that `word` is with a letter French never
        doubles struck twice, or two neighbours swapped: "vooter", "besoiin", "avior". These
        are slips in any word, infinitives too, and can make a stop-word unrecognisable."""
        if len(word) < self._min_length:
            return None
        candidates = [
            word[:i] + word[i + 1 :]  # the letter once
            if word[i] == word[i + 1]
            else word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # the two swapped back
            for i in range(len(word) - 1)
            if word[i] != word[i + 1] or word[i] in _NEVER_DOUBLED
        ]
        return next((c for c in candidates if c in self._counts), None) or next(
            (c for c in candidates if c in self._known), None
        )

    def _known_verb(self, word: str) -> bool:
        """Whether `word` is a form of a known word with a long stem ("emmenage" of
        "emmenager"): long enough not to be a short word's chance neighbour."""
        stem = self._stem(word)
        if len(stem) < MIN_VERB_STEM:
            return False
        if self._known_stems is None:
            self._known_stems = frozenset(
                s for s in map(self._stem, self._known) if len(s) >= MIN_VERB_STEM
            )
        return stem in self._known_stems

    def _edited(self, word: str) -> str | None:
        budget = 1 if len(word) <= 7 else 2
        best: tuple[float, str] | None = None
        for length in range(len(word) - budget, len(word) + budget + 1):
            # closest first, then the most frequent: the first likely slip is the best one
            for known, distance, _ in process.extract(
                word,
                self._by_length.get((word[0], length), ()),
                scorer=OSA.distance,
                score_cutoff=budget,
                limit=None,
            ):
                if best is not None and distance >= best[0]:
                    break
                if _slips(word, known):
                    best = (distance, known)
                    break
        return best[1] if best is not None else None

    def _completed(self, word: str) -> str | None:
        whole = word.endswith(WHOLE_WORD_ENDINGS)
        start = bisect.bisect_left(self._sorted, word)
        candidates = []
        for known in self._sorted[start : start + 50]:
            if not known.startswith(word):
                break
            if len(known) >= len(word) + 2 and (not whole or known == word + _THIRD_PLURAL):
                candidates.append(known)
        if not candidates or len({self._stem(c) for c in candidates}) > 1:
            return None
        return max(candidates, key=lambda c: self._counts[c])

    def correct_all(self, folded_words: Iterable[str]) -> list[str]:
        return [self.correct(w) or w for w in folded_words]


def _slips(typed: str, meant: str) -> bool:
    """Whether `typed` is a likely slip for `meant`: letters swapped or missed, one struck
    twice or beside its neighbour's key, or one struck for a neighbouring key or a letter of
    the same sound. Another letter is more often another word ("cadette" is no "canette",
    "terme" no "terre", "blague" no "bague")."""
    if OSA.distance(typed, meant) < Levenshtein.distance(typed, meant):
        return True  # two letters swapped
    return all(
        _slip(edit.tag, typed, edit.src_pos, meant[edit.dest_pos : edit.dest_pos + 1])
        for edit in Levenshtein.editops(typed, meant)
    )


def _slip(tag: str, typed: str, at: int, meant: str) -> bool:
    """Whether one edit is a slip: a letter missed, one struck for a neighbouring key or a
    letter of the same sound, or one struck twice or beside its neighbour's key. A letter
    added that is neither makes another word: "blague" is no "bague", "crevé" no "créé"."""
    if tag == "insert":
        return True
    letter = typed[at]
    if tag == "replace":
        return (letter, meant) in _SLIPS or (meant, letter) in _SLIPS
    neighbours = typed[max(at - 1, 0) : at] + typed[at + 1 : at + 2]
    return any(
        letter == other or (letter, other) in _SLIPS or (other, letter) in _SLIPS
        for other in neighbours
    )
