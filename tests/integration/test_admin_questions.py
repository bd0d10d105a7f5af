"""The questions log: grouped unanswered questions, "add as variant", daily figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest

from bot.questions import LoggedQuestion, QuestionLog, group_questions
from bot.store import Store
from tests.integration.test_admin_support import PARIS, START, BackOffice, audit, back_office

POOL = [
    "horaires de la piscine",
    "horaires d'ouverture de la piscine ?",
    "Horaires piscine ?",
    "piscine horaires",
]


@pytest.fixture
async def office(pack_copy: Path, tmp_path: Path) -> AsyncIterator[BackOffice]:
    async with back_office(pack_copy, tmp_path) as built:
        await built.login()
        yield built


async def _record(log: QuestionLog, texts: list[str], answered: bool = False, **kw: object) -> None:
    for number, text in enumerate(texts):
        await log.record(
            START - timedelta(hours=number + 1),
            str(kw.get("channel", "web")),
            text,
            answered,
            kw.get("entry"),  # type: ignore[arg-type]
            float(kw.get("score", 0.1)),  # type: ignore[arg-type]
        )


def test_similar_questions_are_grouped() -> None:
    now = datetime(2026, 12, 2, 9, tzinfo=UTC)
    rows = [
        LoggedQuestion(now - timedelta(minutes=n), text, False, None, 0.1)
        for n, text in enumerate(
            [
                "Horaires de la piscine ?",
                "horaires piscine",
                "la déchetterie est ouverte le dimanche ?",
                "HORAIRES DE LA PISCINE",
                "déchetterie ouverte dimanche",
                "Où adopter un chat ?",
                "la mairie est ouverte le dimanche ?",
            ]
        )
    ]
    groups = group_questions(rows)
    assert [(g.count, g.text) for g in groups] == [
        (3, "Horaires de la piscine ?"),
        (2, "la déchetterie est ouverte le dimanche ?"),
        (1, "Où adopter un chat ?"),
        (1, "la mairie est ouverte le dimanche ?"),
    ]
    assert groups[0].examples == [
        "Horaires de la piscine ?",
        "horaires piscine",
        "HORAIRES DE LA PISCINE",
    ]
    assert groups[0].last_asked == now


async def test_the_log_counts_per_day_on_every_store(store_url: str) -> None:
    store = await Store.open(store_url)
    try:
        log = QuestionLog(store, clock=lambda: START)
        for days_ago, answered in ((0, True), (0, False), (1, True), (29, True), (31, True)):
            # 23:30 in Paris is already the next day in UTC: days are the commune's
            asked = datetime.combine(
                START.date() - timedelta(days=days_ago), datetime.min.time(), PARIS
            )
            await log.record(
                asked + timedelta(hours=23, minutes=30), "web", "q", answered, None, 0.5
            )
        await log.record(START, "web", "x" * 3_000, False, None, 0.0)
        days = await log.daily(30, PARIS)
        assert len(days) == 30 and days[-1].day == START.date()
        assert (days[-1].total, days[-1].answered) == (3, 1)
        assert (days[-2].total, days[-2].answered) == (1, 1)
        assert (days[0].total, days[0].answered) == (1, 1)
        assert sum(d.total for d in days) == 5
        totals = await log.totals(START - timedelta(days=30))
        assert (totals.total, totals.answered) == (5, 3)
        assert round(totals.share, 2) == 0.6
        top = await log.top_questions(START - timedelta(days=40), limit=1)
        assert top[0].count == 5 and top[0].text == "q"
        weak = await log.weak_groups(START - timedelta(days=40))
        assert sorted(len(g.text) for g in weak) == [1, 1_000]  # texts cut at 1,000 characters
    finally:
        await store.close()


async def test_groups_are_listed_and_a_question_becomes_a_variant(office: BackOffice) -> None:
    log = QuestionLog(office.store)
    question = "Ma mamie veut un composteur gratuit, c'est possible ?"
    await _record(log, [question, "composteur gratuit mamie possible"])
    await _record(log, POOL)
    await _record(log, ["Horaires piscine ?"], answered=True, entry="horaires", score=0.3)
    await _record(
        log, ["Comment refaire ma carte d'identité ?"], answered=True, entry="x", score=0.9
    )
    page = await office.client.get("/admin/questions", params={"jours": "7"})
    assert page.status == 200
    html = unescape(await page.text())
    audit(await page.text())
    assert "« Horaires piscine ? »</h2>" in html  # the latest wording names the group
    assert "Posée <strong>5</strong> fois" in html
    assert "« Comment refaire ma carte" not in html  # confidently answered: not listed
    assert f"« {question} »" in html and "Posée <strong>2</strong> fois" in html
    assert "/admin/faq/nouvelle?question=" in html
    odd = await office.client.get("/admin/questions", params={"jours": "abc", "ok": "<b>"})
    assert odd.status == 200 and "<b>" not in await odd.text()

    before = office.knowledge.answer(question, START)
    response = await office.post(
        "/admin/questions/variante",
        {"question": question, "entree": "compost-biodechets", "jours": "7"},
    )
    assert response.status == 303
    assert response.headers["Location"] == "/admin/questions?jours=7&ok=variante"
    text = (office.pack / "faq.yaml").read_text(encoding="utf-8")
    assert f'    - "{question}"' in text
    after = office.knowledge.answer(question, START)
    assert after.source == "compost-biodechets" and before.source != "compost-biodechets"
    again = await office.post(
        "/admin/questions/variante",
        {"question": question, "entree": "compost-biodechets", "jours": "7"},
    )
    assert again.status == 422 and "figure déjà" in unescape(await again.text())
    unknown = await office.post(
        "/admin/questions/variante", {"question": question, "entree": "nulle-part", "jours": "7"}
    )
    assert unknown.status == 404
    listed = unescape(await (await office.client.get("/admin/questions")).text())
    assert "le bot répond avec « " in listed


async def test_questions_are_escaped(office: BackOffice) -> None:
    await _record(QuestionLog(office.store), ["<script>alert(1)</script> poubelles ?"])
    html = await (await office.client.get("/admin/questions")).text()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    dashboard = await (await office.client.get("/admin/")).text()
    assert "<script>" not in dashboard
