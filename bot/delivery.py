"""Delivery workers: take outbox rows of one channel, push them at the channel's rate.

A worker claims a batch of due rows (on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so that
several processes share the work without taking the same row), marks them `sending` with a
lease, pushes them one by one through the rate limiter, and records each outcome:

- sent;
- rate limited: the row and the rest of the batch wait for the server's retry-after;
- recipient gone: the subscriber is deactivated and their pending rows are closed;
- not allowed or rejected for good: parked as failed, with the reason;
- anything else (network error, garbage answer): retried with exponential back-off, then
  parked as failed after `max_attempts`; never dropped silently.

Outcomes are written every five sends, so a killed process leaves at most that many rows in
doubt; their lease expires and they are sent again with the same delivery key.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiolimiter import AsyncLimiter
from sqlalchemy import Select, bindparam, func, select, text, update

from bot.channel import (
    Channel,
    IdempotentChannel,
    Push,
    PushNotAllowed,
    RateLimited,
    RecipientGone,
    Rejected,
)
from bot.messages import Address
from bot.outbox import Outbox, utcnow
from bot.store.database import to_completion
from bot.store.schema import deliveries, notices, subscribers

log = logging.getLogger(__name__)


SLIDING_BELOW = 100  # messages per second
WINDOW_SECONDS = 1.03  # a second, and a margin for network jitter
SPREAD = 1.5  # sends are spaced at least 1 / (1.5 x rate) apart: no burst at a second's edge


class SlidingWindow:
    """At most `count` acquisitions in any `seconds`: how services count their flood limits."""

    def __init__(self, count: int, seconds: float) -> None:
        self.count = max(1, count)
        self.seconds = seconds
        self.spacing = seconds / (self.count * SPREAD)
        self._times: deque[float] = deque()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            while self._times and self._times[0] <= now - self.seconds:
                self._times.popleft()
            wait = self._times[-1] + self.spacing - now if self._times else 0.0
            if len(self._times) >= self.count:
                wait = max(wait, self._times[0] + self.seconds - now)
            if wait <= 0:
                self._times.append(now)
                return
            await asyncio.sleep(wait)


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """How a worker claims and retries (the rate comes from the channel unless set)."""

    rate_per_second: float | None = None
    batch: int = 200
    lease_seconds: float = 120.0
    flush_every: int = 5
    max_attempts: int = 8
    backoff_base: float = 2.0
    backoff_cap: float = 3600.0
    idle_poll: float = 1.0


@dataclass(frozen=True, slots=True)
class _Notice:
    key: str
    kind: str
    topic: str
    text: str
    urgent: bool
    not_after: datetime | None


@dataclass(slots=True)
class _Claimed:
    id: int
    notice_id: int
    subscriber_id: int
    chat_id: str
    attempts: int


class DeliveryWorker:
    """Delivers one channel's outbox rows; several may run, in one process or many."""

    def __init__(
        self,
        outbox: Outbox,
        channel: Channel,
        settings: DeliverySettings | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.outbox = outbox
        self.channel = channel
        self.settings = settings or DeliverySettings()
        self.clock = clock
        rate = self.settings.rate_per_second or channel.capabilities.rate_per_second
        self.limiter: AsyncLimiter | SlidingWindow
        if rate < SLIDING_BELOW:
            # Low limits are flood controls counted over any second: keep to exactly that.
            self.limiter = SlidingWindow(int(rate), WINDOW_SECONDS)
        else:
            # A tenth of a second's worth of burst, so pauses (claims, flushes) are not lost.
            burst = int(rate / 10)
            self.limiter = AsyncLimiter(burst, burst / rate)
        self.worker_id = f"{os.getpid()}-{id(self):x}"[:64]
        self._notices: OrderedDict[int, _Notice] = OrderedDict()
        self._results: list[dict[str, Any]] = []
        self._gone: set[int] = set()
        self._stop: asyncio.Event | None = None
        self.sent = 0
        self.failed = 0  # parked or gone

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; a store error is logged and retried, never fatal.

        Once `stop` is set, the sends under way finish and the rest of the batch is put back.
        """
        self._stop = stop
        while not stop.is_set():
            try:
                count = await self.deliver_batch()
            except Exception:
                log.exception("outbox %s: delivery round failed", self.channel.name)
                count = 0
                await _wait(stop, 5.0)
            if count == 0:
                self.outbox.wake.clear()
                await _wait_any(stop, self.outbox.wake, self.settings.idle_poll)

    async def deliver_batch(self) -> int:
        """Claim one batch of due rows and deliver it; returns how many rows were claimed."""
        claimed = await self._claim()
        if not claimed:
            return 0
        await self._load_notices({row.notice_id for row in claimed})
        slots = asyncio.Semaphore(max(1, self.channel.capabilities.concurrency))
        pauses: list[float] = []

        async def deliver(row: _Claimed) -> None:
            async with slots:
                if pauses:  # rate limited meanwhile: the rest waits for the retry-after
                    await self._release([row], max(pauses))
                    return
                if self._stop is not None and self._stop.is_set():  # stopping: due again now
                    await self._release([row], 0.0)
                    return
                pause = await self._deliver(row)
                if pause is not None:
                    pauses.append(pause)
                if len(self._results) >= self.settings.flush_every:
                    await self._flush()

        try:
            await asyncio.gather(*(deliver(row) for row in claimed))
        finally:
            await self._flush()
        if pauses:
            await asyncio.sleep(max(pauses))
        return len(claimed)

    async def _deliver(self, row: _Claimed) -> float | None:
        """Push one row and queue its outcome; returns a pause when rate limited."""
        notice = self._notices[row.notice_id]
        now = self.clock()
        if notice.not_after is not None and now > notice.not_after:
            self._result(row, "expired", error="périmé avant l'envoi")
            return None
        if row.subscriber_id in self._gone:
            self._result(row, "gone", error="destinataire parti")
            return None
        push = Push(
            key=f"{notice.key}/{row.subscriber_id}",
            to=Address(self.channel.name, row.chat_id),
            topic=notice.topic,
            kind=notice.kind,
            text=notice.text,
            urgent=notice.urgent,
        )
        # sent again after a crash or a failure: the service may already have it
        already = (
            row.attempts > 1
            and isinstance(self.channel, IdempotentChannel)
            and await self.channel.delivered(push.key)
        )
        if already:
            self.sent += 1
            self._result(row, "sent", sent_at=self.clock(), error="déjà reçu")
            return None
        await self.limiter.acquire()
        try:
            await self.channel.push(push)
        except RateLimited as exc:
            retry = max(exc.retry_after, 0.05)
            self._result(row, "pending", due=now + timedelta(seconds=retry), error=str(exc),
                         attempts=row.attempts - 1)  # fmt: skip
            return retry
        except RecipientGone as exc:
            self._gone.add(row.subscriber_id)
            self._result(row, "gone", error=str(exc) or "destinataire parti")
        except (PushNotAllowed, Rejected) as exc:
            self._result(row, "failed", error=str(exc) or "envoi refusé")
        except Exception as exc:  # the channel's TransientError, or a bug answering garbage
            self._retry_or_park(row, f"{type(exc).__name__}: {exc}")
        else:
            self.sent += 1
            self._result(row, "sent", sent_at=self.clock())
        return None

    def _retry_or_park(self, row: _Claimed, error: str) -> None:
        if row.attempts >= self.settings.max_attempts:
            log.warning(
                "outbox %s: row %d parked after %d attempts: %s",
                self.channel.name, row.id, row.attempts, error[:200],
            )  # fmt: skip
            self._result(row, "failed", error=error)
            return
        delay = min(self.settings.backoff_cap, self.settings.backoff_base**row.attempts)
        delay *= random.uniform(0.8, 1.2)  # jitter, so that retries spread out
        self._result(row, "pending", due=self.clock() + timedelta(seconds=delay), error=error)

    def _result(
        self,
        row: _Claimed,
        status: str,
        *,
        due: datetime | None = None,
        error: str | None = None,
        sent_at: datetime | None = None,
        attempts: int | None = None,
    ) -> None:
        if status in ("failed", "gone"):
            self.failed += 1
        self._results.append(
            {
                "row_id": row.id,
                "new_status": status,
                "new_due": due,
                "new_error": error[:500] if error else None,
                "new_sent_at": sent_at,
                "new_attempts": row.attempts if attempts is None else attempts,
            }
        )

    async def _claim(self) -> list[_Claimed]:
        """Take due rows: first those a dead worker left leased, then pending ones by due time.

        Two index-friendly queries rather than one OR: the table keeps every sent row.
        """
        now = self.clock()
        mine = deliveries.c.channel == self.channel.name
        abandoned = (
            select(deliveries.c.id)
            .where(mine, deliveries.c.status == "sending", deliveries.c.lease_until < now)
            .limit(self.settings.batch)
        )
        pending = (
            select(deliveries.c.id)
            .where(mine, deliveries.c.status == "pending", deliveries.c.due_at <= now)
            .order_by(deliveries.c.due_at)
            .limit(self.settings.batch)
        )
        rows = await self._take(abandoned, now)
        if len(rows) < self.settings.batch:
            rows += await self._take(pending.limit(self.settings.batch - len(rows)), now)
        rows.sort(key=lambda row: row.id)
        return rows

    async def _take(self, candidates: Select[Any], now: datetime) -> list[_Claimed]:
        return await to_completion(self._take_rows(candidates, now))

    async def _take_rows(self, candidates: Select[Any], now: datetime) -> list[_Claimed]:
        async with self.outbox.store.begin() as connection:
            if connection.dialect.name == "postgresql":
                candidates = candidates.with_for_update(skip_locked=True)
            result = await connection.execute(
                update(deliveries)
                .where(deliveries.c.id.in_(candidates.scalar_subquery()))
                .values(
                    status="sending",
                    lease_until=now + timedelta(seconds=self.settings.lease_seconds),
                    claimed_by=self.worker_id,
                    attempts=deliveries.c.attempts + 1,
                )
                .returning(
                    deliveries.c.id,
                    deliveries.c.notice_id,
                    deliveries.c.subscriber_id,
                    deliveries.c.chat_id,
                    deliveries.c.attempts,
                )
            )
            return [_Claimed(*row) for row in result]

    async def _load_notices(self, ids: set[int]) -> None:
        missing = ids - self._notices.keys()
        if missing:
            async with self.outbox.store.connect() as connection:
                result = await connection.execute(
                    select(
                        notices.c.id,
                        notices.c.key,
                        notices.c.kind,
                        notices.c.topics,
                        notices.c.text,
                        notices.c.urgent,
                        notices.c.not_after,
                    ).where(notices.c.id.in_(missing))
                )
                for row in result:
                    topic = row.topics.split()[0] if row.topics else ""
                    self._notices[row.id] = _Notice(
                        row.key, row.kind, topic, row.text, row.urgent, row.not_after
                    )
        while len(self._notices) > 256:
            self._notices.popitem(last=False)

    async def _release(self, rows: list[_Claimed], pause: float) -> None:
        due = self.clock() + timedelta(seconds=pause)
        for row in rows:
            self._result(row, "pending", due=due, attempts=row.attempts - 1)

    async def _flush(self) -> None:
        if not self._results:
            return
        results, self._results = self._results, []
        statement = (
            update(deliveries)
            .where(deliveries.c.id == bindparam("row_id"))
            .where(deliveries.c.claimed_by == self.worker_id)
            .values(
                status=bindparam("new_status"),
                due_at=_coalesce_due(),
                last_error=bindparam("new_error"),
                sent_at=bindparam("new_sent_at"),
                attempts=bindparam("new_attempts"),
                lease_until=None,
            )
        )
        gone, self._gone = self._gone, set()
        # a worker cancelled at the end of the grace period still records what it sent
        await to_completion(self._write_outcomes(statement, results, gone))
        if gone:
            log.info("outbox %s: %d recipients gone, deactivated", self.channel.name, len(gone))

    async def _write_outcomes(
        self, statement: Any, results: list[dict[str, Any]], gone: set[int]
    ) -> None:
        async with self.outbox.store.begin() as connection:
            if connection.dialect.name == "postgresql":
                # Outcomes survive a killed worker either way; only a database crash could lose
                # the last fraction of a second of them (then re-sent), for 5x cheaper commits.
                await connection.execute(text("SET LOCAL synchronous_commit TO OFF"))
            await connection.execute(statement, results)
            if gone:
                await connection.execute(
                    update(subscribers).where(subscribers.c.id.in_(gone)).values(active=False)
                )
                await connection.execute(
                    update(deliveries)
                    .where(deliveries.c.subscriber_id.in_(gone))
                    .where(deliveries.c.status == "pending")
                    .values(status="gone", last_error="destinataire parti")
                )


def _coalesce_due() -> Any:
    return func.coalesce(bindparam("new_due", type_=deliveries.c.due_at.type), deliveries.c.due_at)


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def _wait_any(stop: asyncio.Event, wake: asyncio.Event, seconds: float) -> None:
    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(wake.wait())]
    try:
        await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
