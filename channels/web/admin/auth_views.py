"""Logging in and out of the back-office.

Why a second CSRF cookie on the login form: there is no session yet to hold a token, so
the form and an HttpOnly cookie carry the same random value (double submit); a page of
another site can neither read the cookie nor set it. A successful login always starts a
new session (never reusing a token the browser already had).
"""

from __future__ import annotations

import hmac
import secrets

from aiohttp import web

from bot.agents import MAX_FAILURES, LoginError
from channels.web.admin.core import (
    admin_of,
    read_form,
    redirect,
    render,
    see_other,
    session_of,
    url,
)
from channels.web.admin.security import (
    CSRF_MESSAGE,
    LOGIN_COOKIE,
    SESSION_COOKIE,
    drop_cookie,
    set_cookie,
)

MAX_USERNAME_INPUT = 200
MAX_PASSWORD_INPUT = 2_048
WRONG = "Identifiant ou mot de passe incorrect."
LOCKED = (
    f"Trop de tentatives de connexion ({MAX_FAILURES} erreurs) : par sécurité, la connexion "
    "est bloquée pendant 15 minutes. Réessayez plus tard ou demandez à un administrateur."
)


def _safe_next(request: web.Request, target: str | None) -> str:
    """Where to go after logging in: only a page of the back-office itself."""
    home = url(request, "dashboard")
    if (
        target
        and target.startswith(home)
        and "//" not in target
        and "\\" not in target
        and len(target) <= 500
    ):
        return target
    return home


def _login_page(
    request: web.Request,
    status: int = 200,
    error: str | None = None,
    username: str = "",
    next_page: str | None = None,
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "connexion.html",
        status=status,
        title="Connexion",
        login_csrf=token,
        error=error,
        username=username,
        next=(next_page if next_page is not None else request.query.get("suivant", ""))[:500],
    )
    set_cookie(request, response, LOGIN_COOKIE, token)
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    if session_of(request) is not None:
        raise redirect(url(request, "dashboard"))
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    given = form.get("csrf", "")
    if not expected or not hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace")):
        return render(request, "erreur.html", 403, title="Accès refusé", message=CSRF_MESSAGE)
    username = form.get("identifiant", "")[:MAX_USERNAME_INPUT]
    password = form.get("mot_de_passe", "")[:MAX_PASSWORD_INPUT]
    admin = admin_of(request)
    try:
        agent = await admin.agents.authenticate(username, password)
    except LoginError as exc:
        status, message = (429, LOCKED) if exc.locked else (401, WRONG)
        return _login_page(request, status, message, username.strip(), form.get("suivant", ""))
    await admin.agents.close_session(request.cookies.get(SESSION_COOKIE))
    token, _ = await admin.agents.open_session(agent)
    response = see_other(_safe_next(request, form.get("suivant")))
    set_cookie(request, response, SESSION_COOKIE, token)
    drop_cookie(request, response, LOGIN_COOKIE)
    return response


async def logout(request: web.Request) -> web.StreamResponse:
    await admin_of(request).agents.close_session(request.cookies.get(SESSION_COOKIE))
    response = see_other(url(request, "login", {"ok": "sortie"}))
    drop_cookie(request, response, SESSION_COOKIE)
    return response
