"""Notices pushed through the outbox to Matrix rooms, and how Synapse's refusals map to the
outbox's outcomes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.channel import Push, RateLimited, RecipientGone
from bot.delivery import DeliveryWorker
from bot.messages import Address
from bot.outbox import Outbox, OutgoingNotice
from bot.store.schema import deliveries, subscribers
from tests.matrix.conftest import Crieur


async def _subscribed_room(crieur: Crieur, encrypted: bool = False) -> str:
    room = await crieur.resident.room([crieur.synapse.bot.user_id], encrypted=encrypted)
    reply = await crieur.resident.ask(room, "/abonner alertes")
    assert "abonné" in reply.body
    return room


async def test_a_notice_reaches_the_subscriber_room_once(crieur: Crieur) -> None:
    room = await _subscribed_room(crieur, encrypted=True)
    outbox = Outbox(crieur.store)
    now = datetime.now(UTC)
    text = "**Coupure d'eau** demain matin, rue des Lilas.\n- de 8h à 12h"
    published = await outbox.publish(
        OutgoingNotice("annonce:eau", "annonce", ("alertes",), None, text, now, urgent=True)
    )
    assert published.audience == 1
    worker = DeliveryWorker(outbox, crieur.channel)
    assert await worker.deliver_batch() == 1
    messages = await crieur.resident.next_messages(room, 2)
    notice = messages[1]
    assert notice.decrypted and notice.source["content"]["msgtype"] == "m.notice"
    assert notice.body.startswith("Coupure d'eau demain matin")
    assert "<strong>Coupure d'eau</strong>" in notice.formatted_body
    assert "<ul><li>de 8h à 12h</li></ul>" in notice.formatted_body
    async with crieur.store.connect() as connection:
        status = await connection.scalar(select(deliveries.c.status))
    assert status == "sent"
    # A delivery retried (the process died before writing "sent") is not shown twice: the
    # transaction id comes from the delivery key, and Synapse answers with the first event.
    async with crieur.store.connect() as connection:
        subscriber = await connection.scalar(select(deliveries.c.subscriber_id))
    retried = Push(f"annonce:eau/{subscriber}", Address("matrix", room), "alertes", "annonce",
                   text)  # fmt: skip
    await crieur.channel.push(retried)
    other = Push("annonce:autre/1", Address("matrix", room), "alertes", "annonce", "Autre")
    await crieur.channel.push(other)
    await crieur.channel.push(other)
    await crieur.resident.ask(room, "bonjour")
    bodies = [m.body for m in crieur.resident.received[room]]
    assert sum(body.startswith("Coupure d'eau") for body in bodies) == 1
    assert bodies.count("Autre") == 1


async def test_a_room_the_resident_left_unsubscribes_them(crieur: Crieur) -> None:
    room = await _subscribed_room(crieur)
    left = await crieur.resident.client.room_leave(room)
    assert not hasattr(left, "status_code"), left
    client = crieur.channel._client

    async def bot_left() -> None:
        while room in client.rooms:
            await crieur.resident.sync(100)

    await bot_left()  # the bot, alone in the room, left it too
    with pytest.raises(RecipientGone):
        await crieur.channel.push(Push("k", Address("matrix", room), "alertes", "annonce", "x"))
    outbox = Outbox(crieur.store)
    await outbox.publish(
        OutgoingNotice("annonce:parti", "annonce", ("alertes",), None, "Info", datetime.now(UTC))
    )
    await DeliveryWorker(outbox, crieur.channel).deliver_batch()
    async with crieur.store.connect() as connection:
        active = await connection.scalar(
            select(subscribers.c.active).where(subscribers.c.chat_id == room)
        )
    assert active is False
    with pytest.raises(RecipientGone):  # a room that never existed
        await crieur.channel.push(
            Push("k2", Address("matrix", "!nope:localhost"), "alertes", "annonce", "x")
        )


async def test_a_kick_is_recipient_gone_too(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id], direct=False)
    kicked = await crieur.resident.client.room_kick(room, crieur.synapse.bot.user_id)
    assert not hasattr(kicked, "status_code"), kicked
    with pytest.raises(RecipientGone):  # M_FORBIDDEN, or unknown once the sync saw the kick
        await crieur.channel.push(Push("k", Address("matrix", room), "alertes", "a", "x"))


async def test_synapse_rate_limit_becomes_rate_limited(crieur: Crieur) -> None:
    room = await _subscribed_room(crieur)
    bot = crieur.synapse.bot.user_id
    crieur.synapse.override_rate_limit(bot, 1, 1)  # Synapse takes whole messages per second
    try:
        with pytest.raises(RateLimited) as limited:
            for n in range(5):
                await crieur.channel.push(
                    Push(f"rl{n}", Address("matrix", room), "alertes", "annonce", f"n°{n}")
                )
        assert 0 < limited.value.retry_after <= 2
    finally:
        crieur.synapse.remove_rate_limit_override(bot)
