"""Pure conversion of a Matrix text message into the core's `Inbound`, or None to stay silent.

In a direct room (the bot and one resident) every message is for the bot. In a group room the
bot speaks only when it is mentioned (its user id or display name in the text, a pill, or an
`m.mentions` naming it) or commanded (`/aide`, or `!aide`, which clients do not intercept as
their own command), so it never interrupts residents talking among themselves.

Matrix has no buttons every client shows, so suggestions are sent as a numbered list and the
resident answers with the number: `Suggestions` remembers the last list of each room (in
memory, bounded, for an hour) and turns "2" into the second choice's payload.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from bot.messages import Address, Choice, Inbound

CHANNEL = "matrix"
_NUMBER = re.compile(r"^\s*(?:n°|no\.?|#)?\s*(\d{1,2})\s*[.)]?\s*$", re.IGNORECASE)
_BANG_COMMAND = re.compile(r"^!(?=[^\W\d_])")
_LEADING_PUNCTUATION = re.compile(r"^[\s:,;]+")
_PILL = re.compile(r"https://matrix\.to/#/([^\"'<>?\s]+)")


@dataclass(frozen=True, slots=True)
class Message:
    """A text message as the channel read it from a sync (already decrypted, if it was)."""

    room_id: str
    sender: str
    body: str
    content: Mapping[str, Any]
    timestamp_ms: int
    direct: bool  # the room has two members: the bot and the resident


def server_of(user_id: str) -> str:
    """The homeserver part of a Matrix id (`@crieur:morvelay.fr` → `morvelay.fr`)."""
    return user_id.split(":", 1)[1].lower() if ":" in user_id else ""


def invite_allowed(inviter: str, allowed_servers: Iterable[str]) -> bool:
    """Whether an invite from `inviter` is accepted (`*` accepts every server)."""
    allowed = {server.lower() for server in allowed_servers}
    return "*" in allowed or server_of(inviter) in allowed


def is_edit(content: Mapping[str, Any]) -> bool:
    """An edit of an earlier message (`m.replace`): that message was answered already."""
    relation = content.get("m.relates_to")
    return isinstance(relation, Mapping) and relation.get("rel_type") == "m.replace"


def without_reply_fallback(body: str, content: Mapping[str, Any]) -> str:
    """A reply's body without the quoted lines older clients put before it."""
    relation = content.get("m.relates_to")
    if not (isinstance(relation, Mapping) and "m.in_reply_to" in relation):
        return body
    if not body.startswith("> "):
        return body
    lines = body.split("\n")
    index = 0
    while index < len(lines) and lines[index].startswith(">"):
        index += 1
    return "\n".join(lines[index:]).strip()


def _name_pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w@]){re.escape(name)}(?!\w)", re.IGNORECASE)


def _names(bot_id: str, display_names: Iterable[str]) -> list[str]:
    localpart = bot_id.split(":", 1)[0]
    names = [bot_id, localpart]  # "@crieur:morvelay.fr", "@crieur"
    names += [name.strip() for name in display_names if len(name.strip()) >= 2]
    return sorted(set(names), key=len, reverse=True)  # longest first: "Crieur Morvelay"


def mentions(message: Message, bot_id: str, display_names: Iterable[str]) -> bool:
    """Whether the message names the bot: `m.mentions`, a pill, its id or display name."""
    declared = message.content.get("m.mentions")
    if isinstance(declared, Mapping):
        user_ids = declared.get("user_ids")
        if isinstance(user_ids, list) and bot_id in user_ids:
            return True
    formatted = message.content.get("formatted_body")
    if isinstance(formatted, str) and any(
        unquote(found) == bot_id for found in _PILL.findall(formatted)
    ):
        return True
    return any(_name_pattern(name).search(message.body) for name in _names(bot_id, display_names))


def without_mentions(text: str, bot_id: str, display_names: Iterable[str]) -> str:
    """The text without the bot's names, and without the `Crieur :` that led them."""
    for name in _names(bot_id, display_names):
        text = _name_pattern(name).sub(" ", text)
    return _LEADING_PUNCTUATION.sub("", " ".join(text.split()))


def as_command(text: str) -> str:
    """`!aide` → `/aide`: Matrix clients take `/…` as their own commands."""
    return _BANG_COMMAND.sub("/", text.strip(), count=1)


@dataclass(frozen=True, slots=True)
class _Offer:
    sender: str
    payloads: tuple[str, ...]
    at: float


class Suggestions:
    """The last numbered suggestions shown in each room, so "2" can pick the second one.

    Bounded (least recently used rooms are forgotten first) and short-lived: a number typed
    long after the list is read as a question again, not as a stale choice.
    """

    def __init__(
        self,
        limit: int = 10_000,
        ttl: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._offers: OrderedDict[str, _Offer] = OrderedDict()
        self._limit = limit
        self._ttl = ttl
        self._clock = clock

    def __len__(self) -> int:
        return len(self._offers)

    def remember(self, room_id: str, sender: str, choices: tuple[Choice, ...]) -> None:
        """Keep the choices just shown in `room_id` (none: forget the previous list)."""
        self._offers.pop(room_id, None)
        if not choices:
            return
        self._offers[room_id] = _Offer(sender, tuple(c.payload for c in choices), self._clock())
        while len(self._offers) > self._limit:
            self._offers.popitem(last=False)

    def pick(self, room_id: str, sender: str, text: str, any_sender: bool) -> str | None:
        """The payload `text` picks ("2", "n°2", "2."), or None when it picks nothing."""
        found = _NUMBER.match(text)
        offer = self._offers.get(room_id)
        if found is None or offer is None:
            return None
        if self._clock() - offer.at > self._ttl:
            del self._offers[room_id]
            return None
        if not any_sender and sender != offer.sender:
            return None
        number = int(found.group(1))
        if not 1 <= number <= len(offer.payloads):
            return None
        self._offers.move_to_end(room_id)
        return offer.payloads[number - 1]


def to_inbound(
    message: Message,
    bot_id: str,
    display_names: Iterable[str],
    suggestions: Suggestions,
    now: datetime | None = None,
) -> Inbound | None:
    """The resident's message for the core, or None when the bot is not addressed."""
    if message.sender == bot_id or is_edit(message.content):
        return None
    address = Address(CHANNEL, message.room_id)
    received = (
        datetime.fromtimestamp(message.timestamp_ms / 1000, UTC)
        if message.timestamp_ms > 0
        else (now or datetime.now(UTC))
    )
    names = list(display_names)
    body = without_reply_fallback(message.body, message.content)
    text = as_command(without_mentions(body, bot_id, names))
    choice = suggestions.pick(message.room_id, message.sender, text, any_sender=message.direct)
    if choice is not None:
        return Inbound(address, "", received, choice)
    if message.direct or text.startswith("/") or mentions(message, bot_id, names):
        return Inbound(address, text, received)
    return None
