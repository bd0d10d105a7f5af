"""A conversation begun by one process goes on in another (several processes, one store)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.dispatcher import Dispatcher
from bot.messages import Address, Inbound
from bot.privacy import erase, export, purge
from bot.shared_conversations import StoredConversations
from bot.store import Store
from knowledge.snapshot import Knowledge
from knowledge.text import fold

NOW = datetime(2026, 12, 22, 18, 0, tzinfo=ZoneInfo("Europe/Paris"))
RESIDENT = Address("whatsapp", "33600000001")


async def test_the_street_question_is_answered_on_another_process(
    store_url: str, example_knowledge: Knowledge
) -> None:
    store = await Store.open(store_url)
    try:
        first, second = (
            Dispatcher(lambda: example_knowledge, conversations=StoredConversations(store))
            for _ in range(2)
        )

        async def say(dispatcher: Dispatcher, text: str, at: datetime = NOW) -> tuple[str, str]:
            answer = await dispatcher.handle(Inbound(RESIDENT, text, at))
            return str(answer.source), fold(answer.text)

        source, text = await say(first, "Quand passe la poubelle grise cette semaine ?")
        assert source == "collecte" and "quelle rue" in text
        kept = await export(store, RESIDENT)
        assert kept["conversation_en_cours"]["question_en_attente"].startswith("Quand passe")

        source, text = await say(second, "quai de l'arvelle")  # the other process
        assert source == "collecte" and "samedi 26 decembre" in text
        source, text = await say(first, "et le bac jaune, c'est quand ?")
        assert source == "collecte" and "vallee" in text  # the street, remembered
        other = Address("whatsapp", "33600000002")
        answer = await second.handle(Inbound(other, "et le bac jaune, c'est quand ?", NOW))
        assert "quai de l" not in fold(answer.text)  # nothing leaks between residents

        await say(second, "horaires de la mairie")  # a question without a street
        assert (await export(store, RESIDENT))["conversation_en_cours"]["rue"]  # kept
        later = NOW + timedelta(hours=13)
        _, text = await say(first, "et le bac jaune, c'est quand ?", later)
        assert text.startswith("donnez-moi le nom de votre rue")  # idle for 13 hours: forgotten

        assert await erase(store, RESIDENT)
        assert "conversation_en_cours" not in await export(store, RESIDENT)
        await say(first, "Quand passe la poubelle grise cette semaine ?")
        deleted = await purge(store, NOW + timedelta(hours=13), retention_days=30)
        assert deleted["conversations"] == 1
    finally:
        await store.close()
