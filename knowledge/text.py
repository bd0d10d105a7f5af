"""French text folding and word splitting shared by the matcher and the pack loader."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss", "’": "'", "‘": "'", "`": "'"})
_WORD = re.compile(r"[a-z0-9]+")


def fold(text: str) -> str:
    """Lower-case, no accents nor ligatures, spaces collapsed: "Œuvre  Été" -> "oeuvre ete"."""
    text = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    if not text.isascii():  # keep letters of other scripts, drop only the accents
        text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.split())


def words(text: str) -> list[str]:
    """Folded words; elisions (l', d', qu', j'…) and hyphens split words apart."""
    return _WORD.findall(fold(text))
