"""French text folding and word splitting shared by the matcher and the pack loader."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "‘": "'", "`": "'"})
_WORD = re.compile(r"[a-z0-9]+")
# One question is folded by each of its readers (the core, the matcher, the dates, the
# streets): the last texts folded are remembered. Bounded in count and in text length.
FOLD_CACHE_SIZE = 256
FOLD_CACHE_MAX_CHARS = 1_000


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    if not text.isascii():  # keep letters of other scripts, drop only the accents
        text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.split())


_fold_recent = lru_cache(maxsize=FOLD_CACHE_SIZE)(_fold)


def fold(text: str) -> str:
    """Lower-case, no accents nor ligatures, spaces collapsed: "Œuvre  Été" -> "oeuvre ete"."""
    if len(text) > FOLD_CACHE_MAX_CHARS:
        return _fold(text)
    return _fold_recent(text)


def words(text: str) -> list[str]:
    """Folded words; elisions (l', d', qu', j'…) and hyphens split words apart."""
    return _WORD.findall(fold(text))
