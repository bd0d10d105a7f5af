"""Subscribing in conversation, on a real store: commands, buttons, plain French, /stop."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.dispatcher import Dispatcher
from bot.messages import Address, Answer, Inbound
from bot.store import Store
from bot.store.schema import consents, subscribers
from bot.subscriptions import Subscriptions
from knowledge.snapshot import Knowledge

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))
RESIDENT = Address("inprocess", "42")


@pytest.fixture
async def store(tmp_path: object) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path}/crieur.db")
    yield opened
    await opened.close()


@pytest.fixture
def dispatcher(example_knowledge: Knowledge, store: Store) -> Dispatcher:
    return Dispatcher(
        lambda: example_knowledge, subscriptions=Subscriptions(store), push_channels={"inprocess"}
    )


async def _say(
    dispatcher: Dispatcher, text: str, choice: str | None = None, who: Address = RESIDENT
) -> Answer:
    return await dispatcher.handle(Inbound(who, text, NOW, choice))


async def _topics(dispatcher: Dispatcher, who: Address = RESIDENT) -> list[tuple[str, str]]:
    assert dispatcher.subscriptions is not None
    return [(s.topic, s.zone) for s in await dispatcher.subscriptions.of(who)]


async def test_subscribe_to_the_collection_of_a_street(dispatcher: Dispatcher) -> None:
    answer = await _say(dispatcher, "/abonner collecte rue des Genêts")
    assert "rue des Genêts" in answer.text and answer.source == "abonnement"
    assert await _topics(dispatcher) == [("collecte", "hauts")]
    again = await _say(dispatcher, "/abonner collecte rue des genets")
    assert "déjà" in again.text
    assert await _topics(dispatcher) == [("collecte", "hauts")]


async def test_plain_french_works_too(dispatcher: Dispatcher) -> None:
    answer = await _say(dispatcher, "je veux les alertes poubelles quai de l'Arvelle")
    assert "quai de l'Arvelle" in answer.text
    await _say(dispatcher, "je voudrais recevoir le menu de la cantine")
    await _say(dispatcher, "abonnez moi aux alertes svp")
    assert await _topics(dispatcher) == [("collecte", "vallee"), ("cantine", ""), ("alertes", "")]
    answer = await _say(dispatcher, "je ne veux plus recevoir le menu de la cantine")
    assert "cantine" in answer.text
    assert await _topics(dispatcher) == [("collecte", "vallee"), ("alertes", "")]


async def test_a_question_about_the_canteen_is_not_a_subscription(dispatcher: Dispatcher) -> None:
    answer = await _say(dispatcher, "comment inscrire mon fils à la cantine ?")
    assert answer.source != "abonnement"
    assert await _topics(dispatcher) == []


async def test_leaving_the_electoral_roll_is_not_unsubscribing(dispatcher: Dispatcher) -> None:
    await _say(dispatcher, "/abonner alertes")
    for text in (
        "Je déménage, dois-je me désinscrire des listes électorales ?",
        "je veux désinscrire mon fils de la cantine",
    ):
        answer = await _say(dispatcher, text)
        assert answer.source != "abonnement", text
    assert await _topics(dispatcher) == [("alertes", "")]
    await _say(dispatcher, "désinscrire des alertes svp")
    assert await _topics(dispatcher) == []


async def test_unknown_topic_and_street_say_what_exists(dispatcher: Dispatcher) -> None:
    answer = await _say(dispatcher, "/abonner piscine")
    assert "collecte" in answer.text and "cantine" in answer.text and "fete" in answer.text
    answer = await _say(dispatcher, "/abonner collecte rue de Nulle-Part")
    assert "Nulle-Part" in answer.text and "place du Champ-de-Foire" in answer.text
    answer = await _say(dispatcher, "/abonner collecte")
    assert "rue" in answer.text
    assert await _topics(dispatcher) == []


async def test_the_street_given_earlier_is_used(dispatcher: Dispatcher) -> None:
    await _say(dispatcher, "quand passe la poubelle jaune rue des Bruyères ?")
    answer = await _say(dispatcher, "/abonner collecte")
    assert "rue des Bruyères" in answer.text
    assert await _topics(dispatcher) == [("collecte", "hauts")]


async def test_buttons_subscribe_and_unsubscribe(dispatcher: Dispatcher) -> None:
    menu = await _say(dispatcher, "/abonner")
    payloads = {choice.payload for choice in menu.choices}
    assert "abo:cantine" in payloads and "abo:agenda" in payloads
    await _say(dispatcher, "", choice="abo:cantine")
    await _say(dispatcher, "", choice="abo:collecte:bourg")
    assert await _topics(dispatcher) == [("cantine", ""), ("collecte", "bourg")]
    listing = await _say(dispatcher, "/abonnements")
    assert "cantine" in listing.text and "desabo:cantine" in {c.payload for c in listing.choices}
    await _say(dispatcher, "", choice="desabo:cantine")
    assert await _topics(dispatcher) == [("collecte", "bourg")]
    stale = await _say(dispatcher, "", choice="abo:collecte:atlantide")
    assert "rue" in stale.text


async def test_unsubscribe_from_everything_and_stop(dispatcher: Dispatcher, store: Store) -> None:
    await _say(dispatcher, "/abonner alertes")
    await _say(dispatcher, "/abonner agenda")
    answer = await _say(dispatcher, "/desabonner")
    assert "alertes" in answer.text and "agenda" in answer.text
    assert await _topics(dispatcher) == []
    async with store.connect() as connection:
        recorded = await connection.scalar(select(func.count()).select_from(consents))
    assert recorded == 4  # two subscriptions, two unsubscriptions, with the words used
    stop = await _say(dispatcher, "/stop")
    assert "effacées" in stop.text
    async with store.connect() as connection:
        assert await connection.scalar(select(func.count()).select_from(subscribers)) == 0
        assert await connection.scalar(select(func.count()).select_from(consents)) == 0
    nothing = await _say(dispatcher, "/stop")
    assert "rien" in nothing.text


async def test_consent_keeps_the_resident_s_words(dispatcher: Dispatcher, store: Store) -> None:
    await _say(dispatcher, "/abonner cantine")
    async with store.connect() as connection:
        row = (await connection.execute(select(consents))).one()
    assert (row.action, row.topic, row.channel, row.words) == (
        "subscribe", "cantine", "inprocess", "/abonner cantine",
    )  # fmt: skip


async def test_a_channel_that_cannot_push_says_so(dispatcher: Dispatcher) -> None:
    web = Address("web", "session")
    answer = await _say(dispatcher, "/abonner cantine", who=web)
    assert "pas disponibles" in answer.text
    assert await _topics(dispatcher, web) == []


async def test_without_a_store_subscription_commands_stay_polite(
    example_knowledge: Knowledge,
) -> None:
    bare = Dispatcher(lambda: example_knowledge)
    for text in ("/abonner cantine", "/abonnements", "/desabonner", "/stop"):
        answer = await _say(bare, text)
        assert answer.text and "Traceback" not in answer.text


async def test_a_bare_stop_erases_like_the_command(dispatcher: Dispatcher) -> None:
    await _say(dispatcher, "/abonner cantine")
    answer = await _say(dispatcher, "STOP")
    assert "effacées" in answer.text
    assert await _topics(dispatcher) == []
