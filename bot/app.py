"""The composition root: builds the knowledge, the core and the channels, and runs them."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from datetime import datetime, timedelta

from aiohttp import web

from bot.config import Settings
from bot.dispatcher import Dispatcher
from channels.web import create_web_app
from knowledge.snapshot import Knowledge

log = logging.getLogger(__name__)
FEED_PAST_DAYS = 31


class App:
    """One running Crieur: a knowledge snapshot, the dispatcher, and the web server."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.knowledge = Knowledge.load(settings.pack_path())
        self.dispatcher = Dispatcher(lambda: self.knowledge)

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

    def reload(self) -> None:
        """Swap in a freshly loaded snapshot of the pack (raises PackError if broken)."""
        self.knowledge = Knowledge.load(self.settings.pack_path())

    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve until SIGINT or SIGTERM."""
        web_settings = self.settings.web
        app = create_web_app(
            self.dispatcher.handle,
            self.knowledge.pack.commune.name,
            web_settings.max_body_bytes,
            feeds=self.zone_feed,
        )
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        stop = asyncio.Event()
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
