"""Two `crieur run` processes on one PostgreSQL: a 20,000-notice broadcast is delivered
exactly once between them, and only one of them polls Telegram."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import sys
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlalchemy import insert, select

from bot.app import App
from bot.config import load_settings
from bot.messages import InboundHandler
from bot.store import Store
from bot.store.schema import subscribers, subscriptions
from channels.inprocess import InProcessChannel
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.postgres import create_database, drop_database
from tests.processes import start_crieur, telegram_deployment

RECIPIENTS = 20_000


@pytest.fixture
async def database() -> AsyncIterator[str]:
    url = await asyncio.to_thread(create_database)
    yield url
    await asyncio.to_thread(drop_database, url)


async def _residents(url: str) -> None:
    store = await Store.open(url)
    now = datetime.now(UTC)
    async with store.begin() as connection:
        await connection.execute(insert(subscribers), [
            {"channel": "telegram", "chat_id": str(100_000 + n), "created_at": now,
             "last_seen_at": now, "active": True} for n in range(RECIPIENTS)])  # fmt: skip
        ids = (await connection.execute(select(subscribers.c.id))).scalars().all()
        await connection.execute(insert(subscriptions), [
            {"subscriber_id": i, "topic": "alertes", "zone": "", "created_at": now}
            for i in ids])  # fmt: skip
    await store.close()


async def _get(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        return await response.text()


async def test_two_processes_deliver_a_broadcast_exactly_once(
    database: str, tmp_path: Path
) -> None:
    await _residents(database)
    async with FakeTelegramAPI() as api, aiohttp.ClientSession() as session:
        config, env = telegram_deployment(tmp_path, database, api.port, api.token, 1000)
        processes = [await start_crieur(config, env) for _ in range(2)]
        try:
            broadcast = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "broadcast", "--config", str(config), "--topic",
                "alertes", "--yes", "--no-wait", "--urgent", "Exercice de sécurité civile.",
                stdout=asyncio.subprocess.DEVNULL, env=env,
            )  # fmt: skip
            assert await broadcast.wait() == 0
            await api.wait_for(lambda fake: len(fake.sent) >= RECIPIENTS, timeout=240)
            health = [json.loads(await _get(session, url + "/healthz")) for _, url in processes]
            metrics = [await _get(session, url + "/metrics") for _, url in processes]
            # before shutdown: PTB's last getUpdates on stopping ends its own long poll
            conflicts = [error for error in api.errors if error.status == 409]
        finally:
            for process, _ in processes:
                process.send_signal(signal.SIGTERM)
            for process, _ in processes:
                async with asyncio.timeout(30):
                    await process.wait()
    per_chat = Counter(message.chat_id for message in api.sent)
    assert len(per_chat) == RECIPIENTS and set(per_chat.values()) == {1}
    sent = [int(m.group(1)) for text in metrics
            for m in [re.search(r'crieur_outbox_sent_total\{channel="telegram"\} (\d+)', text)]
            if m]  # fmt: skip
    assert sum(sent) == RECIPIENTS and min(sent) > 0  # both processes took their share
    polling = [h["channels"]["telegram"].get("polling") for h in health]
    assert sorted(polling) == [False, True]  # one poller, the other only sends
    assert conflicts == []  # two pollers would have ended each other's long polls


class _SessionChannel(InProcessChannel):
    """A channel bound to one process, like Matrix with its end-to-end keys on disk."""

    def __init__(self) -> None:
        super().__init__("session")
        self.capabilities = replace(self.capabilities, one_process=True)
        self.started = asyncio.Event()

    async def start(self, handler: InboundHandler) -> None:
        self.started.set()
        await super().start(handler)


async def test_a_one_process_channel_runs_in_one_process_then_moves_on(
    database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.app.LEADERSHIP_RETRY_SECONDS", 0.1)
    settings = load_settings(
        env={"CRIEUR_STORAGE_URL": database, "CRIEUR_DATA_DIR": str(tmp_path),
             "CRIEUR_WEBPUSH_ENABLED": "false"}
    )  # fmt: skip
    channels = [_SessionChannel(), _SessionChannel()]
    apps = [App(settings, channels=[channel]) for channel in channels]
    for app in apps:
        await app.start()
    try:
        async with asyncio.timeout(10):
            await channels[0].started.wait()  # the first to start takes the lock
        await asyncio.sleep(0.5)
        assert [c.started.is_set() for c in channels] == [True, False]
        assert [len(app.workers) for app in apps] == [1, 0]  # nor does the other deliver
        await apps[0].stop()
        async with asyncio.timeout(10):
            await channels[1].started.wait()
        assert len(apps[1].workers) == 1
    finally:
        await apps[1].stop()
