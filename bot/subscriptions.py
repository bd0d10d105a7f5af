"""Subscribers, their topics and their consent, in the store.

A subscriber is one channel address, nothing more (pseudonymous: no name, no phone book).
Every subscribe and unsubscribe is recorded with its time, channel and the resident's own
words, which is the consent record. `/stop` erases the subscriber and all of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update

from bot.messages import Address
from bot.store import Store, insert_for
from bot.store.engine import AsyncConnection
from bot.store.schema import consents, of_address, subscribers, subscriptions

MAX_WORDS = 500  # characters of the resident's words kept in the consent record


@dataclass(frozen=True, slots=True)
class Subscription:
    """One topic a subscriber receives, with the zone and street it is for (if any)."""

    topic: str
    zone: str  # "" when the topic is not tied to a zone
    street: str | None
    created_at: datetime


class Subscriptions:
    """Reads and changes what each address is subscribed to."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def subscribe(
        self,
        address: Address,
        topic: str,
        at: datetime,
        words: str,
        zone: str = "",
        street: str | None = None,
    ) -> bool:
        """Subscribe `address` to `topic` (in `zone`); False if it already was."""
        async with self.store.begin() as connection:
            subscriber = await self._subscriber(connection, address, at, create=True)
            assert subscriber is not None
            done = await connection.execute(
                insert_for(connection, subscriptions)
                .values(
                    subscriber_id=subscriber,
                    topic=topic,
                    zone=zone,
                    street=street,
                    created_at=at,
                )
                .on_conflict_do_nothing(index_elements=["subscriber_id", "topic", "zone"])
            )
            created = (done.rowcount or 0) > 0
            if created:
                await self._consent(connection, subscriber, address, at, "subscribe", topic,
                                    zone, words)  # fmt: skip
        return created

    async def unsubscribe(
        self, address: Address, at: datetime, words: str, topic: str | None = None
    ) -> list[str]:
        """Drop one topic (every zone of it), or all topics; returns the topics dropped."""
        async with self.store.begin() as connection:
            subscriber = await self._subscriber(connection, address, at, create=False)
            if subscriber is None:
                return []
            query = select(subscriptions.c.topic, subscriptions.c.zone).where(
                subscriptions.c.subscriber_id == subscriber
            )
            if topic is not None:
                query = query.where(subscriptions.c.topic == topic)
            dropped = list((await connection.execute(query)).all())
            if not dropped:
                return []
            removal = delete(subscriptions).where(subscriptions.c.subscriber_id == subscriber)
            if topic is not None:
                removal = removal.where(subscriptions.c.topic == topic)
            await connection.execute(removal)
            for name, zone in dropped:
                await self._consent(connection, subscriber, address, at, "unsubscribe", name,
                                    zone, words)  # fmt: skip
        return sorted({name for name, _ in dropped})

    async def of(self, address: Address) -> list[Subscription]:
        """The address's subscriptions, oldest first."""
        async with self.store.connect() as connection:
            result = await connection.execute(
                select(
                    subscriptions.c.topic,
                    subscriptions.c.zone,
                    subscriptions.c.street,
                    subscriptions.c.created_at,
                )
                .join(subscribers, subscribers.c.id == subscriptions.c.subscriber_id)
                .where(of_address(subscribers, address))
                .order_by(subscriptions.c.created_at, subscriptions.c.id)
            )
            return [Subscription(*row) for row in result]

    async def erase(self, address: Address) -> bool:
        """Forget the address entirely: subscriptions, consent records, pending notices."""
        async with self.store.begin() as connection:
            result = await connection.execute(
                delete(subscribers).where(of_address(subscribers, address))
            )
        return (result.rowcount or 0) > 0

    async def _subscriber(
        self, connection: AsyncConnection, address: Address, at: datetime, create: bool
    ) -> int | None:
        where = of_address(subscribers, address)
        found = await connection.scalar(select(subscribers.c.id).where(where))
        if found is not None:
            values = {"last_seen_at": at, "active": True} if create else {"last_seen_at": at}
            await connection.execute(update(subscribers).where(where).values(**values))
            return int(found)
        if not create:
            return None
        await connection.execute(
            insert_for(connection, subscribers)
            .values(
                channel=address.channel,
                chat_id=address.chat_id,
                created_at=at,
                last_seen_at=at,
                active=True,
            )
            .on_conflict_do_nothing(index_elements=["channel", "chat_id"])
        )
        created = await connection.scalar(select(subscribers.c.id).where(where))
        return int(created) if created is not None else None

    async def _consent(
        self,
        connection: AsyncConnection,
        subscriber: int,
        address: Address,
        at: datetime,
        action: str,
        topic: str,
        zone: str,
        words: str,
    ) -> None:
        await connection.execute(
            consents.insert().values(
                subscriber_id=subscriber,
                at=at,
                channel=address.channel,
                action=action,
                topic=topic,
                zone=zone,
                words=words[:MAX_WORDS],
            )
        )
