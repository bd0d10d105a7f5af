"""The composition root: builds the knowledge, the store, the core, the outbox and the
channels, and runs them until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from aiohttp import web

from bot.channel import Channel, WebhookChannel
from bot.channel_registry import configured_channels, editable_pack
from bot.config import Settings, WebSection
from bot.delivery import DeliverySettings, DeliveryWorker
from bot.dispatcher import Dispatcher
from bot.leadership import Leadership
from bot.ops import Metrics, ops_routes
from bot.outbox import Outbox
from bot.question_recorder import QuestionRecorder
from bot.quiet import QuietHours
from bot.scheduler import NoticeScheduler, notice_times
from bot.shared_conversations import StoredConversations
from bot.store import Store
from bot.store.migrate import migrate_in_child
from bot.store.schema import SCHEMA_REVISION
from bot.subscriptions import Subscriptions
from channels.web import create_web_app
from channels.web.lazy_app import LazySubApp
from knowledge.snapshot import Knowledge

log = logging.getLogger(__name__)
FEED_PAST_DAYS = 31
LEADERSHIP_RETRY_SECONDS = 5.0
WORKERS_STOP_SECONDS = 30.0  # for the sends under way when stopping


class App:
    """One running Crieur: a knowledge snapshot, the dispatcher, the store, the outbox's
    delivery workers, the notice scheduler, the web server, and the push channels."""

    def __init__(
        self,
        settings: Settings,
        channels: Sequence[Channel] = (),
        tenant: str | None = None,
        knowledge: Knowledge | None = None,
    ) -> None:
        self.settings = settings
        self.tenant = tenant  # the commune's id when the process serves several
        self.pack_path = editable_pack(settings)
        self.knowledge = knowledge or Knowledge.load(self.pack_path)
        self.channels = tuple(channels) or configured_channels(settings, self.knowledge)
        push = {c.name for c in self.channels if c.capabilities.can_push}
        self.dispatcher = Dispatcher(lambda: self.knowledge, push_channels=push)
        self.store: Store | None = None
        self.outbox: Outbox | None = None
        self.scheduler: NoticeScheduler | None = None
        self.workers: list[DeliveryWorker] = []
        self.leaderships: list[Leadership] = []
        self.metrics = Metrics()
        self.handle = self.metrics.measured(self.dispatcher.handle)
        self._stop = asyncio.Event()
        self._worker_tasks: list[asyncio.Task[None]] = []
        self._waiting: list[asyncio.Task[None]] = []  # one-process channels awaiting their lock

    def _role(self, channel: Channel, what: str) -> str:
        """A lock name, unique per commune and channel in the shared database."""
        return f"{self.tenant}:{channel.name}-{what}" if self.tenant else f"{channel.name}-{what}"

    async def open_store(self) -> Outbox:
        """Open (and migrate) the store; build the subscriptions and the outbox on it."""
        url, schema = self.settings.storage_url(), self.settings.storage.schema_name
        store = await Store.open(url, migrate=False, schema=schema)
        if await store.revision() != SCHEMA_REVISION:
            # Alembic's memory is not kept by the long-running process
            await migrate_in_child(url, schema)
        self.store = store
        for channel in self.channels:
            use_store = getattr(channel, "use_store", None)  # channels that keep state in it
            if use_store is not None:
                use_store(store)
            use_leadership = getattr(channel, "use_leadership", None)  # one poller among many
            if use_leadership is not None:
                leadership = Leadership(store, self._role(channel, "polling"))
                self.leaderships.append(leadership)
                use_leadership(leadership)
        notices = self.settings.notices
        quiet = QuietHours(notices.quiet_start, notices.quiet_end, self.knowledge.pack.commune.tz)
        self.outbox = Outbox(self.store, quiet)
        self.dispatcher.subscriptions = Subscriptions(self.store)
        if store.dialect == "postgresql":  # several processes may answer one conversation
            self.dispatcher.conversations = StoredConversations(store)
        self.dispatcher.recorder = QuestionRecorder(self.store)
        return self.outbox

    def zone_feed(self, zone: str) -> bytes | None:
        """A zone's collection days as iCalendar, from a month ago to the calendar's end."""
        knowledge = self.knowledge
        collecte, calendar = knowledge.pack.collecte, knowledge.dated.collection_calendar
        if collecte is None or calendar is None or zone not in {z.id for z in collecte.zones}:
            return None
        from knowledge.calendars.ics import zone_ics  # only paid when a feed is asked for

        today = datetime.now(knowledge.pack.commune.tz).date()
        start = max(collecte.period.start, today - timedelta(days=FEED_PAST_DAYS))
        return zone_ics(
            calendar, collecte, zone, start, collecte.period.end, knowledge.pack.commune.name
        )

    def _admin(self) -> web.Application:
        """The agents' back-office, mounted at /admin."""
        from channels.web.admin import AdminServices, create_admin_app

        telegram_html = None
        if any(c.name == "telegram" for c in self.channels):
            from channels.telegram.render import to_html  # imports python-telegram-bot

            telegram_html = to_html

        assert self.store is not None and self.outbox is not None
        return create_admin_app(
            AdminServices(
                store=self.store,
                knowledge=lambda: self.knowledge,
                reload=self.reload,
                pack_path=self.pack_path,
                outbox=self.outbox,
                secure_cookies=(self.settings.web.public_url or "").startswith("https://"),
                telegram_html=telegram_html,
            )
        )

    def health(self) -> dict[str, object]:
        """Each messaging channel's state, for `/healthz`."""
        return {channel.name: channel.health() for channel in self.channels}

    def reload(self) -> None:
        """Swap in a freshly loaded snapshot of the pack (raises PackError if broken)."""
        self.knowledge = Knowledge.load(self.pack_path)

    async def start(self) -> None:
        """Open the store, then start the delivery workers, channels, scheduler and recorder."""
        outbox = await self.open_store()
        self._stop = asyncio.Event()
        for channel in self.channels:
            if channel.capabilities.one_process and outbox.store.dialect == "postgresql":
                task = asyncio.create_task(self._start_when_leader(channel, outbox))
                self._waiting.append(task)
            else:
                await self._start_channel(channel, outbox)
        self.scheduler = NoticeScheduler(
            lambda: self.knowledge,
            outbox,
            notice_times(self.settings.notices),
            self.settings.notices.horizon_days,
            retention_days=self.settings.privacy.retention_days,
            name=self.tenant or "",
        )
        self.scheduler.start()
        if self.dispatcher.recorder is not None:
            self.dispatcher.recorder.start()

    async def _start_channel(self, channel: Channel, outbox: Outbox) -> None:
        """Start the channel, and its delivery worker when it can push."""
        if channel.capabilities.can_push:
            delivery = self.settings.outbox
            settings = DeliverySettings(
                rate_per_second=delivery.rate_per_second,
                batch=delivery.batch,
                max_attempts=delivery.max_attempts,
                lease_seconds=delivery.lease_seconds,
            )
            worker = DeliveryWorker(outbox, channel, settings)
            self.workers.append(worker)
            self._worker_tasks.append(asyncio.create_task(worker.run(self._stop)))
        await channel.start(self.handle)

    async def _start_when_leader(self, channel: Channel, outbox: Outbox) -> None:
        """Run a one-process channel once this process holds its lock (at once if free;
        otherwise when the process holding it stops)."""
        leadership = Leadership(outbox.store, self._role(channel, "session"))
        self.leaderships.append(leadership)
        while not await leadership():
            with contextlib.suppress(TimeoutError):  # a lock held elsewhere has no event
                await asyncio.wait_for(self._stop.wait(), LEADERSHIP_RETRY_SECONDS)
            if self._stop.is_set():
                return
        log.info("%s: this process runs the channel", channel.name)
        await self._start_channel(channel, outbox)

    async def stop(self) -> None:
        """Finish in-flight sends, stop the channels, flush the questions, close the store."""
        for waiting in self._waiting:
            waiting.cancel()
        await asyncio.gather(*self._waiting, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()  # the running jobs finish their transactions
        self._stop.set()
        if self._worker_tasks:
            _, late = await asyncio.wait(self._worker_tasks, timeout=WORKERS_STOP_SECONDS)
            for task in late:  # a send that hangs: its row is sent again when its lease ends
                task.cancel()
            await asyncio.gather(*self._worker_tasks, return_exceptions=True)
        for channel in self.channels:
            await channel.stop()
        if self.dispatcher.recorder is not None:
            await self.dispatcher.recorder.stop()
        for leadership in self.leaderships:
            await leadership.release()
        if self.store is not None:
            await self.store.close()

    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM."""
        await self.start()
        try:
            await serve(self.web_app(), self.settings.web, on_ready)
        finally:
            await self.stop()

    def web_app(self) -> web.Application:
        """The web chat, its API, the webhooks, the ops routes and the back-office."""
        web_settings = self.settings.web
        app = create_web_app(
            self.handle,
            self.knowledge.pack.commune.name,
            web_settings.max_body_bytes,
            feeds=self.zone_feed,
            health=self.health,
            extra_routes=[
                route
                for channel in self.channels
                if isinstance(channel, WebhookChannel)
                for route in channel.routes()
            ]
            + ops_routes(lambda: self.store, self.health, self.metrics, lambda: self.workers),
            allowed_origins=web_settings.allowed_origins,
            session_rate_per_minute=web_settings.session_rate_per_minute,
            ip_rate_per_minute=web_settings.ip_rate_per_minute,
            push_registered=next(
                (
                    registered
                    for channel in self.channels
                    if (registered := getattr(channel, "registered", None)) is not None
                ),
                None,
            ),
        )
        admin = LazySubApp("/admin", self._admin)  # built at an agent's first visit
        app.router.register_resource(admin)

        async def close_admin(_: web.Application) -> None:
            await admin.close()

        app.on_cleanup.append(close_admin)
        return app


async def serve(
    app: web.Application, web_settings: WebSection, on_ready: Callable[[str], None] | None
) -> None:
    """Serve `app` on the configured address until SIGINT or SIGTERM."""
    stop = asyncio.Event()
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        site = web.TCPSite(runner, web_settings.host, web_settings.port)
        await site.start()
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}"
        log.info("web chat ready on %s", url)
        if on_ready is not None:
            on_ready(url)
        await stop.wait()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await runner.cleanup()
