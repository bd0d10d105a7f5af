"""The WhatsApp channel end to end: signed webhooks in, the fake Graph API out, the real core."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select, update

from bot.channel import Push, PushNotAllowed, RateLimited, RecipientGone
from bot.dispatcher import Dispatcher
from bot.messages import Address
from bot.store import Store
from bot.store.schema import sent_messages, whatsapp_contacts
from bot.subscriptions import Subscriptions
from channels.whatsapp import WhatsAppChannel, WhatsAppOptions
from knowledge.snapshot import Knowledge
from tests.fakes.whatsapp_graph import (
    APP_SECRET,
    PHONE_NUMBER_ID,
    TOKEN,
    FakeGraphAPI,
    message_webhook,
    signed,
    status_webhook,
)

RESIDENT = "33611223344"
PATH = "/webhooks/whatsapp"


@dataclass
class Setup:
    graph: FakeGraphAPI
    channel: WhatsAppChannel
    client: TestClient[web.Request, web.Application]
    store: Store
    dispatcher: Dispatcher

    async def post(self, payload: dict[str, object]) -> int:
        body, headers = signed(payload)
        response = await self.client.post(PATH, data=body, headers=headers)
        await self.channel.drain()
        return response.status

    async def ask(self, text: str, wa_id: str = RESIDENT) -> dict[str, object]:
        self.graph.open_window(wa_id)
        before = len(self.graph.sent_to(wa_id))
        assert await self.post(message_webhook(wa_id, text)) == 200
        assert len(self.graph.sent_to(wa_id)) > before
        return self.graph.sent_to(wa_id)[-1]


@pytest.fixture
async def setup(example_knowledge: Knowledge, tmp_path: Path) -> AsyncIterator[Setup]:
    async with FakeGraphAPI() as graph:
        store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
        dispatcher = Dispatcher(
            lambda: example_knowledge, subscriptions=Subscriptions(store),
            push_channels={"whatsapp"},
        )  # fmt: skip
        channel = WhatsAppChannel(
            store,
            WhatsAppOptions(
                phone_number_id=PHONE_NUMBER_ID, access_token=TOKEN, app_secret=APP_SECRET,
                verify_token="jeton-de-verification", graph_url=graph.url,
                templates={"collecte": "crieur_collecte", "annonce": "crieur_annonce"},
            ),
        )  # fmt: skip
        await channel.start(dispatcher.handle)
        app = web.Application()
        app.router.add_routes(channel.routes())
        async with TestClient(TestServer(app, host="127.0.0.1")) as client:
            yield Setup(graph, channel, client, store, dispatcher)
        await channel.stop()
        await store.close()


def _text(message: dict[str, object]) -> str:
    if message["type"] == "text":
        return str(message["text"]["body"])  # type: ignore[index]
    return str(message["interactive"]["body"]["text"])  # type: ignore[index]


async def test_meta_verifies_the_webhook(setup: Setup) -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "jeton-de-verification",
             "hub.challenge": "1158201444"}  # fmt: skip
    response = await setup.client.get(PATH, params=query)
    assert response.status == 200 and await response.text() == "1158201444"
    wrong = await setup.client.get(PATH, params={**query, "hub.verify_token": "autre"})
    assert wrong.status == 403


async def test_a_signed_question_is_answered_and_marked_read(
    setup: Setup, example_knowledge: Knowledge
) -> None:
    entry = example_knowledge.pack.faq[1]
    reply = await setup.ask(entry.question)
    assert reply["messaging_product"] == "whatsapp" and reply["to"] == RESIDENT
    assert _text(reply)[:30].replace("*", "") in entry.answer.replace("**", "")
    assert len(setup.graph.read_receipts) == 1


async def test_bad_webhooks_are_refused_and_change_nothing(setup: Setup) -> None:
    payload = message_webhook(RESIDENT, "horaires mairie")
    body, headers = signed(payload)
    forged = await setup.client.post(PATH, data=body, headers={
        **headers, "X-Hub-Signature-256": "sha256=" + "0" * 64})  # fmt: skip
    assert forged.status == 403
    other_body, _ = signed(message_webhook(RESIDENT, "autre chose"))
    replayed = await setup.client.post(PATH, data=other_body, headers=headers)
    assert replayed.status == 403
    missing = await setup.client.post(PATH, data=body, headers={"Content-Type": "application/json"})
    assert missing.status == 401
    garbage, garbage_headers = b"{pas du json", signed({})[1]
    import hashlib
    import hmac

    garbage_headers["X-Hub-Signature-256"] = (
        "sha256=" + hmac.new(APP_SECRET.encode(), garbage, hashlib.sha256).hexdigest()
    )
    malformed = await setup.client.post(PATH, data=garbage, headers=garbage_headers)
    assert malformed.status == 400
    huge = await setup.client.post(PATH, data=b"x" * 2_000_000, headers=headers)
    assert huge.status == 413
    await setup.channel.drain()
    assert setup.graph.messages == [] and setup.channel.received == 0
    async with setup.store.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(whatsapp_contacts)) == 0


async def test_a_message_delivered_twice_is_answered_once(setup: Setup) -> None:
    setup.graph.open_window(RESIDENT)
    payload = message_webhook(RESIDENT, "horaires de la mairie", message_id="wamid.same")
    assert await setup.post(payload) == 200
    assert await setup.post(payload) == 200
    assert len(setup.graph.sent_to(RESIDENT)) == 1


async def test_suggestions_are_interactive_and_replies_come_back(setup: Setup) -> None:
    menu = await setup.ask("/abonner")
    assert menu["type"] == "interactive"
    interactive = menu["interactive"]
    rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]  # type: ignore[index]
    assert any(row["id"] == "abo:cantine" for row in rows)
    assert await setup.post(message_webhook(RESIDENT, reply_id="abo:cantine")) == 200
    assert "abonné" in _text(setup.graph.sent_to(RESIDENT)[-1])
    subscriptions = setup.dispatcher.subscriptions
    assert subscriptions is not None
    assert [s.topic for s in await subscriptions.of(Address("whatsapp", RESIDENT))] == ["cantine"]


async def test_notices_inside_the_window_as_text_outside_as_template(setup: Setup) -> None:
    await setup.ask("/abonner collecte rue des Genêts")
    push = Push("collecte:hauts:2026-12-03/1", Address("whatsapp", RESIDENT), "collecte",
                "collecte", "Collecte de demain, jeudi 3 décembre : emballages.")  # fmt: skip
    await setup.channel.push(push)
    assert setup.graph.sent_to(RESIDENT)[-1]["type"] == "text"
    async with setup.store.begin() as connection:
        await connection.execute(
            update(whatsapp_contacts).values(last_inbound_at=datetime.now(UTC) - timedelta(days=2))
        )
    setup.graph.close_window(RESIDENT)
    await setup.channel.push(push)
    template = setup.graph.sent_to(RESIDENT)[-1]
    assert template["type"] == "template"
    assert template["template"]["name"] == "crieur_collecte"  # type: ignore[index]
    menu = Push("cantine:2026-12-03/1", Address("whatsapp", RESIDENT), "cantine", "cantine",
                "Menu du jeudi 3 décembre")  # fmt: skip
    with pytest.raises(PushNotAllowed):
        await setup.channel.push(menu)


async def test_re_engagement_error_falls_back_to_the_template(setup: Setup) -> None:
    await setup.ask("bonjour")
    setup.graph.close_window(RESIDENT)  # WhatsApp counts 24 h differently than we did
    push = Push("annonce:1/1", Address("whatsapp", RESIDENT), "alertes", "annonce", "Tempête.")
    await setup.channel.push(push)
    assert setup.graph.errors[-1][0] == 131047
    assert setup.graph.sent_to(RESIDENT)[-1]["type"] == "template"
    other = Push("cantine:1/1", Address("whatsapp", RESIDENT), "cantine", "cantine", "Menu")
    with pytest.raises(PushNotAllowed):
        await setup.channel.push(other)


async def test_graph_errors_are_mapped(setup: Setup) -> None:
    await setup.ask("bonjour")
    push = Push("annonce:2/1", Address("whatsapp", RESIDENT), "alertes", "annonce", "Info")
    setup.graph.fail_next(400, 130429, "(#130429) Rate limit hit")
    with pytest.raises(RateLimited):
        await setup.channel.push(push)
    setup.graph.fail_next(400, 131056, "(#131056) Pair rate limit hit")
    with pytest.raises(RateLimited):
        await setup.channel.push(push)
    setup.graph.unknown_numbers.add(RESIDENT)
    with pytest.raises(RecipientGone):
        await setup.channel.push(push)


async def test_statuses_are_recorded_against_the_sent_message(setup: Setup) -> None:
    await setup.ask("bonjour")
    push = Push("annonce:3/7", Address("whatsapp", RESIDENT), "alertes", "annonce", "Info")
    await setup.channel.push(push)
    async with setup.store.connect() as connection:
        provider_id = await connection.scalar(
            select(sent_messages.c.provider_id).where(sent_messages.c.delivery_key == push.key)
        )
    assert provider_id is not None
    assert await setup.post(status_webhook(provider_id, "delivered", RESIDENT)) == 200
    assert await setup.post(status_webhook(provider_id, "failed", RESIDENT, 131026)) == 200
    async with setup.store.connect() as connection:
        row = (await connection.execute(select(sent_messages))).one()
    assert (row.status, row.error) == ("failed", "131026: Message failed to send")
