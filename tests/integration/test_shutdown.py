"""Stopping in the middle of a transaction: nothing is cut short, nothing is lost, and SQLite
is not left locked (a cancelled write once held its lock until the garbage collector ran, and
`crieur run` then took the 30 s busy timeout to stop)."""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text

from bot.delivery import DeliverySettings, DeliveryWorker
from bot.outbox import Outbox, OutgoingNotice
from bot.question_recorder import FLUSH_EVERY, QuestionRecorder, question_row
from bot.scheduler import NoticeScheduler
from bot.store import Store
from bot.store.database import to_completion
from bot.store.schema import deliveries, questions, subscribers, subscriptions
from channels.inprocess import InProcessChannel
from knowledge.notices import NoticeTimes
from knowledge.snapshot import Knowledge

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


class Hold:
    """The SQL function `hold()`: blocks the store's thread until released, so that a test
    can act while a statement is under way."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()

    def __call__(self) -> int:
        self.entered.set()
        self.released.wait(20)
        return 0

    async def reached(self) -> None:
        for _ in range(1_000):
            if self.entered.is_set():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the held statement never ran")


@pytest.fixture
async def held(tmp_path: Path) -> AsyncIterator[tuple[Store, Hold]]:
    """A SQLite store whose connections know `hold()`, also called on inserting the question
    "held"; the cycle collector is off, as it may well be when a cancellation strikes."""
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    hold = Hold()

    def install(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("hold", 0, hold)
        cursor = dbapi_connection.cursor()
        cursor.execute(
            "CREATE TEMP TRIGGER held AFTER INSERT ON main.questions"
            " WHEN NEW.text = 'held' BEGIN SELECT hold(); END"
        )
        cursor.close()

    event.listen(store.engine.sync_engine, "connect", install)
    await store.engine.dispose()  # the connections opened from now on have it
    gc.disable()
    try:
        yield store, hold
    finally:
        hold.released.set()
        gc.enable()
        await store.close()


def _row(text: str) -> dict[str, Any]:
    return question_row(NOW, "web", text, True, None, 0.9)


async def _count(store: Store, text: str | None = None) -> int:
    query = select(func.count()).select_from(questions)
    if text is not None:
        query = query.where(questions.c.text == text)
    async with store.connect() as connection:
        return int(await connection.scalar(query) or 0)


async def _write_at_once(store: Store) -> None:
    """A write that fails within 2 s if another connection still holds the write lock."""
    async with store.begin() as connection:
        await connection.execute(text("PRAGMA busy_timeout=2000"))
        await connection.execute(questions.insert(), [_row("after")])
        await connection.execute(text("PRAGMA busy_timeout=30000"))


async def test_to_completion_lets_the_operation_end_before_the_cancellation() -> None:
    release = asyncio.Event()
    ended: list[str] = []

    async def operation() -> int:
        await release.wait()
        ended.append("committed")
        return 1

    task = asyncio.create_task(to_completion(operation()))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.sleep(0.01)
    assert not task.done()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ended == ["committed"]


async def test_a_write_cancelled_mid_statement_does_not_keep_sqlite_locked(
    held: tuple[Store, Hold],
) -> None:
    store, hold = held

    async def write() -> None:
        async with store.begin() as connection:
            await connection.execute(questions.insert(), [_row("cancelled")])
            await connection.execute(text("SELECT hold()"))

    task = asyncio.create_task(write())
    await hold.reached()
    task.cancel()
    hold.released.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    await _write_at_once(store)
    assert await _count(store, "cancelled") == 0  # rolled back
    assert await _count(store, "after") == 1


async def test_stopping_the_recorder_mid_batch_writes_every_question(
    held: tuple[Store, Hold],
) -> None:
    store, hold = held
    recorder = QuestionRecorder(store)
    recorder.start()
    recorder.record(NOW, "web", "held", True, None, 0.9)
    for number in range(FLUSH_EVERY):  # a full batch: written at once
        recorder.record(NOW, "web", f"question {number}", True, None, 0.9)
    await hold.reached()
    recorder.record(NOW, "web", "asked meanwhile", False, None, 0.0)
    stopping = asyncio.create_task(recorder.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()  # the batch under way is finished, not cut
    hold.released.set()
    await asyncio.wait_for(stopping, 10)
    assert await _count(store) == FLUSH_EVERY + 2
    await _write_at_once(store)


class HeldPlanning(NoticeScheduler):
    """A scheduler whose planning job is caught inside its transaction."""

    async def plan(self) -> int:
        async with self.outbox.store.begin() as connection:
            await connection.execute(questions.insert(), [_row("planned")])
            await connection.execute(text("SELECT hold()"))
        return 0


async def test_stopping_the_scheduler_lets_the_running_job_finish(
    held: tuple[Store, Hold], example_knowledge: Knowledge
) -> None:
    store, hold = held
    scheduler = HeldPlanning(lambda: example_knowledge, Outbox(store), NoticeTimes())
    scheduler.start()  # plans at once
    await hold.reached()
    stopping = asyncio.create_task(scheduler.stop())
    await asyncio.sleep(0.05)
    assert not stopping.done()
    hold.released.set()
    await asyncio.wait_for(stopping, 10)
    assert await _count(store, "planned") == 1
    await _write_at_once(store)


async def test_a_stopping_worker_ends_the_send_under_way_and_puts_the_rest_back(
    tmp_path: Path,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    try:
        async with store.begin() as connection:
            await connection.execute(
                insert(subscribers),
                [{"channel": "inprocess", "chat_id": f"chat{i}", "created_at": NOW,
                  "last_seen_at": NOW, "active": True} for i in range(20)],
            )  # fmt: skip
            ids = (await connection.execute(select(subscribers.c.id))).scalars().all()
            await connection.execute(
                insert(subscriptions),
                [{"subscriber_id": i, "topic": "alertes", "zone": "", "created_at": NOW}
                 for i in ids],
            )  # fmt: skip
        outbox = Outbox(store, clock=lambda: NOW)
        notice = OutgoingNotice(key="annonce:1", kind="annonce", topics=("alertes",), zone=None,
                                text="Coupure d'eau.", not_before=NOW)  # fmt: skip
        assert (await outbox.publish(notice)).audience == 20
        stop = asyncio.Event()

        def third_push_stops(_push: object) -> None:  # SIGTERM while a send is under way
            if len(channel.pushes) == 2:
                stop.set()

        channel = InProcessChannel(fail=third_push_stops)
        worker = DeliveryWorker(
            outbox, channel, DeliverySettings(rate_per_second=10_000), clock=lambda: NOW
        )
        await asyncio.wait_for(worker.run(stop), 10)
        assert len(channel.pushes) == 3
        async with store.connect() as connection:
            rows = (
                await connection.execute(select(deliveries.c.status, deliveries.c.attempts))
            ).all()
        assert sorted({(status, attempts) for status, attempts in rows}) == [
            ("pending", 0),  # put back as they were, due now
            ("sent", 1),
        ]
        assert sum(status == "sent" for status, _ in rows) == 3
    finally:
        await store.close()
