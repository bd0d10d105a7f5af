"""Agents' broadcasts: validated, logged (who, when, what, to how many), then handed to the
outbox at their time, by the command line at once or by the running scheduler later."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from bot.outbox import Outbox, OutgoingNotice
from bot.store.schema import broadcasts

MAX_TEXT = 4_000


class BroadcastError(ValueError):
    """A broadcast that cannot be sent; the message says why, in French, for the agent."""


@dataclass(frozen=True, slots=True)
class Broadcast:
    """One row of the broadcast log."""

    id: int
    author: str
    created_at: datetime
    at: datetime
    topic: str
    zone: str
    text: str
    urgent: bool
    status: str
    audience: int
    notice_id: int | None


class Broadcasts:
    """Creates, cancels, lists and publishes agents' broadcasts."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def validate(
        self,
        text: str,
        topic: str,
        zone: str | None,
        at: datetime,
        now: datetime,
        topics: set[str],
        zones: set[str],
    ) -> str:
        """The cleaned text, or a `BroadcastError` saying what is wrong."""
        cleaned = text.strip()
        if not cleaned:
            raise BroadcastError("le texte de l'annonce est vide")
        if len(cleaned) > MAX_TEXT:
            raise BroadcastError(f"le texte dépasse {MAX_TEXT} caractères ({len(cleaned)})")
        if topic not in topics:
            raise BroadcastError(
                f"thème inconnu « {topic} » ; thèmes possibles : {', '.join(sorted(topics))}"
            )
        if zone and zone not in zones:
            known = ", ".join(sorted(zones)) or "aucun secteur dans ce pack"
            raise BroadcastError(f"secteur inconnu « {zone} » ; secteurs : {known}")
        if at.tzinfo is None:
            raise BroadcastError("la date doit porter un fuseau horaire")
        if (now - at).total_seconds() > 60:
            raise BroadcastError(f"la date {at.isoformat()} est passée")
        return cleaned

    async def create(
        self,
        author: str,
        text: str,
        topic: str,
        zone: str | None,
        at: datetime,
        urgent: bool,
        now: datetime,
    ) -> int:
        """Log a broadcast (already validated); returns its id."""
        audience = await self.outbox.audience_size((topic,), zone)
        async with self.outbox.store.begin() as connection:
            created = await connection.scalar(
                broadcasts.insert()
                .values(
                    author=author[:120],
                    created_at=now,
                    at=at,
                    topic=topic,
                    zone=zone or "",
                    text=text,
                    urgent=urgent,
                    status="scheduled",
                    audience=audience,
                )
                .returning(broadcasts.c.id)
            )
        return int(created or 0)

    async def cancel(self, broadcast_id: int) -> bool:
        """Cancel a broadcast that has not gone out yet; False if there is none such."""
        async with self.outbox.store.begin() as connection:
            result = await connection.execute(
                update(broadcasts)
                .where(broadcasts.c.id == broadcast_id)
                .where(broadcasts.c.status == "scheduled")
                .values(status="cancelled")
            )
        return (result.rowcount or 0) > 0

    async def get(self, broadcast_id: int) -> Broadcast | None:
        async with self.outbox.store.connect() as connection:
            row = (
                await connection.execute(select(broadcasts).where(broadcasts.c.id == broadcast_id))
            ).first()
        return Broadcast(*row) if row is not None else None

    async def recent(self, limit: int = 50) -> list[Broadcast]:
        async with self.outbox.store.connect() as connection:
            rows = await connection.execute(
                select(broadcasts).order_by(broadcasts.c.id.desc()).limit(limit)
            )
            return [Broadcast(*row) for row in rows]

    async def publish_due(self, now: datetime) -> list[Broadcast]:
        """Hand every scheduled broadcast whose time has come to the outbox."""
        async with self.outbox.store.connect() as connection:
            rows = await connection.execute(
                select(broadcasts.c.id)
                .where(broadcasts.c.status == "scheduled")
                .where(broadcasts.c.at <= now)
                .order_by(broadcasts.c.at)
            )
            due = [int(row[0]) for row in rows]
        published = []
        for broadcast_id in due:
            item = await self.publish(broadcast_id)
            if item is not None:
                published.append(item)
        return published

    async def publish(self, broadcast_id: int) -> Broadcast | None:
        """Publish one scheduled broadcast (idempotent: its notice key is its id)."""
        item = await self.get(broadcast_id)
        if item is None or item.status != "scheduled":
            return None
        result = await self.outbox.publish(
            OutgoingNotice(
                key=f"annonce:{item.id}",
                kind="annonce",
                topics=(item.topic,),
                zone=item.zone or None,
                text=item.text,
                not_before=item.at,
                urgent=item.urgent,
            )
        )
        async with self.outbox.store.begin() as connection:
            await connection.execute(
                update(broadcasts)
                .where(broadcasts.c.id == item.id)
                .where(broadcasts.c.status == "scheduled")
                .values(status="published", notice_id=result.notice_id, audience=result.audience)
            )
        return await self.get(broadcast_id)
