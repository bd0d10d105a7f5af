"""The durable outbox: every notice becomes one row per recipient before anything is sent.

`Outbox.publish` writes the notice and fans it out to its audience in one transaction, with
unique keys so that publishing twice adds nothing. Rows are then delivered by the
`DeliveryWorker` of their channel (see `bot.delivery`). Nothing lives only in memory: a
process killed halfway resumes from the table.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, func, literal, select, true, update

from bot.quiet import QuietHours
from bot.store import Store, insert_for
from bot.store.schema import deliveries, notices, subscribers, subscriptions

FINAL_STATUSES = ("sent", "failed", "gone", "expired")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class OutgoingNotice:
    """A notice ready to be fanned out: scheduled, one-off change, or an agent's broadcast."""

    key: str  # idempotency key: publishing the same key twice does nothing
    kind: str
    topics: tuple[str, ...]
    zone: str | None
    text: str
    not_before: datetime
    not_after: datetime | None = None
    urgent: bool = False


@dataclass(frozen=True, slots=True)
class Published:
    """What `Outbox.publish` did: the notice's row id, whether it is new, its audience."""

    notice_id: int
    created: bool
    audience: int


@dataclass(frozen=True, slots=True)
class Progress:
    """Delivery counts of one notice, by status."""

    total: int
    sent: int
    pending: int
    failed: int
    gone: int
    expired: int

    @property
    def done(self) -> bool:
        return self.pending == 0


class Outbox:
    """Publishes notices into the store; the delivery workers take it from there."""

    def __init__(
        self,
        store: Store,
        quiet: QuietHours | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.quiet = quiet
        self.clock = clock
        self.wake = asyncio.Event()  # set when rows are added, so local workers look at once

    def due_time(self, notice: OutgoingNotice) -> datetime:
        """When delivery may start: after quiet hours unless urgent."""
        if notice.urgent or self.quiet is None:
            return notice.not_before
        return self.quiet.release(notice.not_before)

    async def publish(self, notice: OutgoingNotice) -> Published:
        """Store the notice and one delivery row per recipient (idempotent on `key`)."""
        if not notice.topics:
            raise ValueError("a notice needs at least one topic")
        async with self.store.begin() as connection:
            existing = await connection.scalar(
                select(notices.c.id).where(notices.c.key == notice.key)
            )
            if existing is not None:
                audience = await connection.scalar(
                    select(notices.c.audience).where(notices.c.id == existing)
                )
                return Published(existing, False, int(audience or 0))
            due = self.due_time(notice)
            notice_id = await connection.scalar(
                insert_for(connection, notices)
                .values(
                    key=notice.key,
                    kind=notice.kind,
                    topics=" ".join(notice.topics),
                    zone=notice.zone or "",
                    text=notice.text,
                    urgent=notice.urgent,
                    created_at=self.clock(),
                    not_before=due,
                    not_after=notice.not_after,
                    audience=0,
                )
                .on_conflict_do_nothing(index_elements=["key"])
                .returning(notices.c.id)
            )
            if notice_id is None:  # another process published it a moment ago
                again = await connection.scalar(
                    select(notices.c.id).where(notices.c.key == notice.key)
                )
                return Published(int(again or 0), False, 0)
            recipients = audience_query(notice.topics, notice.zone)
            rows = select(
                literal(notice_id),
                recipients.c.id,
                recipients.c.channel,
                recipients.c.chat_id,
                literal("pending"),
                literal(0),
                literal(due, type_=deliveries.c.due_at.type),
            ).where(true())  # SQLite needs a WHERE before ON CONFLICT in INSERT … SELECT
            result = await connection.execute(
                insert_for(connection, deliveries)
                .from_select(
                    [
                        "notice_id",
                        "subscriber_id",
                        "channel",
                        "chat_id",
                        "status",
                        "attempts",
                        "due_at",
                    ],
                    rows,
                )
                .on_conflict_do_nothing(index_elements=["notice_id", "subscriber_id"])
            )
            audience = max(result.rowcount or 0, 0)
            await connection.execute(
                update(notices).where(notices.c.id == notice_id).values(audience=audience)
            )
        self.wake.set()
        return Published(int(notice_id), True, audience)

    async def audience_size(self, topics: Iterable[str], zone: str | None) -> int:
        query = audience_query(tuple(topics), zone)
        async with self.store.connect() as connection:
            count = await connection.scalar(select(func.count()).select_from(query))
        return int(count or 0)

    async def progress(self, notice_id: int) -> Progress:
        async with self.store.connect() as connection:
            rows = await connection.execute(
                select(deliveries.c.status, func.count())
                .where(deliveries.c.notice_id == notice_id)
                .group_by(deliveries.c.status)
            )
            counts = {status: int(count) for status, count in rows}
        pending = counts.get("pending", 0) + counts.get("sending", 0)
        return Progress(
            sum(counts.values()),
            counts.get("sent", 0),
            pending,
            counts.get("failed", 0),
            counts.get("gone", 0),
            counts.get("expired", 0),
        )


def audience_query(topics: tuple[str, ...], zone: str | None) -> Any:
    """Active subscribers of any of `topics`, located in `zone` when one is given.

    A subscriber is in a zone when one of their subscriptions names it (their street's
    collection zone), so an alert for one zone reaches the alert subscribers living there.
    """
    query: Select[Any] = (
        select(subscribers.c.id, subscribers.c.channel, subscribers.c.chat_id)
        .where(subscribers.c.active.is_(True))
        .where(
            exists().where(
                and_(
                    subscriptions.c.subscriber_id == subscribers.c.id,
                    subscriptions.c.topic.in_(topics),
                )
            )
        )
    )
    if zone:
        located = subscriptions.alias("located")
        query = query.where(
            exists().where(
                and_(located.c.subscriber_id == subscribers.c.id, located.c.zone == zone)
            )
        )
    return query.subquery()


__all__ = ["FINAL_STATUSES", "Outbox", "OutgoingNotice", "Progress", "Published"]
