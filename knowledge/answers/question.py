"""A resident's question, read once: folded text, terms, the date meant, the street named."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from knowledge.dates import When
from knowledge.places import Place


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
