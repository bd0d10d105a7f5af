"""What the knowledge layer answers: the reply text, its source, and what to remember."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.places import Place


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A choice offered to the resident: a FAQ entry ("faq:<id>") or a street ("rue:<name>")."""

    label: str
    payload: str


FAQ_CHOICE = "faq:"
STREET_CHOICE = "rue:"


@dataclass(frozen=True, slots=True)
class Reply:
    """What the knowledge says to a question. `source` is None exactly for the fallback.

    `place` is where the resident said they live (to remember for the conversation);
    `awaiting_street` says the reply asks for it, so the next message may be the street.
    """

    text: str
    source: str | None
    score: float
    suggestions: tuple[Suggestion, ...] = ()
    links: tuple[str, ...] = ()
    place: Place | None = None
    awaiting_street: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """What the conversation already knows about the resident."""

    place: Place | None = None
    pending_question: str | None = None  # asked before the bot asked for the street
