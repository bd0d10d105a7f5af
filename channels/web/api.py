"""Pure conversions between the web chat's JSON and the core's types."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.messages import Address, Answer, Inbound

CHANNEL = "web"
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
MAX_TEXT_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class RequestError(Exception):
    """A request the API refuses, with the French message returned to the client."""

    message: str


def to_inbound(payload: Any, now: datetime) -> Inbound:
    """Validate a decoded `POST /api/chat` body and build the Inbound message."""
    if not isinstance(payload, dict):
        raise RequestError("Le corps de la requête doit être un objet JSON.")
    session, text, choice = payload.get("session"), payload.get("text"), payload.get("choice")
    if not isinstance(session, str) or not _SESSION.match(session):
        raise RequestError(
            'Le champ "session" est manquant ou invalide (1 à 128 caractères A-Z, 0-9, - ou _).'
        )
    if choice is not None and (not isinstance(choice, str) or len(choice) > 200):
        raise RequestError('Le champ "choice" doit être un texte court.')
    if text is None and choice is None:
        raise RequestError('Le champ "text" est manquant.')
    if text is not None and not isinstance(text, str):
        raise RequestError('Le champ "text" doit être un texte.')
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise RequestError(f'Le champ "text" dépasse {MAX_TEXT_CHARS} caractères.')
    return Inbound(Address(CHANNEL, session), text or "", now, choice)


def render(answer: Answer) -> dict[str, Any]:
    """The JSON body returned for an answer."""
    return {
        "text": answer.text,
        "entry": answer.source,
        "suggestions": [{"label": c.label, "payload": c.payload} for c in answer.choices],
        "links": list(answer.links),
    }
