"""Pure reading of WhatsApp Cloud API webhooks: residents' messages and delivery statuses.

A webhook body may carry several entries, changes, messages and statuses; anything not for
this phone number, or of a shape the API does not document, is skipped rather than failing
the whole delivery.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.messages import Address, Inbound

CHANNEL = "whatsapp"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A resident's message: the core's Inbound, and WhatsApp's id to mark it read."""

    message_id: str
    inbound: Inbound


@dataclass(frozen=True, slots=True)
class Status:
    """What WhatsApp says about a message the bot sent."""

    message_id: str
    status: str  # sent | delivered | read | failed
    recipient: str
    error: str | None
    at: datetime


def read_webhook(
    payload: Any, phone_number_id: str, now: datetime
) -> tuple[list[Incoming], list[Status]]:
    """The messages and statuses of a webhook body addressed to `phone_number_id`."""
    incoming: list[Incoming] = []
    statuses: list[Status] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return incoming, statuses
    for entry in _list(payload.get("entry")):
        for change in _list(entry.get("changes") if isinstance(entry, dict) else None):
            value = change.get("value") if isinstance(change, dict) else None
            if not isinstance(value, dict) or change.get("field") != "messages":
                continue
            metadata = value.get("metadata")
            if not isinstance(metadata, dict) or metadata.get("phone_number_id") != phone_number_id:
                continue
            messages = (_message(item, now) for item in _list(value.get("messages")))
            incoming += [message for message in messages if message is not None]
            states = (_status(item, now) for item in _list(value.get("statuses")))
            statuses += [state for state in states if state is not None]
    return incoming, statuses


def _message(message: Any, now: datetime) -> Incoming | None:
    if not isinstance(message, dict):
        return None
    sender, message_id = message.get("from"), message.get("id")
    if not isinstance(sender, str) or not isinstance(message_id, str) or not sender.isdigit():
        return None
    at = _time(message.get("timestamp"), now)
    address = Address(CHANNEL, sender)
    kind = message.get("type")
    text, choice = "", None
    if kind == "text":
        text = _get(message, "text", "body")
    elif kind == "interactive":
        reply = message.get("interactive")
        chosen = None
        if isinstance(reply, dict):
            chosen = reply.get("button_reply") or reply.get("list_reply")
        choice = chosen.get("id") if isinstance(chosen, dict) else None
    elif kind == "button":  # a template's quick-reply button
        text = _get(message, "button", "text")
    payload = choice if isinstance(choice, str) else None
    return Incoming(message_id, Inbound(address, text, at, payload))


def _status(status: Any, now: datetime) -> Status | None:
    if not isinstance(status, dict):
        return None
    message_id, state = status.get("id"), status.get("status")
    if not isinstance(message_id, str) or not isinstance(state, str):
        return None
    errors = [e for e in _list(status.get("errors")) if isinstance(e, dict)]
    error = f"{errors[0].get('code')}: {errors[0].get('title', '')}"[:500] if errors else None
    recipient = status.get("recipient_id")
    return Status(message_id, state[:16], recipient if isinstance(recipient, str) else "",
                  error, _time(status.get("timestamp"), now))  # fmt: skip


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _get(message: dict[str, Any], key: str, field: str) -> str:
    part = message.get(key)
    value = part.get(field) if isinstance(part, dict) else None
    return value if isinstance(value, str) else ""


def _time(value: Any, now: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return now
