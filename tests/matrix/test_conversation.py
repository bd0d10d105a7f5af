"""The Matrix channel in conversation, end to end: real Synapse, real nio on both sides, the
real core and the example pack."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.dispatcher import Dispatcher
from bot.messages import Address
from bot.store import Store
from bot.subscriptions import Subscriptions
from knowledge.snapshot import Knowledge
from tests.matrix.conftest import Crieur, Synapse, bot_options, started
from tests.matrix.resident import Resident

PARIS = ZoneInfo("Europe/Paris")


async def test_invited_in_a_dm_the_bot_joins_and_answers_with_a_notice(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id])
    entry = crieur.knowledge.pack.faq[1]
    reply = await crieur.resident.ask(room, entry.question)
    expected = crieur.knowledge.answer(entry.question, datetime.now(PARIS)).text
    source = reply.source["content"]
    assert source["msgtype"] == "m.notice"
    assert source["format"] == "org.matrix.custom.html"
    assert reply.body[:40] == expected.replace("**", "")[:40]
    assert "**" not in reply.body
    if "**" in expected:
        assert "<strong>" in reply.formatted_body
    assert source["m.mentions"] == {}
    assert crieur.channel.health()["state"] == "connecté"


async def test_numbered_suggestions_are_answered_with_a_number(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id])
    menu = await crieur.resident.ask(room, "/abonner")
    assert "1. " in menu.body and "Répondez avec le numéro" in menu.body
    assert "<ol><li>" in menu.formatted_body
    numbered = [line for line in menu.body.splitlines() if line[:1].isdigit()]
    second = numbered[1].rsplit(" : ", 1)[1]  # "2. S'abonner : alertes" → "alertes"
    reply = await crieur.resident.ask(room, "2")
    assert "abonné" in reply.body
    assert crieur.dispatcher.subscriptions is not None
    found = await crieur.dispatcher.subscriptions.of(Address("matrix", room))
    assert [s.topic for s in found] == [second]


async def test_in_a_group_the_bot_speaks_only_when_addressed(crieur: Crieur) -> None:
    bot = crieur.synapse.bot.user_id
    neighbour = Resident(crieur.synapse.url, crieur.synapse.neighbour, crieur.tmp_path / "voisin")
    await neighbour.login()
    try:
        room = await crieur.resident.room([bot], direct=False)
        invited = await crieur.resident.client.room_invite(room, neighbour.user_id)
        assert not hasattr(invited, "status_code"), invited
        await neighbour.until(lambda: room in neighbour.client.invited_rooms)
        await neighbour.client.join(room)
        await crieur.resident.until(lambda: len(crieur.resident.joined(room)) == 3)
        resident = crieur.resident
        await resident.say(room, "Bonjour à tous, quelqu'un connaît les horaires de la mairie ?")
        by_name = await resident.ask(room, "Crieur, c'est quand la collecte des encombrants ?")
        assert len(resident.received[room]) == 1  # the first message got nothing
        relation = by_name.source["content"]["m.relates_to"]["m.in_reply_to"]
        assert relation["event_id"]
        assert by_name.source["content"]["m.mentions"] == {"user_ids": [resident.user_id]}
        pill = await resident.ask(room, "passeport ?", **{"m.mentions": {"user_ids": [bot]}})
        assert "passeport" in pill.body.lower()
        helped = await resident.ask(room, "!aide")
        assert "Morvelay" in helped.body
        assert len(resident.received[room]) == 3
    finally:
        await neighbour.close()


async def test_notices_of_other_bots_are_ignored(crieur: Crieur) -> None:
    room = await crieur.resident.room([crieur.synapse.bot.user_id])
    await crieur.resident.say(room, "horaires de la mairie", msgtype="m.notice")
    reply = await crieur.resident.ask(room, "Comment faire un passeport ?")
    assert crieur.resident.received[room] == [reply]
    assert "passeport" in reply.body.lower()


async def test_invites_from_servers_not_allowed_are_declined(
    synapse: Synapse, example_knowledge: Knowledge, tmp_path: Path
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    dispatcher = Dispatcher(lambda: example_knowledge)
    options = bot_options(synapse, tmp_path, allowed_servers=("morvelay.example",))
    channel = await started(store, options, dispatcher)
    resident = Resident(synapse.url, synapse.resident, tmp_path / "resident")
    await resident.login()
    try:
        response = await resident.client.room_create(invite=[synapse.bot.user_id])
        room = response.room_id

        def declined() -> bool:
            member = resident.client.rooms.get(room)
            return member is not None and synapse.bot.user_id not in member.users

        await resident.until(declined)
        assert room not in channel._client.rooms
    finally:
        await resident.close()
        await channel.stop()
        await store.close()


async def test_a_restart_keeps_the_device_and_never_answers_old_messages(
    synapse: Synapse, example_knowledge: Knowledge, tmp_path: Path
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    dispatcher = Dispatcher(lambda: example_knowledge, subscriptions=Subscriptions(store))
    options = bot_options(synapse, tmp_path)
    first = await started(store, options, dispatcher)
    resident = Resident(synapse.url, synapse.resident, tmp_path / "resident")
    await resident.login()
    try:
        room = await resident.room([synapse.bot.user_id])
        assert "passeport" in (await resident.ask(room, "passeport ?")).body.lower()
        device = first.device_id
        await first.stop()
        await resident.say(room, "horaires de la mairie ?")  # while the bot is down
        second = await started(store, options, dispatcher)
        try:
            assert second.device_id == device
            while_down = await resident.next_messages(room, 2)
            assert "9h" in while_down[1].body  # answered on restart, once
            reply = await resident.ask(room, "bonjour")
            assert reply.body.startswith("Bonjour")
            assert len(resident.received[room]) == 3  # "passeport" was not answered again
        finally:
            await second.stop()
        # A new store (no sync token) never answers the history it finds.
        await resident.say(room, "carte d'identité ?")
        fresh_store = await Store.open(f"sqlite:///{tmp_path / 'fresh.db'}")
        fresh = await started(fresh_store, bot_options(synapse, tmp_path / "b"), dispatcher)
        try:
            await resident.quiet_for(1.5)
            assert len(resident.received[room]) == 3
            assert "Bonjour" in (await resident.ask(room, "salut")).body
        finally:
            await fresh.stop()
            await fresh_store.close()
    finally:
        await resident.close()
        await store.close()
