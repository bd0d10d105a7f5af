"""The dashboard: server-rendered SVG charts with their tables, and every page's basics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.messages import Address
from bot.questions import QuestionLog
from bot.subscribing import topics_of
from bot.subscriptions import Subscriptions
from tests.integration.test_admin_support import START, BackOffice, audit, back_office


@pytest.fixture
async def office(pack_copy: Path, tmp_path: Path) -> AsyncIterator[BackOffice]:
    async with back_office(pack_copy, tmp_path) as built:
        await built.login()
        yield built


async def test_dashboard_charts_and_tables(office: BackOffice) -> None:
    log = QuestionLog(office.store)
    for days_ago, count, answered in ((0, 3, 2), (1, 4, 4), (10, 2, 0)):
        for number in range(count):
            await log.record(
                START - timedelta(days=days_ago, minutes=number),
                "web",
                f"horaires mairie {number % 2}",
                number < answered,
                "mairie-contact-horaires" if number < answered else None,
                0.8 if number < answered else 0.1,
            )
    subscriptions = Subscriptions(office.store)
    for chat, channel, topics in (
        ("1", "telegram", ("alertes", "cantine")),
        ("2", "telegram", ("alertes",)),
        ("3", "webpush", ("alertes",)),
    ):
        for topic in topics:
            await subscriptions.subscribe(Address(channel, chat), topic, START, topic)
    response = await office.client.get("/admin/")
    assert response.status == 200
    html = await response.text()
    page = audit(html)
    assert len(page.svgs) == 3
    for svg in page.svgs:
        assert svg["role"] == "img"
        first, second = (svg["aria-labelledby"] or "").split()
        assert first in page.ids and second in page.ids
    assert (
        '<title id="graphique-jours-titre">Questions posées par jour, 30 derniers jours</title>'
        in html
    )
    assert "9 questions en 30 jours, dont 67\u00a0% avec une réponse" in html
    assert html.count('class="serie-0"') >= 3 and 'class="serie-1"' in html
    assert re.search(
        r"<th scope=\"row\">2 décembre 2026</th>\s*<td>3</td>\s*<td>2</td>\s*<td>1</td>", html
    )
    labels = {name: topic.label for name, topic in topics_of(office.knowledge).items()}
    assert f'<th scope="row">{labels["alertes"]}</th><td>3</td>' in html
    assert f'<th scope="row">{labels["cantine"]}</th><td>1</td>' in html
    assert '<th scope="row">Telegram</th><td>2</td>' in html
    assert '<th scope="row">Notifications du navigateur</th><td>1</td>' in html
    assert "horaires mairie 0" in html  # top questions
    assert 'href="/admin/faq/entree/mairie-contact-horaires"' in html


async def test_an_empty_dashboard_renders(office: BackOffice) -> None:
    response = await office.client.get("/admin/")
    assert response.status == 200
    html = await response.text()
    audit(html)
    assert "Aucune question sur la période." in html and "Aucun abonné pour l'instant." in html


async def test_every_page_follows_the_basic_rules(office: BackOffice) -> None:
    """One h1, landmarks, skip link, labelled fields, no inline script or style, French."""
    await QuestionLog(office.store).record(START, "web", "girafes au zoo", False, None, 0.0)
    paths = [
        "/admin/",
        "/admin/faq",
        "/admin/faq?q=carte",
        "/admin/faq/nouvelle",
        "/admin/faq/tester?question=carte+d%27identit%C3%A9",
        "/admin/faq/entree/carte-identite",
        "/admin/faq/entree/carte-identite/supprimer",
        "/admin/questions",
        "/admin/annonces",
        "/admin/agents",
    ]
    for path in paths:
        response = await office.client.get(path)
        assert response.status == 200, path
        audit(await response.text())
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Frame-Options"] == "DENY"
    await office.client.post("/admin/deconnexion", data={"csrf": await office.csrf()})
    login = await office.client.get("/admin/connexion?ok=sortie")
    assert "Vous êtes déconnecté(e)." in await login.text()
    audit(await login.text())
