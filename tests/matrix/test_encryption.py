"""End-to-end encryption on the Matrix channel: a resident's encrypted room, answered
encrypted, and a message the bot cannot decrypt."""

from __future__ import annotations

import logging
import secrets

import aiohttp
import pytest

from channels.matrix.channel import CANNOT_DECRYPT
from tests.matrix.conftest import Crieur, bot_options, started


async def test_an_encrypted_dm_is_answered_encrypted(crieur: Crieur) -> None:
    resident = crieur.resident
    room = await resident.room([crieur.synapse.bot.user_id], encrypted=True)
    assert resident.client.rooms[room].encrypted
    reply = await resident.ask(room, "Comment faire un passeport ?")
    assert reply.decrypted  # it came as m.room.encrypted and the resident's keys opened it
    assert reply.source["content"]["msgtype"] == "m.notice"
    assert "passeport" in reply.body.lower()
    assert "<p>" in reply.formatted_body
    again = await resident.ask(room, "horaires de la mairie")
    assert again.decrypted and "9h" in again.body


async def test_a_message_that_cannot_be_decrypted_is_logged_and_answered_politely(
    crieur: Crieur, caplog: pytest.LogCaptureFixture
) -> None:
    await crieur.channel.stop()  # again, with a short wait for keys that never come
    channel = await started(
        crieur.store,
        bot_options(crieur.synapse, crieur.tmp_path, undecryptable_wait=0.5),
        crieur.dispatcher,
    )
    crieur.channel = channel
    resident = crieur.resident
    room = await resident.room([crieur.synapse.bot.user_id], encrypted=True)
    client = resident.client
    garbage = {
        "algorithm": "m.megolm.v1.aes-sha2",
        "ciphertext": "AwgAEhA" + secrets.token_hex(20),
        "sender_key": client.olm.account.identity_keys["curve25519"],
        "session_id": "session-the-bot-never-received",
        "device_id": client.device_id,
    }
    url = f"{crieur.synapse.url}/_matrix/client/v3/rooms/{room}/send/m.room.encrypted/garbage1"
    headers = {"Authorization": f"Bearer {client.access_token}"}
    caplog.set_level(logging.WARNING, logger="channels.matrix.channel")
    async with (
        aiohttp.ClientSession() as session,
        session.put(url, json=garbage, headers=headers) as response,
    ):
        assert response.status == 200
    (polite,) = await resident.next_messages(room, 1)
    assert polite.body == CANNOT_DECRYPT and polite.decrypted
    assert any("cannot decrypt event" in r.getMessage() for r in caplog.records)
