"""The Telegram channel end to end: the real python-telegram-bot against the fake Bot API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import insert, select

from bot.delivery import DeliverySettings, DeliveryWorker
from bot.dispatcher import Dispatcher
from bot.outbox import Outbox
from bot.scheduler import NoticeScheduler
from bot.store import Store
from bot.store.schema import subscribers, subscriptions
from bot.subscriptions import Subscriptions
from channels.telegram import TelegramChannel, TelegramOptions
from knowledge.notices import NoticeTimes
from knowledge.snapshot import Knowledge
from tests.fakes.telegram_api import FakeTelegramAPI

PARIS = ZoneInfo("Europe/Paris")
RESIDENT = 7001


@dataclass
class Crieur:
    """The pieces `crieur run` composes, around one Telegram channel."""

    api: FakeTelegramAPI
    channel: TelegramChannel
    store: Store
    dispatcher: Dispatcher
    knowledge: Knowledge

    async def said(self, text: str, chat: int = RESIDENT) -> str:
        before = len(self.api.sent_to(chat))
        self.api.inject_message(chat, text)
        await self.api.wait_for(lambda api: len(api.sent_to(chat)) > before)
        return self.api.sent_to(chat)[-1].plain_text

    async def subscribed(self, chat: int = RESIDENT) -> list[tuple[str, str]]:
        assert self.dispatcher.subscriptions is not None
        found = await self.dispatcher.subscriptions.of(_address(chat))
        return [(s.topic, s.zone) for s in found]


async def _eventually(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    """Check a state the channel shows only on /healthz (it has no event to await)."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met")


def _address(chat: int) -> object:
    from bot.messages import Address

    return Address("telegram", str(chat))


def _options(api: FakeTelegramAPI, **extra: object) -> TelegramOptions:
    return TelegramOptions(token=api.token, base_url=f"http://127.0.0.1:{api.port}",
                           poll_timeout=1, **extra)  # type: ignore[arg-type]  # fmt: skip


@pytest.fixture
async def crieur(example_knowledge: Knowledge, tmp_path: Path) -> AsyncIterator[Crieur]:
    async with FakeTelegramAPI() as api:
        store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
        dispatcher = Dispatcher(
            lambda: example_knowledge,
            subscriptions=Subscriptions(store),
            push_channels={"telegram"},
        )
        channel = TelegramChannel(_options(api))
        await channel.start(dispatcher.handle)
        async with asyncio.timeout(10):
            await channel.wait_ready()
        try:
            yield Crieur(api, channel, store, dispatcher, example_knowledge)
        finally:
            await channel.stop()
            await store.close()


async def test_start_registers_french_commands_and_greets(crieur: Crieur) -> None:
    names = [command["command"] for command in crieur.api.commands]
    assert names == ["aide", "abonner", "abonnements", "desabonner", "stop"]
    assert "Morvelay" in await crieur.said("/start")
    assert crieur.channel.health()["state"] == "connecté"


async def test_a_faq_question_and_a_dated_question(crieur: Crieur) -> None:
    entry = crieur.knowledge.pack.faq[1]
    reply = await crieur.said(entry.question)
    assert reply[:40] in crieur.knowledge.answer(entry.question, datetime.now(PARIS)).text.replace(
        "**", ""
    )
    sent = crieur.api.sent_to(RESIDENT)[-1]
    assert sent.parse_mode == "HTML"
    assert "samedi" in (await crieur.said("la mairie est ouverte samedi ?")).lower()


async def test_subscribe_with_buttons_and_with_words_then_stop(crieur: Crieur) -> None:
    await crieur.said("/abonner")
    menu = crieur.api.sent_to(RESIDENT)[-1]
    assert "abo:cantine" in menu.callback_data
    crieur.api.inject_callback(RESIDENT, "abo:cantine", message_id=menu.message_id)
    await crieur.api.wait_for(lambda api: len(api.callbacks_answered) == 1)
    await crieur.api.wait_for(lambda api: "abonné" in api.sent_to(RESIDENT)[-1].plain_text)
    reply = await crieur.said("je veux les alertes poubelles rue des Genêts")
    assert "rue des Genêts" in reply
    assert await crieur.subscribed() == [("cantine", ""), ("collecte", "hauts")]
    assert "effacées" in await crieur.said("/stop")
    assert await crieur.subscribed() == []


async def test_the_evening_notice_arrives_at_19(crieur: Crieur) -> None:
    await crieur.said("/abonner collecte rue des Genêts")
    evening = datetime(2026, 12, 2, 19, 0, 20, tzinfo=PARIS)
    outbox = Outbox(crieur.store, clock=lambda: evening)
    scheduler = NoticeScheduler(
        lambda: crieur.knowledge, outbox, NoticeTimes(), clock=lambda: evening
    )
    await scheduler.plan()
    worker = DeliveryWorker(outbox, crieur.channel, clock=lambda: evening)
    await worker.deliver_batch()
    notice = crieur.api.sent_to(RESIDENT)[-1].plain_text
    assert notice.startswith("Collecte de demain, jeudi 3 décembre")


