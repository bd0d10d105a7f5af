"""A resident's question, read once: folded text, terms, the date meant, the street named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from knowledge.dates import When, normalise
from knowledge.places import Place

_CLAUSE = re.compile(r"[^.;!?]*[.;!?]*")


@dataclass(frozen=True, slots=True)
class Question:
    """Everything the dated answers need to know about one message."""

    text: str
    folded: str  # " word word " without accents, hyphens as spaces
    terms: dict[str, float]
    now: datetime  # in the commune's timezone
    when: When | None
    places: tuple[Place, ...]

    @property
    def today(self) -> date:
        return self.now.date()

    def says(self, pattern: str) -> bool:
        """Whether the folded text contains `pattern` (a regex) as whole words."""
        return re.search(r" (?:" + pattern + r") ", self.folded) is not None

    def asks(self, pattern: str) -> bool:
        """Whether `pattern` is in what the message asks: a clause ending with a question
        mark, or the last one ("la mairie est fermée vendredi ; je peux déposer mon
        dossier ?" does not ask whether the mairie is open)."""
        clauses = [c for c in _CLAUSE.findall(self.text) if c.strip(" .;!?")]
        asked = [c for c in clauses if c.rstrip().endswith("?")] + clauses[-1:]
        folded = " " + " ".join(normalise(" ".join(asked)).replace("'", " ").split()) + " "
        return re.search(r" (?:" + pattern + r") ", folded) is not None
