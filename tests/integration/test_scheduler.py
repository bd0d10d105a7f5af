"""Scheduled notices end to end with a frozen clock: plan, publish, deliver, restart."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.delivery import DeliverySettings, DeliveryWorker
from bot.messages import Address
from bot.outbox import Outbox
from bot.scheduler import NoticeScheduler
from bot.store import Store
from bot.subscriptions import Subscriptions
from channels.inprocess import InProcessChannel
from knowledge.notices import NoticeTimes
from knowledge.snapshot import Knowledge

PARIS = ZoneInfo("Europe/Paris")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    yield opened
    await opened.close()


async def _residents(store: Store) -> None:
    subscriptions = Subscriptions(store)
    at = datetime(2026, 12, 1, 12, tzinfo=PARIS)
    await subscriptions.subscribe(Address("inprocess", "vallee"), "collecte", at, "t", "vallee")
    await subscriptions.subscribe(Address("inprocess", "bourg"), "collecte", at, "t", "bourg")
    await subscriptions.subscribe(Address("inprocess", "menus"), "cantine", at, "t")
    await subscriptions.subscribe(Address("inprocess", "agenda"), "agenda", at, "t")


async def _run_at(knowledge: Knowledge, store: Store, now: datetime) -> dict[str, list[str]]:
    """Plan at `now` with a fresh scheduler (as after a restart), deliver, and report."""
    clock = Clock(now)
    outbox = Outbox(store, clock=clock)
    scheduler = NoticeScheduler(lambda: knowledge, outbox, NoticeTimes(), clock=clock)
    await scheduler.plan()
    channel = InProcessChannel()
    worker = DeliveryWorker(outbox, channel, DeliverySettings(rate_per_second=10_000), clock=clock)
    while await worker.deliver_batch():
        pass
    received: dict[str, list[str]] = {}
    for push in channel.pushes:
        received.setdefault(push.to.chat_id, []).append(push.text)
    return received


async def test_christmas_shift_reaches_the_right_streets(
    example_knowledge: Knowledge, store: Store
) -> None:
    await _residents(store)
    received = await _run_at(
        example_knowledge, store, datetime(2026, 12, 23, 19, 0, 30, tzinfo=PARIS)
    )
    assert set(received) == {"vallee", "bourg", "agenda"}
    assert "jeudi 24 décembre" in received["agenda"][0]  # the market moved for Christmas
    (vallee,) = received["vallee"]
    assert "vendredi 25 décembre" in vallee and "samedi 26 décembre" in vallee
    assert "Noël" in vallee and "ordures" in vallee
    (bourg,) = received["bourg"]
    assert "emballages" in bourg and "samedi 26 décembre" in bourg
    again = await _run_at(example_knowledge, store, datetime(2026, 12, 23, 19, 5, tzinfo=PARIS))
    assert again == {}  # a restart plans again and sends nothing twice


async def test_the_eve_of_the_moved_collection(example_knowledge: Knowledge, store: Store) -> None:
    await _residents(store)
    christmas_eve = await _run_at(
        example_knowledge, store, datetime(2026, 12, 24, 19, 1, tzinfo=PARIS)
    )
    # no collection on Christmas Day, so no reminder on the 24th; the shift notice missed
    # on the 23rd (Crieur was down) is still useful, so it is caught up
    assert not any(text.startswith("Collecte de demain") for text in christmas_eve["vallee"])
    assert any(text.startswith("Collecte décalée") for text in christmas_eve["vallee"])
    received = await _run_at(example_knowledge, store, datetime(2026, 12, 25, 19, 1, tzinfo=PARIS))
    (eve,) = received["vallee"]
    assert "samedi 26 décembre" in eve and "reportée" in eve


async def test_new_year_week(example_knowledge: Knowledge, store: Store) -> None:
    await _residents(store)
    received = await _run_at(
        example_knowledge, store, datetime(2026, 12, 30, 19, 0, 5, tzinfo=PARIS)
    )
    texts = " ".join(received.get("vallee", []))
    assert "vendredi 1er janvier" in texts and "samedi 2 janvier" in texts


async def test_menu_on_a_school_day_and_not_in_the_holidays(
    example_knowledge: Knowledge, store: Store
) -> None:
    await _residents(store)
    school_day = await _run_at(
        example_knowledge, store, datetime(2026, 12, 14, 7, 31, tzinfo=PARIS)
    )
    assert any("lundi 14 décembre" in text for text in school_day.get("menus", []))
    holidays = await _run_at(example_knowledge, store, datetime(2026, 12, 28, 7, 31, tzinfo=PARIS))
    assert "menus" not in holidays


async def test_stale_notices_are_not_caught_up(example_knowledge: Knowledge, store: Store) -> None:
    await _residents(store)
    # the 25 December eve notice (for the 26th) is stale once the collection has started
    late = await _run_at(example_knowledge, store, datetime(2026, 12, 26, 9, 0, tzinfo=PARIS))
    assert "vallee" not in late


async def test_future_notices_become_jobs(example_knowledge: Knowledge, store: Store) -> None:
    clock = Clock(datetime(2026, 12, 23, 12, 0, tzinfo=PARIS))
    outbox = Outbox(store, clock=clock)
    scheduler = NoticeScheduler(lambda: example_knowledge, outbox, NoticeTimes(), clock=clock)
    scheduler.start()
    try:
        planned = await scheduler.plan()
        assert scheduler._scheduler is not None
        ids = {job.id for job in scheduler._scheduler.get_jobs()}
        assert {"plan", "broadcasts"} <= ids
        assert "decalage:vallee:ordures:2026-12-25" in ids
        assert "collecte:vallee:2026-12-26" not in ids or planned > 0
        assert await scheduler.plan() == planned  # replanning replaces, never duplicates
        assert len(scheduler._scheduler.get_jobs()) == len(ids)
    finally:
        scheduler.shutdown()
