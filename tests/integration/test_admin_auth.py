"""Back-office login: sessions, lock-out, CSRF, roles, expiry, headers and error pages."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from bot.dispatcher import Dispatcher
from bot.store.schema import agent_sessions
from channels.web import create_web_app
from channels.web.admin import create_admin_app
from tests.integration.test_admin_support import (
    AGENT_PASSWORD,
    BackOffice,
    audit,
    back_office,
    csrf_of,
)

LOCK_MESSAGE = "Trop de tentatives de connexion"
WRONG_MESSAGE = "Identifiant ou mot de passe incorrect."


@pytest.fixture
async def office(pack_copy: Path, tmp_path: Path) -> AsyncIterator[BackOffice]:
    async with back_office(pack_copy, tmp_path) as built:
        yield built


async def test_pages_need_a_session_and_login_opens_one(office: BackOffice) -> None:
    response = await office.client.get("/admin/faq?q=carte", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/admin/connexion?suivant=")
    page = await office.client.get("/admin/connexion")
    assert page.status == 200
    html = await page.text()
    audit(html)
    csp = page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "script-src" not in csp
    response = await office.client.post(
        "/admin/connexion",
        data={
            "csrf": csrf_of(html),
            "identifiant": "Admin",  # usernames are case-insensitive
            "mot_de_passe": "mot-de-passe-admin-1",
            "suivant": "/admin/faq?q=carte",
        },
        allow_redirects=False,
    )
    assert response.status == 303 and response.headers["Location"] == "/admin/faq?q=carte"
    cookie = response.cookies["crieur_agent"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict" and cookie["path"] == "/admin"
    assert not cookie["secure"]
    token = cookie.value
    async with office.store.connect() as connection:
        stored = (await connection.execute(select(agent_sessions.c.token_hash))).scalars().all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]  # the token itself is not kept
    dashboard = await office.client.get("/admin/")
    assert dashboard.status == 200
    assert "Tableau de bord" in await dashboard.text()


async def test_login_never_redirects_outside_the_back_office(office: BackOffice) -> None:
    page = await office.client.get("/admin/connexion")
    response = await office.client.post(
        "/admin/connexion",
        data={
            "csrf": csrf_of(await page.text()),
            "identifiant": "admin",
            "mot_de_passe": "mot-de-passe-admin-1",
            "suivant": "https://evil.example/admin/",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/admin/"


async def test_wrong_password_is_refused_in_french(office: BackOffice) -> None:
    response = await office.login("admin", "pas le bon mot de passe")
    assert response.status == 401
    assert WRONG_MESSAGE in await response.text()
    assert "crieur_agent" not in response.cookies
    unknown = await office.login("personne", "pas le bon mot de passe")
    assert unknown.status == 401 and WRONG_MESSAGE in await unknown.text()


async def test_five_failures_lock_the_username_for_fifteen_minutes(office: BackOffice) -> None:
    for _ in range(4):
        assert (await office.login("admin", "mauvais mot de passe")).status == 401
    locked = await office.login("admin", "mauvais mot de passe")
    assert locked.status == 429 and LOCK_MESSAGE in await locked.text()
    still = await office.login("admin", "mot-de-passe-admin-1")  # even the right password
    assert still.status == 429 and "crieur_agent" not in still.cookies
    # an unknown username behaves exactly alike: no way to tell which accounts exist
    for _ in range(4):
        assert (await office.login("inconnu", "mauvais mot de passe")).status == 401
    assert (await office.login("inconnu", "mauvais mot de passe")).status == 429
    assert (await office.login("agent", AGENT_PASSWORD)).status == 303  # others unaffected
    office.clock.advance(minutes=16)
    assert (await office.login("admin", "mot-de-passe-admin-1")).status == 303


async def test_forged_or_missing_csrf_is_refused_and_nothing_changes(office: BackOffice) -> None:
    await office.login()
    faq = office.pack / "faq.yaml"
    before = faq.read_text(encoding="utf-8")
    entry = office.knowledge.pack.faq[0]
    data = {"question": entry.question, "answer": "Réponse forgée", "variants": "", "tags": ""}
    for token in ("", "forgé", "x" * 5000):
        response = await office.post(f"/admin/faq/entree/{entry.id}", data, token=token)
        assert response.status == 403
        assert "jeton de sécurité" in await response.text()
    missing = await office.client.post(
        f"/admin/faq/entree/{entry.id}", data=data, allow_redirects=False
    )
    assert missing.status == 403
    assert faq.read_text(encoding="utf-8") == before
    assert not (office.pack / ".historique").exists()
    logout = await office.client.post("/admin/deconnexion", data={}, allow_redirects=False)
    assert logout.status == 403
    assert (await office.client.get("/admin/")).status == 200  # still logged in


async def test_login_form_has_its_own_csrf_check(office: BackOffice) -> None:
    response = await office.client.post(
        "/admin/connexion",
        data={"csrf": "invente", "identifiant": "admin", "mot_de_passe": "mot-de-passe-admin-1"},
        allow_redirects=False,
    )
    assert response.status == 403 and "crieur_agent" not in response.cookies


async def test_sessions_slide_then_expire(office: BackOffice) -> None:
    await office.login()
    office.clock.advance(hours=7)
    assert (await office.client.get("/admin/", allow_redirects=False)).status == 200
    office.clock.advance(hours=7)  # 14 h after login, 7 h after the last request
    assert (await office.client.get("/admin/", allow_redirects=False)).status == 200
    token = await office.csrf("/admin/faq")
    office.clock.advance(hours=8, minutes=1)
    expired = await office.client.get("/admin/faq", allow_redirects=False)
    assert expired.status == 303 and "/admin/connexion" in expired.headers["Location"]
    posted = await office.post("/admin/deconnexion", {}, token=token)
    assert posted.status == 303 and posted.headers["Location"] == "/admin/connexion?ok=expiree"
    page = await office.client.get(posted.headers["Location"])
    assert "Votre session a expiré" in await page.text()


async def test_logout_closes_the_session(office: BackOffice) -> None:
    await office.login()
    response = await office.post("/admin/deconnexion", {})
    assert response.status == 303 and response.headers["Location"] == "/admin/connexion?ok=sortie"
    again = await office.client.get("/admin/", allow_redirects=False)
    assert again.status == 303
    async with office.store.connect() as connection:
        assert (await connection.execute(select(agent_sessions))).first() is None


async def test_agents_cannot_manage_accounts_admins_can(office: BackOffice) -> None:
    await office.login("agent", AGENT_PASSWORD)
    page = await office.client.get("/admin/")
    assert 'href="/admin/agents"' not in await page.text()
    refused = await office.client.get("/admin/agents")
    assert refused.status == 403 and "réservée aux administrateurs" in await refused.text()
    created = await office.post(
        "/admin/agents",
        {
            "identifiant": "intrus",
            "role": "admin",
            "mot_de_passe": "x" * 12,
            "confirmation": "x" * 12,
        },
    )
    assert created.status == 403
    assert await office.agents.by_username("intrus") is None

    await office.post("/admin/deconnexion", {})
    await office.login()
    page = await office.client.get("/admin/agents")
    assert page.status == 200
    audit(await page.text())
    weak = await office.post(
        "/admin/agents",
        {"identifiant": "lea", "role": "agent", "mot_de_passe": "court", "confirmation": "court"},
    )
    assert weak.status == 422
    html = await weak.text()
    assert (
        "10 caractères au moins" in html
        and 'aria-describedby="mot_de_passe-aide mot_de_passe-erreur"' in html
    )
    audit(html)
    created = await office.post(
        "/admin/agents",
        {
            "identifiant": "lea",
            "role": "agent",
            "mot_de_passe": "assez-long-1",
            "confirmation": "assez-long-1",
        },
    )
    assert created.status == 303
    again = await office.post(
        "/admin/agents",
        {
            "identifiant": "lea",
            "role": "agent",
            "mot_de_passe": "assez-long-1",
            "confirmation": "assez-long-1",
        },
    )
    assert again.status == 422 and "existe déjà" in await again.text()
    lea = await office.agents.by_username("lea")
    assert lea is not None
    reset = await office.post(
        f"/admin/agents/{lea.id}/mot-de-passe", {"mot_de_passe": "nouveau-mdp-2"}
    )
    assert reset.status == 303
    await office.agents.authenticate("lea", "nouveau-mdp-2")
    admin = await office.agents.by_username("admin")
    assert admin is not None
    self_delete = await office.post(f"/admin/agents/{admin.id}/supprimer", {})
    assert self_delete.status == 409 and "votre propre compte" in await self_delete.text()
    confirm = await office.client.get(f"/admin/agents/{lea.id}/supprimer")
    audit(await confirm.text())
    deleted = await office.post(f"/admin/agents/{lea.id}/supprimer", {})
    assert deleted.status == 303 and await office.agents.by_username("lea") is None


async def test_unknown_pages_and_ids_get_french_404s(office: BackOffice) -> None:
    await office.login()
    for path in (
        "/admin/nulle-part",
        "/admin/faq/entree/nexiste-pas",
        "/admin/annonces/999",
        "/admin/agents/999/supprimer",
        "/admin/faq/entree/NOPE",
    ):
        response = await office.client.get(path)
        assert response.status == 404, path
        html = await response.text()
        assert "introuvable" in html or "n'existe pas" in html, path
        assert "Traceback" not in html
        audit(html)
    wrong_method = await office.client.get("/admin/deconnexion")
    assert wrong_method.status == 405
    assert "Méthode non autorisée" in await wrong_method.text()


async def test_oversized_forms_get_a_french_413(office: BackOffice) -> None:
    await office.login()
    entry = office.knowledge.pack.faq[0]
    response = await office.post(f"/admin/faq/entree/{entry.id}", {"answer": "a" * 100_000})
    assert response.status == 413
    assert "trop volumineux" in await response.text()


async def test_secure_cookies_when_configured(pack_copy: Path, tmp_path: Path) -> None:
    async with back_office(pack_copy, tmp_path, secure_cookies=True) as office:
        page = await office.client.get("/admin/connexion")
        assert page.cookies["crieur_connexion"]["secure"]


async def test_admin_headers_win_when_mounted_in_the_web_channel(office: BackOffice) -> None:
    """Mounted under the chat's application, whose middleware sets its own CSP."""
    chat = create_web_app(Dispatcher(lambda: office.knowledge).handle, "Morvelay")
    chat.add_subapp("/admin", create_admin_app(office.services))
    async with TestClient(TestServer(chat, host="127.0.0.1")) as client:
        page = await client.get("/admin/connexion")
        assert page.status == 200
        csp = page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src" not in csp
        missing = await client.get("/admin/nulle-part", allow_redirects=False)
        assert missing.status == 303  # strangers go to the login page
        chat_page = await client.get("/")
        assert "script-src 'self'" in chat_page.headers["Content-Security-Policy"]
        css = await client.get("/admin/static/admin.css")
        assert css.status == 200 and "text/css" in css.headers["Content-Type"]
        assert css.headers["Cache-Control"] == "private, max-age=3600"
        login = await client.get("/admin/connexion")
        await client.post(
            "/admin/connexion",
            data={"csrf": csrf_of(await login.text()), "identifiant": "admin",
                  "mot_de_passe": "mot-de-passe-admin-1"},
        )  # fmt: skip
        form = await client.get("/admin/faq/entree/mariage")
        long_answer = await client.post(
            "/admin/faq/entree/mariage",
            data={"csrf": csrf_of(await form.text()), "question": "Q ?", "answer": "é" * 6_000},
        )
        # beyond the chat's 16 KB body limit, within the back-office's own 64 KB
        assert long_answer.status == 422 and "4000 caractères au plus" in await long_answer.text()


def test_the_admin_app_is_a_plain_aiohttp_application(office: BackOffice) -> None:
    assert isinstance(create_admin_app(office.services), web.Application)
