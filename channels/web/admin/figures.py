"""Subscriber figures for the dashboard, counted by the database (one query each).

Why here rather than in `bot.subscriptions`: only the back-office needs them, and they
read the tables without changing anything.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, func, select

from bot.store import Store
from bot.store.schema import subscribers, subscriptions

CHANNEL_LABELS = {
    "telegram": "Telegram",
    "web": "Chat web",
    "webpush": "Notifications du navigateur",
    "sms": "SMS",
    "inprocess": "Essai (interne)",
}


def channel_label(name: str) -> str:
    return CHANNEL_LABELS.get(name, name)


async def subscribers_by_topic(store: Store) -> list[tuple[str, int]]:
    """(topic, active subscribers) for every topic with at least one, largest first."""
    query = (
        select(subscriptions.c.topic, func.count(func.distinct(subscriptions.c.subscriber_id)))
        .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
        .where(subscribers.c.active.is_(True))
        .group_by(subscriptions.c.topic)
        .order_by(func.count(func.distinct(subscriptions.c.subscriber_id)).desc())
    )
    async with store.connect() as connection:
        return [(str(topic), int(count)) for topic, count in await connection.execute(query)]


async def subscribers_by_channel(store: Store) -> list[tuple[str, int]]:
    """(channel, active subscribers with at least one subscription), largest first."""
    query = (
        select(subscribers.c.channel, func.count())
        .where(subscribers.c.active.is_(True))
        .where(exists().where(and_(subscriptions.c.subscriber_id == subscribers.c.id)))
        .group_by(subscribers.c.channel)
        .order_by(func.count().desc())
    )
    async with store.connect() as connection:
        return [(str(channel), int(count)) for channel, count in await connection.execute(query)]
