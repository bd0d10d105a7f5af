"""How a homeserver's refusal maps to the outbox's outcomes (pure, so it is tested alone).

Matrix errors carry an `errcode` and the HTTP status; nio turns an unreadable answer (a proxy's
502 page) into an error without errcode. What the outbox must know is only: slow down, stop
writing to this room, give up on this message, or try again later.
"""

from __future__ import annotations

from bot.channel import DeliveryError, RateLimited, RecipientGone, Rejected, TransientError

DEFAULT_RETRY_AFTER = 5.0  # seconds, when M_LIMIT_EXCEEDED does not say
GONE = frozenset({"M_FORBIDDEN", "M_NOT_FOUND"})  # left, kicked, banned, or no such room
LOGIN = frozenset({"M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"})  # the sync loop logs in again


def delivery_error(
    errcode: str | None,
    http_status: int | None,
    message: str = "",
    retry_after_ms: int | None = None,
) -> DeliveryError:
    """The outbox's exception for a failed send to a room."""
    detail = " ".join(part for part in (errcode or "", message, _status(http_status)) if part)
    if errcode == "M_LIMIT_EXCEEDED" or http_status == 429:
        seconds = retry_after_ms / 1000 if retry_after_ms else DEFAULT_RETRY_AFTER
        return RateLimited(seconds, detail)
    if errcode in GONE:
        return RecipientGone(detail)
    if errcode is None or errcode in LOGIN or http_status is None or http_status >= 500:
        return TransientError(detail or "réponse illisible du homeserver")
    return Rejected(detail)


def _status(http_status: int | None) -> str:
    return f"(HTTP {http_status})" if http_status else ""
