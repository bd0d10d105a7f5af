"""Crieur's own French word lists: stop-words, abbreviations and SMS spellings, synonyms.

They live in `french.yaml` beside this file so that they can be read and extended without
touching code; a pack's `synonymes.yaml` adds its local words on top.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from types import MappingProxyType

import yaml

from knowledge.text import fold, words

NEAR_WORDS = 4  # how far before a word a `near` neighbour of a reading may stand


@dataclass(frozen=True, slots=True)
class Reading:
    """A word whose sense its neighbours decide (folded): read as `meaning` when the word
    before it is one of `after`, or the word after it one of `before` (and, if `then` is
    given, the next word one of `then`). `near` requires one of the few words before it to
    be one of `near`: alone, that is enough."""

    words: frozenset[str]
    after: frozenset[str]
    before: frozenset[str]
    meaning: str
    then: frozenset[str] = frozenset()
    near: frozenset[str] = frozenset()

    def reads(self, folded_words: list[str], i: int) -> bool:
        """Whether `folded_words[i]` takes this reading's sense."""
        if folded_words[i] not in self.words:
            return False
        if self.near and self.near.isdisjoint(folded_words[max(i - NEAR_WORDS, 0) : i]):
            return False
        if not self.after and not self.before:  # `near` alone decides
            return True
        if i > 0 and folded_words[i - 1] in self.after:
            return True
        if i + 1 >= len(folded_words) or folded_words[i + 1] not in self.before:
            return False
        return not self.then or (i + 2 < len(folded_words) and folded_words[i + 2] in self.then)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Folded word lists used to analyse French questions."""

    stopwords: frozenset[str]
    abbreviations: Mapping[str, tuple[str, ...]]
    synonyms: tuple[tuple[str, ...], ...]
    topics: tuple[str, ...] = ()  # words that name a precise subject (see weights.yaml)
    weak: tuple[str, ...] = ()  # words that qualify a question without being its subject
    readings: tuple[Reading, ...] = ()  # words their neighbours give a sense to


def _parse(data: dict[str, object], weights: dict[str, object] | None = None) -> Lexicon:
    stop = frozenset(word for entry in _strings(data.get("stopwords")) for word in words(entry))
    raw_abbrev = data.get("abbreviations") or {}
    if not isinstance(raw_abbrev, dict):
        raise ValueError("lexicon: 'abbreviations' must be a mapping")
    abbrev = {fold(str(key)): tuple(words(str(value))) for key, value in raw_abbrev.items()}
    raw_groups = data.get("synonyms") or []
    if not isinstance(raw_groups, list):
        raise ValueError("lexicon: 'synonyms' must be a list of lists")
    groups = tuple(tuple(_strings(group)) for group in raw_groups if isinstance(group, list))
    weights = weights or {}
    return Lexicon(
        stop,
        MappingProxyType(abbrev),
        groups,
        tuple(_strings(weights.get("topics"))),
        tuple(_strings(weights.get("weak"))),
        _readings(data.get("readings")),
    )


def _readings(value: object) -> tuple[Reading, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise ValueError("lexicon: 'readings' must be a list of mappings")
    readings = []
    for number, item in enumerate(value, 1):
        if not item.get("words") or not item.get("meaning"):
            raise ValueError(f"lexicon: reading {number} needs 'words' and 'meaning'")
        fields = {
            field: _single_words(item.get(field), number, field)
            for field in ("words", "after", "before", "then", "near")
        }
        readings.append(Reading(meaning=fold(str(item["meaning"])), **fields))
    return tuple(readings)


def _single_words(value: object, number: int, field: str) -> frozenset[str]:
    """The folded words of a reading's field; a reading compares one word at a time, so a
    phrase or a hyphenated word ("chauffe-eau") would never match: it is an error."""
    folded = set()
    for word in value if isinstance(value, list) else []:
        if not isinstance(word, str):  # YAML reads a bare on, off, yes or no as a boolean
            raise ValueError(
                f"lexicon: reading {number}, '{field}': {word!r} is not a word (quote it)"
            )
        if words(word) != [fold(word)]:
            raise ValueError(f"lexicon: reading {number}, '{field}': {word!r} is not a single word")
        folded.add(fold(word))
    return frozenset(folded)


def _strings(value: object) -> list[str]:
    return [str(item) for item in value] if isinstance(value, list) else []


@cache
def builtin_lexicon() -> Lexicon:
    """The lexicon shipped with Crieur (read once; it is immutable)."""
    folder = files("knowledge.lexicon")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    french = yaml.load(folder.joinpath("french.yaml").read_text(encoding="utf-8"), loader) or {}
    weights = yaml.load(folder.joinpath("weights.yaml").read_text(encoding="utf-8"), loader) or {}
    return _parse(french, weights)
