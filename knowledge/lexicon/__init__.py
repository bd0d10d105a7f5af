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


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Folded word lists used to analyse French questions."""

    stopwords: frozenset[str]
    abbreviations: Mapping[str, tuple[str, ...]]
    synonyms: tuple[tuple[str, ...], ...]
    topics: tuple[str, ...] = ()  # words that name a precise subject (see weights.yaml)
    weak: tuple[str, ...] = ()  # words that qualify a question without being its subject


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
    )


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
