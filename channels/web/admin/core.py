"""The back-office's shared state and page plumbing: templates, URLs, forms, French dates.

Why one `Admin` object in the sub-application: handlers stay plain functions of the
request, and everything they use (agents, questions log, pack editor, broadcasts) is built
once from `AdminServices`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup

from bot.agents import Agents, Session
from bot.broadcasts import Broadcasts
from bot.outbox import Outbox
from bot.pack_editor import PackEditor
from bot.questions import QuestionLog
from bot.store import Store
from channels.web.admin.services import AdminServices
from knowledge.phrases import MONTHS
from knowledge.snapshot import Knowledge

MAX_NONCES = 1_000

# Messages shown after a redirect (`?ok=code`): fixed texts, nothing reflected from the URL.
NOTICES = {
    "creee": "L'entrée a été créée : le bot l'utilise déjà.",
    "enregistree": "L'entrée a été enregistrée : le bot répond déjà avec cette version.",
    "supprimee": "L'entrée a été supprimée.",
    "variante": "La question a été ajoutée comme variante : le bot la reconnaît déjà.",
    "envoyee": "L'annonce a été confiée à la file d'envoi.",
    "programmee": "L'annonce est programmée.",
    "annulee": "L'annonce programmée a été annulée.",
    "deja-partie": "Cette annonce n'était plus programmée : elle n'a pas été annulée.",
    "deja-envoyee": "Cette annonce avait déjà été envoyée : elle n'a pas été envoyée deux fois.",
    "agent-cree": "Le compte a été créé.",
    "agent-supprime": "Le compte a été supprimé.",
    "mot-de-passe": "Le mot de passe a été changé ; les sessions ouvertes du compte sont fermées.",
    "sortie": "Vous êtes déconnecté(e).",
    "expiree": "Votre session a expiré : reconnectez-vous.",
}


class RefusedError(Exception):
    """A request refused with a French explanation (403, 404, 409, 413…)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Admin:
    """Everything the back-office handlers use, built once per sub-application."""

    services: AdminServices
    env: jinja2.Environment
    agents: Agents
    questions: QuestionLog
    editor: PackEditor
    broadcasts: Broadcasts
    used_nonces: OrderedDict[str, int] = field(default_factory=OrderedDict)

    @property
    def store(self) -> Store:
        return self.services.store

    @property
    def outbox(self) -> Outbox:
        return self.services.outbox

    @property
    def knowledge(self) -> Knowledge:
        return self.services.knowledge()

    @property
    def tz(self) -> tzinfo:
        return self.knowledge.pack.commune.tz

    def now(self) -> datetime:
        return self.services.clock()

    def remember_nonce(self, nonce: str, value: int) -> None:
        self.used_nonces[nonce] = value
        while len(self.used_nonces) > MAX_NONCES:
            self.used_nonces.popitem(last=False)


ADMIN = web.AppKey("crieur_admin", Admin)


def admin_of(request: web.Request) -> Admin:
    return request.app[ADMIN]


# The agent's session for the request being handled. aiohttp runs each request in its own
# task, so a context variable is per request; the guard middleware resets it first anyway.
_SESSION: ContextVar[Session | None] = ContextVar("crieur_admin_session", default=None)


def set_session(session: Session | None) -> None:
    _SESSION.set(session)


def session_of(request: web.Request) -> Session | None:
    """The logged-in agent's session for `request` (None on the login page or for strangers)."""
    return _SESSION.get()


def require_session(request: web.Request) -> Session:
    session = session_of(request)
    if session is None:  # the middleware redirects first; this is a safety net
        raise RefusedError(403, "Connectez-vous pour accéder à cette page.")
    return session


def require_admin(request: web.Request) -> Session:
    session = require_session(request)
    if not session.agent.is_admin:
        raise RefusedError(403, "Cette page est réservée aux administrateurs.")
    return session


def url(
    request: web.Request, name: str, query: Mapping[str, Any] | None = None, **parts: Any
) -> str:
    """The path of a named route of the back-office (with its mount prefix)."""
    target = request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()})
    if query:
        target = target.with_query({k: str(v) for k, v in query.items() if v not in (None, "")})
    return str(target)


def base_path(request: web.Request) -> str:
    """Where the back-office is mounted ("/admin"), for the cookies' Path."""
    return url(request, "dashboard").rstrip("/") or "/"


def redirect(location: str) -> web.HTTPSeeOther:
    """A 303 to raise (Post/Redirect/Get)."""
    return web.HTTPSeeOther(location=location)


def see_other(location: str) -> web.Response:
    """A 303 to return, when cookies must be set on it."""
    return web.Response(status=303, headers={"Location": location})


async def read_form(request: web.Request) -> dict[str, str]:
    """The posted fields (text only; files are ignored); body size is capped upstream."""
    data = await request.post()
    return {key: value for key, value in data.items() if isinstance(value, str)}


def render(request: web.Request, template: str, status: int = 200, **context: Any) -> web.Response:
    admin = admin_of(request)
    session = session_of(request)
    notice = NOTICES.get(request.query.get("ok", ""))
    try:
        commune = admin.knowledge.pack.commune.name
    except Exception:  # the page must render even if the knowledge is unavailable
        commune = ""
    values: dict[str, Any] = {
        "agent": session.agent if session else None,
        "csrf": session.csrf if session else "",
        "commune": commune,
        "notice": notice,
        "section": "",
        "errors": {},
        "url": lambda name, query=None, **parts: url(request, name, query, **parts),
        "static": lambda name: url(request, "static", filename=name),
    }
    values.update(context)
    text = admin.env.get_template(template).render(values)
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8")


# ------------------------------------------------------------------ French formatting


def when(moment: datetime | None, tz: tzinfo) -> str:
    """'2 déc. 2026 à 10:05' in the commune's time zone."""
    if moment is None:
        return "—"
    local = moment.astimezone(tz)
    return f"{local.day} {MONTHS[local.month - 1]} {local.year} à {local:%H:%M}"


def number(value: float | int) -> str:
    """'12 345' with a narrow no-break space, as French writes numbers."""
    return f"{value:,}".replace(",", "\u202f")


def make_env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("channels.web.admin", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["nombre"] = number
    env.globals["Markup"] = Markup
    return env
