"""Broadcasts from the back-office: audience, previews per channel, send, schedule, cancel."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from html import unescape
from pathlib import Path

import pytest
from sqlalchemy import select, update

from bot.messages import Address
from bot.store.schema import broadcasts, deliveries
from bot.subscriptions import Subscriptions
from tests.integration.test_admin_support import PARIS, START, BackOffice, audit, back_office

TEXT = (
    "Coupure d'eau **demain** de 8h à 12h.\n"
    "- rue des Lilas\n"
    "- [détails](https://morvelay.example/eau) <b>x</b>"
)
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


@pytest.fixture
async def office(pack_copy: Path, tmp_path: Path) -> AsyncIterator[BackOffice]:
    async with back_office(pack_copy, tmp_path) as built:
        subscriptions = Subscriptions(built.store)
        at = START - timedelta(days=3)
        zones = [zone.id for zone in built.knowledge.pack.collecte.zones]  # type: ignore[union-attr]
        await subscriptions.subscribe(Address("telegram", "1"), "alertes", at, "alertes")
        await subscriptions.subscribe(Address("telegram", "1"), "collecte", at, "c", zones[0])
        await subscriptions.subscribe(Address("telegram", "2"), "alertes", at, "alertes")
        await subscriptions.subscribe(Address("telegram", "2"), "collecte", at, "c", zones[1])
        await subscriptions.subscribe(Address("webpush", "3"), "alertes", at, "alertes")
        await subscriptions.subscribe(Address("webpush", "3"), "cantine", at, "cantine")
        await built.login()
        yield built


def _compose(**changes: str) -> dict[str, str]:
    form = {"texte": TEXT, "theme": "alertes", "secteur": "", "quand": "maintenant", "date": ""}
    form.update(changes)
    return form


async def _confirm(office: BackOffice, **changes: str) -> tuple[str, dict[str, str]]:
    response = await office.post("/admin/annonces/apercu", _compose(**changes))
    assert response.status == 200, await response.text()
    html = await response.text()
    fields = {name: unescape(value) for name, value in _HIDDEN.findall(html)}
    return html, fields


async def _count(office: BackOffice) -> int:
    async with office.store.connect() as connection:
        return len((await connection.execute(select(broadcasts.c.id))).all())


async def test_the_audience_and_a_preview_per_channel_come_before_sending(
    office: BackOffice,
) -> None:
    page = await office.client.get("/admin/annonces")
    audit(await page.text())
    html, fields = await _confirm(office)
    audit(html)
    assert "atteindra <strong>3</strong> abonnés" in html
    assert "<strong>demain</strong>" in html and "<li>rue des Lilas</li>" in html
    assert '<a href="https://morvelay.example/eau" rel="noopener noreferrer">détails</a>' in html
    assert "&lt;b&gt;demain&lt;/b&gt;" in html  # the Telegram HTML, shown as source
    assert "&amp;lt;b&amp;gt;x" in html  # what the agent typed stays text in Telegram too
    assert "<b>" not in html
    assert "• rue des Lilas" in html and "détails : https://morvelay.example/eau" in html
    assert fields["texte"] == TEXT and fields["nonce"]
    zone = office.knowledge.pack.collecte.zones[0]  # type: ignore[union-attr]
    html, _ = await _confirm(office, secteur=zone.id)
    assert "atteindra <strong>1</strong> abonné." in html and zone.name in html
    html, _ = await _confirm(office, theme="agenda")
    assert "atteindra <strong>0</strong> abonné" in html and "ne sera reçue par personne" in html
    assert await _count(office) == 0  # nothing is stored before the agent confirms


async def test_send_now_then_follow_the_delivery_figures(office: BackOffice) -> None:
    _, fields = await _confirm(office)
    response = await office.post("/admin/annonces/envoyer", {**fields, "action": "envoyer"})
    assert response.status == 303
    assert response.headers["Location"] == "/admin/annonces/1?ok=envoyee"
    twice = await office.post("/admin/annonces/envoyer", {**fields, "action": "envoyer"})
    assert twice.headers["Location"] == "/admin/annonces/1?ok=deja-envoyee"
    assert await _count(office) == 1
    item = await office.client.get("/admin/annonces/1?ok=envoyee")
    html = await item.text()
    audit(html)
    assert "confiée à la file d'envoi" in unescape(html)
    assert '<th scope="row">En attente</th><td>3</td>' in html
    async with office.store.begin() as connection:
        row = (await connection.execute(select(broadcasts))).one()
        assert (row.author, row.status, row.audience, row.text) == ("admin", "published", 3, TEXT)
        ids = (await connection.execute(select(deliveries.c.id).order_by(deliveries.c.id))).all()
        await connection.execute(
            update(deliveries)
            .where(deliveries.c.id.in_([ids[0][0], ids[1][0]]))
            .values(status="sent")
        )
        await connection.execute(
            update(deliveries).where(deliveries.c.id == ids[2][0]).values(status="gone")
        )
    html = await (await office.client.get("/admin/annonces/1")).text()
    assert '<th scope="row">Envoyés</th><td>2</td>' in html
    assert '<th scope="row">Partis (l\'habitant a bloqué le bot)</th><td>1</td>' in html
    listing = await (await office.client.get("/admin/annonces")).text()
    assert re.search(r"<td>3</td>\s*<td>2</td>\s*<td>0</td>\s*<td>0</td>\s*<td>1</td>", listing)


async def test_schedule_then_cancel(office: BackOffice) -> None:
    later = (START + timedelta(hours=2)).astimezone(PARIS).strftime("%Y-%m-%dT%H:%M")
    html, fields = await _confirm(office, quand="plus-tard", date=later, urgent="oui")
    assert "Programmer l'envoi</button>" in html
    assert "le 2 décembre 2026 à 12:00" in html
    response = await office.post("/admin/annonces/envoyer", {**fields, "action": "envoyer"})
    assert response.headers["Location"] == "/admin/annonces/1?ok=programmee"
    async with office.store.connect() as connection:
        row = (await connection.execute(select(broadcasts))).one()
    assert row.status == "scheduled" and row.urgent and row.notice_id is None
    assert row.at == START + timedelta(hours=2)
    page = await (await office.client.get("/admin/annonces/1")).text()
    assert "Annuler l'envoi programmé</button>" in page
    cancelled = await office.post("/admin/annonces/1/annuler", {})
    assert cancelled.headers["Location"] == "/admin/annonces/1?ok=annulee"
    again = await office.post("/admin/annonces/1/annuler", {})
    assert again.headers["Location"] == "/admin/annonces/1?ok=deja-partie"
    page = await (await office.client.get(again.headers["Location"])).text()
    assert "n&#39;était plus programmée" in page
    assert "annulée" in page and "Annuler l" not in page


async def test_invalid_announcements_are_explained_per_field(office: BackOffice) -> None:
    cases = {
        "texte": (_compose(texte="   "), "le texte de l&#39;annonce est vide"),
        "theme": (_compose(theme="inconnu"), "choisissez un thème dans la liste"),
        "secteur": (_compose(secteur="atlantide"), "choisissez un secteur dans la liste"),
        "date": (
            _compose(quand="plus-tard", date="2026-12-01T08:00"),
            "cette date est passée",
        ),
    }
    for field, (form, message) in cases.items():
        response = await office.post("/admin/annonces/apercu", form)
        assert response.status == 422, field
        html = await response.text()
        audit(html)
        assert message in html, field
        assert f'id="{field}-erreur"' in html and 'aria-invalid="true"' in html
    too_long = await office.post("/admin/annonces/apercu", _compose(texte="a" * 4_001))
    assert too_long.status == 422 and "dépasse 4000 caractères" in await too_long.text()
    assert await _count(office) == 0


async def test_modify_goes_back_to_the_form_with_the_text(office: BackOffice) -> None:
    _, fields = await _confirm(office)
    response = await office.post("/admin/annonces/envoyer", {**fields, "action": "modifier"})
    assert response.status == 200
    html = await response.text()
    assert "Coupure d&#39;eau **demain** de 8h à 12h.\n- rue des Lilas" in html
    assert await _count(office) == 0


async def test_script_in_an_announcement_is_text_everywhere(office: BackOffice) -> None:
    _, fields = await _confirm(office, texte="<script>alert(1)</script> Alerte")
    await office.post("/admin/annonces/envoyer", {**fields, "action": "envoyer"})
    for path in ("/admin/annonces", "/admin/annonces/1"):
        html = await (await office.client.get(path)).text()
        assert "<script" not in html and "&lt;script&gt;" in html


async def test_without_telegram_there_is_no_telegram_preview(
    pack_copy: Path, tmp_path: Path
) -> None:
    async with back_office(pack_copy, tmp_path, telegram=False) as office:
        await office.login()
        html, _ = await _confirm(office)
        assert "<h3>Telegram</h3>" not in html and "<h3>Chat web et notifications</h3>" in html