async def test_a_broadcast_to_1000_chats_with_429s_is_delivered_once(crieur: Crieur) -> None:
    chats = range(10_001, 11_001)
    now = datetime.now(PARIS)
    async with crieur.store.begin() as connection:
        await connection.execute(
            insert(subscribers),
            [{"channel": "telegram", "chat_id": str(c), "created_at": now, "last_seen_at": now,
              "active": True} for c in chats],
        )  # fmt: skip
        ids = (await connection.execute(select(subscribers.c.id))).scalars().all()
        await connection.execute(
            insert(subscriptions),
            [{"subscriber_id": i, "topic": "alertes", "zone": "", "created_at": now} for i in ids],
        )
    from bot.outbox import OutgoingNotice

    outbox = Outbox(crieur.store)
    published = await outbox.publish(
        OutgoingNotice(
            "annonce:t",
            "annonce",
            ("alertes",),
            None,
            "Tempête : restez chez vous.",
            now,
            urgent=True,
        )
    )
    assert published.audience == 1000
    crieur.api.fail_next("sendMessage", 429, retry_after=1, count=3)
    worker = DeliveryWorker(outbox, crieur.channel, DeliverySettings(rate_per_second=400))
    async with asyncio.timeout(60):
        while not (await outbox.progress(published.notice_id)).done:
            await worker.deliver_batch()
    per_chat = [len(crieur.api.sent_to(c)) for c in chats]
    assert per_chat == [1] * 1000
    assert crieur.api.count_429 >= 3


async def test_a_blocked_bot_unsubscribes_the_resident(crieur: Crieur) -> None:
    await crieur.said("/abonner alertes")
    crieur.api.block(RESIDENT)
    from bot.outbox import OutgoingNotice

    outbox = Outbox(crieur.store)
    now = datetime.now(PARIS)
    await outbox.publish(OutgoingNotice("annonce:b", "annonce", ("alertes",), None, "Info", now))
    await DeliveryWorker(outbox, crieur.channel).deliver_batch()
    async with crieur.store.connect() as connection:
        active = await connection.scalar(
            select(subscribers.c.active).where(subscribers.c.chat_id == str(RESIDENT))
        )
    assert active is False


async def test_polling_survives_502_and_reports_a_conflict(crieur: Crieur) -> None:
    crieur.api.fail_next("getUpdates", 502, count=2)
    assert "Morvelay" in await crieur.said("/aide")
    crieur.api.fail_next("getUpdates", 409, "Conflict: terminated by other getUpdates request")
    await crieur.api.wait_for(lambda api: not api._failures.get("getupdates"))
    await _eventually(lambda: "conflit" in str(crieur.channel.health()["state"]))
    assert "Morvelay" in await crieur.said("/aide")  # polling resumed
    assert crieur.channel.health()["state"] == "connecté"


async def test_unreachable_telegram_never_stops_crieur() -> None:
    channel = TelegramChannel(
        TelegramOptions(token="1:x", base_url="http://127.0.0.1:9", poll_timeout=1)
    )

    async def handler(inbound: object) -> object:
        raise AssertionError("no message can arrive")

    await channel.start(handler)  # type: ignore[arg-type]
    await _eventually(lambda: channel.health()["state"] != "démarrage")
    assert channel.health()["state"] == "Telegram injoignable"
    await channel.stop()


async def test_webhook_checks_the_secret_token(example_knowledge: Knowledge) -> None:
    async with FakeTelegramAPI() as api:
        dispatcher = Dispatcher(lambda: example_knowledge)
        channel = TelegramChannel(
            _options(api, mode="webhook", webhook_url="https://bot.example", secret_token="s3cr3t")
        )
        await channel.start(dispatcher.handle)
        async with asyncio.timeout(10):
            await channel.wait_ready()
        assert api.webhook is not None and api.webhook.url.endswith("/webhooks/telegram")
        app = web.Application()
        app.router.add_routes(channel.routes())
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            update = api.make_message_update(RESIDENT, "/aide")
            wrong = await client.post(
                "/webhooks/telegram", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "nope"},
            )  # fmt: skip
            assert wrong.status == 401
            missing = await client.post("/webhooks/telegram", json=update)
            assert missing.status == 401
            assert api.sent == []
            good = await client.post(
                "/webhooks/telegram", json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"},
            )  # fmt: skip
            assert good.status == 200
            await api.wait_for(lambda fake: len(fake.sent) == 1)
            garbage = await client.post(
                "/webhooks/telegram", data=b"{not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"},
            )  # fmt: skip
            assert garbage.status == 400
        await channel.stop()
