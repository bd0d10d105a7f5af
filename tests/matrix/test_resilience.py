"""The Matrix channel when the homeserver misbehaves: it answers 502, refuses the password,
or restarts. `crieur run` must never die of it, nor hammer the server.

This module restarts the session's Synapse: it runs after the other Matrix tests (pytest
takes files in alphabetical order)."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from aiohttp import web

from bot.channel import Push, TransientError
from bot.dispatcher import Dispatcher
from bot.messages import Address, Answer, Inbound
from bot.store import Store
from channels.matrix import MatrixChannel, MatrixOptions
from knowledge.snapshot import Knowledge
from tests.matrix.conftest import Crieur, Synapse, bot_options


async def _never(inbound: Inbound) -> Answer:
    raise AssertionError("no message can arrive")


async def _eventually(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    """Check a state the channel shows only in `health()` (it has no event to await)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


async def test_a_homeserver_answering_502_gets_only_a_few_requests(tmp_path: Path) -> None:
    hits: list[float] = []

    async def bad_gateway(request: web.Request) -> web.Response:
        hits.append(time.monotonic())
        return web.Response(status=502, text="<html>Bad Gateway</html>", content_type="text/html")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", bad_gateway)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    channel = MatrixChannel(
        None,  # the app opens the store after building its channels
        MatrixOptions(
            homeserver=f"http://127.0.0.1:{port}",
            user_id="@crieur:localhost",
            access_token="syt_jeton",
            store_path=tmp_path / "e2e",
        ),
    )
    with pytest.raises(RuntimeError, match="use_store"):
        await channel.start(_never)
    channel.use_store(store)
    try:
        began = time.monotonic()
        await channel.start(_never)
        assert time.monotonic() - began < 0.2  # start() returns at once
        await asyncio.sleep(4.5)
        health = channel.health()
        with pytest.raises(TransientError):  # the outbox will try again later
            await channel.push(Push("k", Address("matrix", "!salon:localhost"), "a", "a", "x"))
    finally:
        await channel.stop()
        await runner.cleanup()
        await store.close()
    # 1 s, then 2 s, then 4 s between attempts: 3 requests in 4.5 s, not thousands.
    assert 2 <= len(hits) <= 4, hits
    gaps = [later - earlier for earlier, later in itertools.pairwise(hits)]
    assert all(gap >= 0.9 for gap in gaps) and gaps == sorted(gaps), gaps
    assert health["state"] == "homeserver injoignable, nouvelle tentative"
    assert "502" in str(health["last_error"])


async def test_a_refused_password_is_reported_and_not_retried(
    synapse: Synapse, example_knowledge: Knowledge, tmp_path: Path
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    channel = MatrixChannel(store, bot_options(synapse, tmp_path, password="pas le bon"))
    try:
        await channel.start(Dispatcher(lambda: example_knowledge).handle)
        await _eventually(lambda: channel.health()["state"] != "démarrage")
        assert channel.health()["state"] == "identifiants refusés par le homeserver"
        assert "M_FORBIDDEN" in str(channel.health()["last_error"])
        assert channel._runner is not None and channel._runner.done()
    finally:
        await channel.stop()
        await store.close()


async def test_the_channel_reconnects_after_a_homeserver_restart(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id])
    assert (await crieur.resident.ask(room, "bonjour")).body.startswith("Bonjour")
    crieur.synapse.stop()
    await _eventually(lambda: crieur.channel.health()["state"] != "connecté")
    assert "injoignable" in str(crieur.channel.health()["state"])
    crieur.synapse.start()
    async with asyncio.timeout(30):
        await crieur.channel.wait_ready()
    reply = await crieur.resident.ask(room, "Comment faire un passeport ?")
    assert "passeport" in reply.body.lower()
    assert crieur.channel.health() == {"state": "connecté", "homeserver": crieur.synapse.url}
