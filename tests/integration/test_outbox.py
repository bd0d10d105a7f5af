"""The outbox on a real store (SQLite file and PostgreSQL): fan-out, delivery, retries, crashes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select, text

from bot.channel import Push, PushNotAllowed, RateLimited, RecipientGone, TransientError
from bot.delivery import DeliverySettings, DeliveryWorker
from bot.outbox import Outbox, OutgoingNotice
from bot.store import Store
from bot.store.schema import SCHEMA_REVISION, deliveries, subscribers, subscriptions
from channels.inprocess import InProcessChannel

T0 = datetime(2026, 12, 23, 18, 0, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def store(store_url: str) -> AsyncIterator[Store]:
    opened = await Store.open(store_url)
    yield opened
    await opened.close()


async def _subscribe_many(store: Store, count: int, topic: str = "alertes") -> None:
    async with store.begin() as connection:
        await connection.execute(
            insert(subscribers),
            [
                {"channel": "inprocess", "chat_id": f"chat{i}", "created_at": T0,
                 "last_seen_at": T0, "active": True}
                for i in range(count)
            ],
        )  # fmt: skip
        ids = (await connection.execute(select(subscribers.c.id).order_by(subscribers.c.id))).all()
        await connection.execute(
            insert(subscriptions),
            [
                {"subscriber_id": row[0], "topic": topic, "zone": "nord" if i % 2 else "sud",
                 "created_at": T0}
                for i, row in enumerate(ids)
            ],
        )  # fmt: skip


def _notice(key: str = "annonce:1", zone: str | None = None, **extra: object) -> OutgoingNotice:
    values: dict[str, object] = {
        "key": key,
        "kind": "annonce",
        "topics": ("alertes",),
        "zone": zone,
        "text": "Coupure d'eau rue des Lilas de 9h à 12h.",
        "not_before": T0,
    }
    values.update(extra)
    return OutgoingNotice(**values)  # type: ignore[arg-type]


def _worker(
    outbox: Outbox, channel: InProcessChannel, clock: Clock, **settings: object
) -> DeliveryWorker:
    options: dict[str, object] = {"rate_per_second": 100_000.0, "backoff_base": 2.0}
    options.update(settings)
    return DeliveryWorker(outbox, channel, DeliverySettings(**options), clock=clock)  # type: ignore[arg-type]


async def _drain(worker: DeliveryWorker) -> None:
    for _ in range(1_000):
        if await worker.deliver_batch() == 0:
            return
    raise AssertionError("the outbox never emptied")


async def _statuses(store: Store) -> dict[str, int]:
    async with store.connect() as connection:
        rows = await connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        )
        return {status: int(count) for status, count in rows}


async def test_migrations_run_once_and_again(store: Store, store_url: str) -> None:
    again = await Store.open(store_url)
    async with again.connect() as connection:
        version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    await again.close()
    assert version == SCHEMA_REVISION


async def test_fan_out_is_idempotent_and_targets_the_zone(store: Store) -> None:
    await _subscribe_many(store, 10)
    outbox = Outbox(store, clock=Clock())
    first = await outbox.publish(_notice())
    again = await outbox.publish(_notice())
    north = await outbox.publish(_notice("annonce:2", zone="nord"))
    assert (first.created, first.audience) == (True, 10)
    assert (again.created, again.notice_id, again.audience) == (False, first.notice_id, 10)
    assert north.audience == 5
    assert await outbox.audience_size(["alertes"], "sud") == 5
    assert await outbox.audience_size(["cantine"], None) == 0
    assert (await _statuses(store)) == {"pending": 15}


async def test_every_row_is_delivered_once(store: Store) -> None:
    await _subscribe_many(store, 120)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    published = await outbox.publish(_notice())
    channel = InProcessChannel()
    await _drain(_worker(outbox, channel, clock, batch=50, flush_every=7))
    keys = [push.key for push in channel.pushes]
    assert len(keys) == 120 and len(set(keys)) == 120
    assert {push.to.chat_id for push in channel.pushes} == {f"chat{i}" for i in range(120)}
    progress = await outbox.progress(published.notice_id)
    assert (progress.sent, progress.pending, progress.done) == (120, 0, True)


async def test_transient_failures_back_off_then_succeed(store: Store) -> None:
    await _subscribe_many(store, 1)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    failures = iter([TransientError("réseau"), TransientError("502")])
    channel = InProcessChannel(fail=lambda push: next(failures, None))
    worker = _worker(outbox, channel, clock)
    assert await worker.deliver_batch() == 1
    assert await worker.deliver_batch() == 0  # backing off: not due yet
    clock.advance(3)
    assert await worker.deliver_batch() == 1  # second failure, longer back-off
    clock.advance(3)
    assert await worker.deliver_batch() == 0
    clock.advance(10)
    assert await worker.deliver_batch() == 1
    assert len(channel.pushes) == 1
    assert (await _statuses(store)) == {"sent": 1}


async def test_garbage_is_retried_then_parked_not_dropped(store: Store) -> None:
    await _subscribe_many(store, 1)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    channel = InProcessChannel(fail=lambda push: ValueError("réponse illisible: <html>"))
    worker = _worker(outbox, channel, clock, max_attempts=3, backoff_base=1.0)
    for _ in range(5):
        await worker.deliver_batch()
        clock.advance(5)
    async with store.connect() as connection:
        row = (await connection.execute(select(deliveries))).one()
    assert (row.status, row.attempts) == ("failed", 3)
    assert "réponse illisible" in row.last_error


async def test_rate_limit_waits_for_retry_after_without_counting_an_attempt(store: Store) -> None:
    await _subscribe_many(store, 3)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    limited = iter([RateLimited(0.05)])
    channel = InProcessChannel(fail=lambda push: next(limited, None))
    worker = _worker(outbox, channel, clock)
    assert await worker.deliver_batch() == 3  # first push limited: the whole batch waits
    assert channel.pushes == []
    clock.advance(1)
    await _drain(worker)
    assert len(channel.pushes) == 3
    async with store.connect() as connection:
        attempts = (await connection.execute(select(deliveries.c.attempts))).scalars().all()
    assert sorted(attempts) == [1, 1, 1]


async def test_recipient_gone_deactivates_the_subscriber(store: Store) -> None:
    await _subscribe_many(store, 4)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    await outbox.publish(_notice("annonce:2"))

    def blocked(push: Push) -> Exception | None:
        return RecipientGone("bloqué") if push.to.chat_id == "chat0" else None

    channel = InProcessChannel(fail=blocked)
    await _drain(_worker(outbox, channel, clock, batch=1))
    assert len(channel.pushes) == 6
    statuses = await _statuses(store)
    assert statuses == {"sent": 6, "gone": 2}
    third = await outbox.publish(_notice("annonce:3"))
    assert third.audience == 3


async def test_push_not_allowed_is_parked_with_its_reason(store: Store) -> None:
    await _subscribe_many(store, 1)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    channel = InProcessChannel(fail=lambda push: PushNotAllowed("aucun modèle configuré"))
    await _drain(_worker(outbox, channel, clock))
    async with store.connect() as connection:
        row = (await connection.execute(select(deliveries))).one()
    assert (row.status, row.last_error) == ("failed", "aucun modèle configuré")


async def test_stale_notices_expire_instead_of_going_late(store: Store) -> None:
    await _subscribe_many(store, 2)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice(not_after=T0 + timedelta(hours=1)))
    clock.advance(2 * 3600)
    channel = InProcessChannel()
    await _drain(_worker(outbox, channel, clock))
    assert channel.pushes == []
    assert (await _statuses(store)) == {"expired": 2}


async def test_a_crashed_worker_s_rows_are_taken_over_after_the_lease(store: Store) -> None:
    await _subscribe_many(store, 30)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    crashed = _worker(outbox, InProcessChannel(), clock, batch=10, lease_seconds=60)
    claimed = await crashed._claim()  # claimed, then the process dies before sending
    assert len(claimed) == 10
    channel = InProcessChannel()
    survivor = _worker(outbox, channel, clock, lease_seconds=60)
    await _drain(survivor)
    assert len(channel.pushes) == 20  # the crashed worker's rows are still leased
    clock.advance(61)
    await _drain(survivor)
    assert len({push.key for push in channel.pushes}) == len(channel.pushes) == 30


async def test_quiet_hours_delay_all_but_urgent_notices(store: Store) -> None:
    from zoneinfo import ZoneInfo

    from bot.quiet import QuietHours

    paris = ZoneInfo("Europe/Paris")
    quiet = QuietHours(
        datetime.min.time().replace(hour=21), datetime.min.time().replace(hour=7), paris
    )
    late = datetime(2026, 12, 23, 22, 30, tzinfo=paris)
    outbox = Outbox(store, quiet, clock=Clock(late))
    assert outbox.due_time(_notice(not_before=late)) == datetime(2026, 12, 24, 7, 0, tzinfo=paris)
    assert outbox.due_time(_notice(not_before=late, urgent=True)) == late


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
async def test_parallel_workers_never_send_a_row_twice(store: Store) -> None:
    await _subscribe_many(store, 600)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    channel = InProcessChannel()
    workers = [_worker(outbox, channel, clock, batch=25, flush_every=5) for _ in range(4)]
    await asyncio.gather(*(_drain(worker) for worker in workers))
    keys = [push.key for push in channel.pushes]
    assert len(keys) == len(set(keys)) == 600
    assert sum(1 for worker in workers if worker.sent) >= 2  # the work really was shared


def test_the_schema_revision_constant_is_alembic_s_head() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.store.schema import SCHEMA_REVISION

    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    assert ScriptDirectory.from_config(config).get_current_head() == SCHEMA_REVISION


async def test_concurrent_pushes_stop_together_when_rate_limited(store: Store) -> None:
    await _subscribe_many(store, 40)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    limited = iter([None] * 10 + [RateLimited(0.01)])
    channel = InProcessChannel(fail=lambda push: next(limited, None), concurrency=4)
    worker = _worker(outbox, channel, clock, batch=40)
    await worker.deliver_batch()
    assert 10 <= len(channel.pushes) < 40  # the limit stopped the batch part-way
    clock.advance(1)
    await _drain(worker)
    keys = [push.key for push in channel.pushes]
    assert len(keys) == len(set(keys)) == 40


async def test_rows_in_doubt_are_not_sent_twice_to_a_service_that_knows_its_keys(
    store: Store,
) -> None:
    await _subscribe_many(store, 20)
    clock = Clock()
    outbox = Outbox(store, clock=clock)
    await outbox.publish(_notice())
    channel = InProcessChannel()
    crashed = _worker(outbox, channel, clock, batch=10, lease_seconds=60)
    claimed = await crashed._claim()
    await crashed._load_notices({row.notice_id for row in claimed})
    for row in claimed[:6]:  # pushed, then the process died before writing the outcome
        await crashed._deliver(row)
    crashed._results.clear()
    clock.advance(61)
    await _drain(_worker(outbox, channel, clock))
    keys = [push.key for push in channel.pushes]
    assert len(keys) == len(set(keys)) == 20
    assert (await _statuses(store)) == {"sent": 20}
