"""Residents' questions are logged for the agents, in batches, with whether they were answered."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.messages import Address, Inbound
from bot.question_recorder import QuestionRecorder
from bot.store import Store
from bot.store.schema import questions
from knowledge.snapshot import Knowledge

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=ZoneInfo("Europe/Paris"))


async def test_questions_are_recorded_with_their_outcome(
    example_knowledge: Knowledge, tmp_path: Path
) -> None:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    recorder = QuestionRecorder(store)
    dispatcher = Dispatcher(lambda: example_knowledge, recorder=recorder)
    entry = example_knowledge.pack.faq[0]
    for text in (entry.question, "combien de girafes au zoo de Tombouctou", "/aide", "bonjour"):
        await dispatcher.handle(Inbound(Address("web", "s1"), text, NOW))
    assert await recorder.flush() == 2  # commands and greetings are not questions
    async with store.connect() as connection:
        rows = (await connection.execute(select(questions).order_by(questions.c.id))).all()
    assert [(r.text, r.answered, r.entry) for r in rows] == [
        (entry.question, True, entry.id),
        ("combien de girafes au zoo de Tombouctou", False, None),
    ]
    assert rows[0].channel == "web" and rows[0].asked_at == NOW
    await recorder.stop()
    await store.close()
