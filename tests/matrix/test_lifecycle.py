"""A resident's life with the Matrix bot, end to end on the real Synapse: a dated question,
a subscription made in conversation and the evening notice it brings (at a frozen 19:00),
and the homeserver going away for a while (the bot backs off, then answers again).

The last test stops and restarts the session's Synapse (the `outage` fixture starts it again
whatever happens), through a counting proxy the bot is pointed at."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.delivery import DeliveryWorker
from bot.dispatcher import Dispatcher
from bot.messages import Address
from bot.outbox import Outbox
from bot.scheduler import NoticeScheduler
from bot.store import Store
from knowledge.notices import NoticeTimes
from knowledge.snapshot import Knowledge
from tests.matrix.conftest import (
    CountingProxy,
    Crieur,
    Outage,
    Synapse,
    bot_options,
    started,
)
from tests.matrix.resident import Resident

PARIS = ZoneInfo("Europe/Paris")
EVENING = datetime(2026, 12, 2, 19, 0, 20, tzinfo=PARIS)  # a Wednesday, the eve of Thursday's
DOWN_FOR = 8.0  # seconds Synapse stays stopped
DATED = re.compile(r"samedi \d{1,2}(?:er)? [a-zéû]+")  # "samedi 28 novembre"


async def test_a_dated_question_is_answered_with_the_day(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id])
    question = "la mairie est ouverte samedi ?"
    expected = crieur.knowledge.answer(question, datetime.now(PARIS)).text
    day = DATED.search(expected)
    assert day is not None, expected  # the pack resolves "samedi" to a date
    reply = await crieur.resident.ask(room, question)
    assert reply.source["content"]["msgtype"] == "m.notice"
    assert day.group() in reply.body, reply.body
    assert "mairie" in reply.body.lower()


class Frozen:
    """A clock stopped at one instant."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_subscribed_in_conversation_the_resident_gets_the_evening_notice(
    crieur: Crieur,
) -> None:
    resident = crieur.resident
    room = await resident.room([crieur.synapse.bot.user_id], encrypted=True)
    reply = await resident.ask(room, "!abonner collecte rue des Genêts")
    assert "rue des Genêts" in reply.body and "abonné" in reply.body, reply.body
    assert crieur.dispatcher.subscriptions is not None
    found = await crieur.dispatcher.subscriptions.of(Address("matrix", room))
    assert [(s.topic, s.zone) for s in found] == [("collecte", "hauts")]

    frozen = Frozen(EVENING)
    outbox = Outbox(crieur.store, clock=frozen)
    scheduler = NoticeScheduler(lambda: crieur.knowledge, outbox, NoticeTimes(), clock=frozen)
    await scheduler.plan()
    worker = DeliveryWorker(outbox, crieur.channel, clock=frozen)
    assert await worker.deliver_batch() == 1
    notice = (await resident.next_messages(room, 2))[1]
    assert notice.decrypted and notice.source["content"]["msgtype"] == "m.notice"
    assert notice.body.startswith("Collecte de demain, jeudi 3 décembre"), notice.body
    assert notice.source["content"]["m.mentions"] == {}
    # Planning again (a restart at 19:01) sends nothing twice.
    frozen.now = EVENING.replace(minute=1)
    await NoticeScheduler(lambda: crieur.knowledge, outbox, NoticeTimes(), clock=frozen).plan()
    assert await DeliveryWorker(outbox, crieur.channel, clock=frozen).deliver_batch() == 0
    await resident.quiet_for(1.0)
    assert len(resident.received[room]) == 2


@pytest.mark.parametrize("bad_gateway", [True, False], ids=["proxy-502", "cut"])
async def test_while_synapse_is_down_the_bot_backs_off_then_answers_again(
    synapse: Synapse,
    example_knowledge: Knowledge,
    tmp_path: Path,
    outage: Outage,
    bad_gateway: bool,
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    dispatcher = Dispatcher(lambda: example_knowledge)
    resident = Resident(synapse.url, synapse.resident, tmp_path / "resident")
    async with CountingProxy(synapse.port, bad_gateway=bad_gateway) as proxy:
        options = bot_options(synapse, tmp_path, homeserver=proxy.url)
        channel = await started(store, options, dispatcher)
        await resident.login()
        try:
            room = await resident.room([synapse.bot.user_id])
            assert (await resident.ask(room, "bonjour")).body.startswith("Bonjour")
            await outage.stop()
            down_at = time.monotonic()
            await asyncio.sleep(DOWN_FOR)
            attempts = proxy.since(down_at)
            health = channel.health()
            await outage.restart()
            async with asyncio.timeout(45):  # the next attempt is at most 16 s away
                await channel.wait_ready()
            reply = await resident.ask(room, "Comment faire un passeport ?")
            assert "passeport" in reply.body.lower()
            assert channel.health()["state"] == "connecté"
        finally:
            await resident.close()
            await channel.stop()
            await store.close()
    # A round is one sync attempt: aiohttp resends an idempotent GET once when the server
    # cut the connection (RFC 9112 §9.3.1.1), so a round is one or two requests.
    rounds = rounds_of([at for at, _ in attempts])
    # 1 s, 2 s, 4 s between rounds: three or four rounds in 8 s, not hundreds.
    assert 2 <= len(rounds) <= 4, attempts
    assert len(attempts) <= 2 * len(rounds), attempts
    assert all(line.split()[1].startswith("/_matrix/client/") for _, line in attempts)
    gaps = [later - earlier for earlier, later in itertools.pairwise(rounds)]
    assert all(gap >= 0.9 for gap in gaps), gaps
    assert all(later >= earlier * 1.5 for earlier, later in itertools.pairwise(gaps)), gaps
    assert health["state"] == "homeserver injoignable, nouvelle tentative", health


def rounds_of(times: list[float], within: float = 0.25) -> list[float]:
    """The starts of bursts of requests (requests less than `within` s apart are one)."""
    starts = times[:1]
    for earlier, later in itertools.pairwise(times):
        if later - earlier > within:
            starts.append(later)
    return starts
