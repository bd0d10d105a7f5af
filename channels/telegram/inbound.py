"""Pure conversion of a Telegram update into the core's `Inbound`, or None to stay silent.

In a private chat every message is for the bot. In a group the bot speaks only when it is
mentioned (`@crieur_bot …`), commanded (`/aide`, `/aide@crieur_bot`) or replied to, so it
never interrupts residents talking among themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from telegram import Update

from bot.messages import Address, Inbound

CHANNEL = "telegram"


def to_inbound(
    update: Update,
    bot_username: str,
    bot_id: int,
    now: datetime,
    decode: Callable[[str], str] = lambda data: data,
) -> Inbound | None:
    """The resident's message, or None when the bot is not addressed or there is nothing."""
    query = update.callback_query
    if query is not None:
        if query.message is None or query.data is None:
            return None
        address = Address(CHANNEL, str(query.message.chat.id))
        return Inbound(address, "", now, decode(query.data))
    message = update.message
    if message is None:
        return None
    address = Address(CHANNEL, str(message.chat.id))
    received = message.date.astimezone(UTC) if message.date else now
    text = message.text or message.caption or ""
    if message.chat.type == "private":
        return Inbound(address, _without_mention(text, bot_username), received)
    mention = f"@{bot_username}".lower()
    replied = message.reply_to_message
    to_bot = (
        replied is not None and replied.from_user is not None and replied.from_user.id == bot_id
    )
    if text.startswith("/"):
        command = text.split()[0]
        if "@" in command and command.lower().split("@", 1)[1] != bot_username.lower():
            return None  # a command for another bot of the group
        return Inbound(address, _without_mention(text, bot_username), received)
    if mention in text.lower() or to_bot:
        return Inbound(address, _without_mention(text, bot_username), received)
    return None


def _without_mention(text: str, bot_username: str) -> str:
    mention = f"@{bot_username}"
    start = text.lower().find(mention.lower())
    while start >= 0:
        text = text[:start] + text[start + len(mention) :]
        start = text.lower().find(mention.lower())
    return " ".join(text.split())
