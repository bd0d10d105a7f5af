"""Shared helpers for the back-office tests (no tests here): a temp pack and store, the
admin sub-application mounted in a bare aiohttp application, a movable clock, logging in."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.agents import Agents
from bot.outbox import Outbox
from bot.store import Store
from channels.telegram.render import to_html
from channels.web.admin import AdminServices, create_admin_app
from knowledge.snapshot import Knowledge

PARIS = ZoneInfo("Europe/Paris")
START = datetime(2026, 12, 2, 10, 0, tzinfo=PARIS)
ADMIN_PASSWORD = "mot-de-passe-admin-1"
AGENT_PASSWORD = "mot-de-passe-agent-1"
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Clock:
    """A clock the tests move forward."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class BackOffice:
    client: TestClient
    store: Store
    pack: Path
    clock: Clock
    holder: dict[str, Knowledge]
    services: AdminServices
    agents: Agents
    reloads: list[str] = field(default_factory=list)

    @property
    def knowledge(self) -> Knowledge:
        return self.holder["knowledge"]

    async def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> Any:
        """Log in from a fresh browser (no cookies), as `username`."""
        self.client.session.cookie_jar.clear()
        page = await self.client.get("/admin/connexion")
        token = csrf_of(await page.text())
        return await self.client.post(
            "/admin/connexion",
            data={"csrf": token, "identifiant": username, "mot_de_passe": password},
            allow_redirects=False,
        )

    async def csrf(self, path: str = "/admin/") -> str:
        response = await self.client.get(path)
        assert response.status == 200, (path, response.status)
        return csrf_of(await response.text())

    async def post(self, path: str, data: dict[str, str], token: str | None = None) -> Any:
        """POST a form with the session's CSRF token (read from a page when not given)."""
        form = {"csrf": token if token is not None else await self.csrf(), **data}
        return await self.client.post(path, data=form, allow_redirects=False)


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no CSRF field in the page"
    return found.group(1)


@asynccontextmanager
async def back_office(
    pack: Path, tmp_path: Path, secure_cookies: bool = False, telegram: bool = True
) -> AsyncIterator[BackOffice]:
    """The back-office on a temp pack and SQLite store, with an admin and an agent."""
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    clock = Clock()
    holder = {"knowledge": Knowledge.load(pack)}
    reloads: list[str] = []

    def reload() -> None:
        holder["knowledge"] = Knowledge.load(pack)
        reloads.append("ok")

    services = AdminServices(
        store=store,
        knowledge=lambda: holder["knowledge"],
        reload=reload,
        pack_path=pack,
        outbox=Outbox(store),
        secure_cookies=secure_cookies,
        telegram_html=to_html if telegram else None,
        clock=clock,
    )
    agents = Agents(store, clock)
    await agents.create("admin", ADMIN_PASSWORD, "admin")
    await agents.create("agent", AGENT_PASSWORD, "agent")
    root = web.Application()
    root.add_subapp("/admin", create_admin_app(services))
    client = TestClient(TestServer(root, host="127.0.0.1"))
    await client.start_server()
    try:
        yield BackOffice(client, store, pack, clock, holder, services, agents, reloads)
    finally:
        await client.close()
        await store.close()


class PageAudit(HTMLParser):
    """Collects what the accessibility smoke checks look at in one page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: list[str] = []
        self.labels_for: set[str] = set()
        self.fields: list[tuple[str, dict[str, str | None]]] = []
        self.h1 = 0
        self.html_lang: str | None = None
        self.inline: list[str] = []
        self.tags: set[str] = set()
        self.described: list[str] = []
        self.svgs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.tags.add(tag)
        if values.get("id"):
            self.ids.append(values["id"])
        if tag == "html":
            self.html_lang = values.get("lang")
        if tag == "h1":
            self.h1 += 1
        if tag == "label" and values.get("for"):
            self.labels_for.add(values["for"] or "")
        if tag in ("input", "select", "textarea") and values.get("type") not in (
            "hidden",
            "submit",
        ):
            self.fields.append((tag, values))
        if tag == "script" or "style" in values or any(k.startswith("on") for k in values):
            self.inline.append(tag)
        if values.get("aria-describedby"):
            self.described.extend((values["aria-describedby"] or "").split())
        if tag == "svg":
            self.svgs.append(values)


def audit(html: str) -> PageAudit:
    """Parse `html` and assert the basic accessibility and CSP rules every page follows."""
    page = PageAudit()
    page.feed(html)
    assert page.html_lang == "fr"
    assert page.h1 == 1, f"{page.h1} h1"
    assert {"header", "main", "footer"} <= page.tags
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"
    for tag, values in page.fields:
        assert values.get("id") in page.labels_for, f"{tag} {values.get('name')} has no label"
    for ident in page.described:
        assert ident in page.ids, f"aria-describedby points to missing {ident}"
    assert not page.inline, f"inline script or style: {page.inline}"
    return page
