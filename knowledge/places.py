"""Where a resident lives: streets and lieux-dits of the pack, found in free text.

Residents write "rue des lilas", "r. des Lilas", "ruedes lilas" or "aux Lilas"; names are
compared without accents, spaces or hyphens, with typo tolerance (rapidfuzz).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge.text import fold

_TYPES = {
    "r": "rue", "av": "avenue", "ave": "avenue", "bd": "boulevard", "bld": "boulevard",
    "pl": "place", "imp": "impasse", "ch": "chemin", "chem": "chemin", "all": "allee",
    "rte": "route", "lot": "lotissement", "res": "residence", "sq": "square", "fg": "faubourg",
    "qu": "quai", "pass": "passage", "hameau": "hameau",
}  # fmt: skip
_TYPE_WORDS = frozenset({
    "rue", "avenue", "boulevard", "place", "impasse", "chemin", "allee", "route", "lotissement",
    "residence", "square", "faubourg", "quai", "passage", "sentier", "voie", "cours",
    "promenade", "hameau", "lieu", "dit",
})  # fmt: skip
_ARTICLES = frozenset(["de", "du", "des", "d", "la", "le", "les", "l", "aux", "au", "a", "en"])
STREET_SCORE = 88  # out of 100, on the name without spaces
CORE_SCORE = 92  # on the distinctive part alone ("peupliers", "jean moulin")
CORE_MIN_LENGTH = 7  # shorter ones ("poste", "gare") are everyday words


@dataclass(frozen=True, slots=True)
class Place:
    """A street or lieu-dit of the pack and the collection zone it belongs to."""

    name: str
    zone: str


@dataclass(frozen=True, slots=True)
class _Entry:
    place: Place
    full: str  # folded, type expanded, no spaces
    core: str  # distinctive words only, no spaces
    kinds: frozenset[str]  # its type words ("rue", "place"…)


def _normalise(text: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", fold(text).replace(".", " "))
    return [_TYPES.get(word, word) for word in words]


class StreetIndex:
    """Finds which of the pack's streets a message names, and its zone."""

    def __init__(self, places: Iterable[Place]) -> None:
        entries = []
        for place in places:
            words = _normalise(place.name)
            core = [w for w in words if w not in _TYPE_WORDS and w not in _ARTICLES]
            kinds = frozenset(w for w in words if w in _TYPE_WORDS)
            entries.append(_Entry(place, "".join(words), "".join(core), kinds))
        self._entries = tuple(entries)
        # Names too short to compare whole ("rue x") are left out of the first pass, as
        # they would score 0; distinctive parts long enough for the second pass.
        self._fulls = [e.full if len(e.full) >= 6 else None for e in entries]
        self._cores = [e.core if len(e.core) >= CORE_MIN_LENGTH else None for e in entries]

    def find(self, text: str) -> list[Place]:
        """The best-matching places (several when they are equally likely), or []."""
        words = _normalise(text)
        squeezed = "".join(words)
        if not squeezed:
            return []
        # rapidfuzz compares against every name in one call (its loop is in C)
        scores = {
            index: score
            for _, score, index in process.extract(
                squeezed, self._fulls, scorer=fuzz.partial_ratio, limit=None,
                score_cutoff=STREET_SCORE,
            )
        }  # fmt: skip
        for _, core, index in process.extract(
            squeezed, self._cores, scorer=fuzz.partial_ratio, limit=None, score_cutoff=CORE_SCORE
        ):
            if index not in scores:
                scores[index] = core - 3
        said = frozenset(words)
        scored = [
            (score, entry.place)
            for index, score in scores.items()
            for entry in [self._entries[index]]
            if score >= STREET_SCORE and _named(entry, said, squeezed)
        ]
        if not scored:
            return []
        best = max(score for score, _ in scored)
        return sorted({p for s, p in scored if s >= best - 1}, key=lambda p: p.name)


def _named(entry: _Entry, said: frozenset[str], squeezed: str) -> bool:
    """Whether a name that matched is really named: one whose distinctive part is an everyday
    word ("rue de la Poste", "place de la Gare") counts only with its type word or written
    whole, so that "les horaires de la poste" is not about the street."""
    if len(entry.core) >= CORE_MIN_LENGTH or not entry.kinds:
        return True
    return bool(entry.kinds & said) or entry.full in squeezed
