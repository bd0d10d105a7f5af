"""Turns the pack's calendars into published notices at the right time, with APScheduler.

Nothing is kept only in memory: at every start, and every hour after, the plan for the next
days is derived again from the pack (`knowledge.notices.plan_notices`) and each notice gets a
job at its time; a notice whose time passed while Crieur was down is published at once if it
is still useful. Publishing is idempotent (notice keys are unique in the store), so planning
twice, or two processes planning, sends nothing twice. Agents' scheduled broadcasts are read
from the store every few seconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.broadcasts import Broadcasts
from bot.config import NoticesSection
from bot.outbox import Outbox, OutgoingNotice, utcnow
from knowledge.notices import NoticeTimes, PlannedNotice, plan_notices
from knowledge.snapshot import Knowledge

log = logging.getLogger(__name__)
BROADCAST_POLL_SECONDS = 5


def notice_times(settings: NoticesSection) -> NoticeTimes:
    """The configured notice times, as the knowledge's producers take them."""
    return NoticeTimes(
        collection=settings.collection,
        shift=settings.shift,
        shift_days_before=settings.shift_days_before,
        menu=settings.menu,
        event=settings.event,
        event_days_before=settings.event_days_before,
    )


def outgoing(notice: PlannedNotice) -> OutgoingNotice:
    """The outbox's view of a planned notice."""
    return OutgoingNotice(
        key=notice.key,
        kind=notice.kind,
        topics=notice.topics,
        zone=notice.zone,
        text=notice.text,
        not_before=notice.at,
        not_after=notice.not_after,
    )


class NoticeScheduler:
    """Plans and publishes the notices of one pack."""

    def __init__(
        self,
        knowledge: Callable[[], Knowledge],
        outbox: Outbox,
        times: NoticeTimes,
        horizon_days: int = 2,
        clock: Callable[[], datetime] = utcnow,
        retention_days: int = 30,
        name: str = "",
    ) -> None:
        self._knowledge = knowledge
        self._log_prefix = f"[{name}] " if name else ""  # which commune, when several
        self.outbox = outbox
        self.broadcasts = Broadcasts(outbox)
        self.times = times
        self.horizon = timedelta(days=horizon_days)
        self.clock = clock
        self.retention_days = retention_days
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[object]] = set()

    def start(self) -> None:
        """Start APScheduler on the running loop: hourly planning and the broadcast poll."""
        tz = self._knowledge().pack.commune.tz
        scheduler = AsyncIOScheduler(timezone=tz)
        scheduler.add_job(self._job, CronTrigger(minute=3, timezone=tz), args=(self.plan,),
                          id="plan", next_run_time=datetime.now(tz), coalesce=True,
                          max_instances=1)  # fmt: skip
        scheduler.add_job(self._job, IntervalTrigger(seconds=BROADCAST_POLL_SECONDS),
                          args=(self.publish_broadcasts,), id="broadcasts", coalesce=True,
                          max_instances=1)  # fmt: skip
        scheduler.add_job(self._job, CronTrigger(hour=3, minute=17, timezone=tz),
                          args=(self.purge,), id="purge", coalesce=True,
                          max_instances=1)  # fmt: skip
        scheduler.start()
        self._scheduler = scheduler

    async def stop(self) -> None:
        """Run no more jobs, and wait for the running ones (never cut mid-transaction)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None:
            return
        scheduler.pause()
        await asyncio.sleep(0)  # jobs handed to the event loop just now register themselves
        while self._running:
            await asyncio.wait(set(self._running))
        scheduler.shutdown(wait=False)

    def shutdown(self) -> None:
        """Run no more jobs; the running ones carry on to their end (see `stop`)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    async def _job(self, work: Callable[..., Coroutine[Any, Any, object]], *args: object) -> None:
        """Run one job in a task of its own, out of the reach of APScheduler's shutdown.

        APScheduler cancels the coroutine jobs still running when it shuts down; a job
        cancelled inside a store transaction would lose its work and, on SQLite, leave the
        database locked for a while. `stop()` waits for these tasks instead.
        """
        task = asyncio.create_task(work(*args))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        await asyncio.shield(task)

    def upcoming(self, now: datetime) -> list[PlannedNotice]:
        """Notices from yesterday (for catching up) to the planning horizon."""
        knowledge = self._knowledge()
        today = now.astimezone(knowledge.pack.commune.tz).date()
        return plan_notices(
            knowledge, today - timedelta(days=1), (now + self.horizon).date(), self.times
        )

    async def plan(self) -> int:
        """Publish what is due, give every later notice a job; returns the jobs planned."""
        now = self.clock()
        planned = 0
        for notice in self.upcoming(now):
            if notice.not_after <= now:
                continue
            if notice.at <= now:
                await self._publish(notice)
            elif self._scheduler is not None:
                self._scheduler.add_job(
                    self._job,
                    DateTrigger(run_date=notice.at),
                    args=(self._publish, notice),
                    id=notice.key,
                    replace_existing=True,
                    misfire_grace_time=max(1, int((notice.not_after - notice.at).total_seconds())),
                )
                planned += 1
        log.info("%sscheduler: %d notices planned", self._log_prefix, planned)
        return planned

    async def purge(self) -> dict[str, int]:
        """Delete questions and delivery traces older than the retention period (GDPR)."""
        from bot.privacy import purge

        deleted = await purge(self.outbox.store, self.clock(), self.retention_days)
        log.info("%sprivacy: purged %s", self._log_prefix, deleted)
        return deleted

    async def publish_broadcasts(self) -> None:
        for item in await self.broadcasts.publish_due(self.clock()):
            log.info(
                "%sbroadcast %d published to %d recipients",
                self._log_prefix,
                item.id,
                item.audience,
            )

    async def _publish(self, notice: PlannedNotice) -> None:
        try:
            result = await self.outbox.publish(outgoing(notice))
        except Exception:
            log.exception("scheduler: notice %s could not be published", notice.key)
            return
        if result.created:
            log.info(
                "%snotice %s published to %d recipients",
                self._log_prefix,
                notice.key,
                result.audience,
            )
