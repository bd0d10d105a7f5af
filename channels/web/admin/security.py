"""The back-office's guards: French error pages, a strict CSP, sessions and CSRF checks.

Why as middlewares of the sub-application: every page, including error pages and pages
added later, gets the same protection without each handler remembering it.
- Every failure becomes a French HTML page with the right status, never a traceback.
- Headers are set in `on_response_prepare`, after any middleware of the parent web app,
  so the back-office's own CSP (no scripts at all, no framing) is the one that applies.
- Pages need a live session (else: to the login page); every POST must carry the session's
  CSRF token, compared in constant time, before the handler runs (else 403, nothing done).
- Forms may be larger than the chat's 16 KB limit (a long answer), up to `MAX_BODY`.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from channels.web.admin.core import RefusedError, admin_of, base_path, render, set_session, url

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
SESSION_COOKIE = "crieur_agent"
LOGIN_COOKIE = "crieur_connexion"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
CSRF_MESSAGE = (
    "Le jeton de sécurité du formulaire est absent ou invalide : rien n'a été enregistré. "
    "Rechargez la page et recommencez."
)
_STATUS_MESSAGES = {
    400: ("Requête invalide", "La demande n'a pas pu être comprise."),
    403: ("Accès refusé", "Vous n'avez pas accès à cette page."),
    404: ("Page introuvable", "Cette page n'existe pas, ou plus."),
    405: ("Méthode non autorisée", "Cette adresse ne s'utilise pas ainsi."),
    413: (
        "Envoi trop volumineux",
        f"Le formulaire envoyé dépasse {MAX_BODY // 1024} Ko : raccourcissez les textes.",
    ),
    500: ("Erreur interne", "Une erreur inattendue est survenue ; réessayez plus tard."),
}
PUBLIC_ROUTES = frozenset({"login", "static"})
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def error_page(request: web.Request, status: int, message: str | None = None) -> web.Response:
    title, default = _STATUS_MESSAGES.get(status, (f"Erreur {status}", "La demande a échoué."))
    try:
        return render(
            request, "erreur.html", status=status, title=title, message=message or default
        )
    except Exception:
        log.exception("the error page itself failed")
        body = f'<!doctype html><html lang="fr"><title>{title}</title><main><h1>{title}</h1></main>'
        return web.Response(text=body, status=status, content_type="text/html")


@web.middleware
async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Larger body limit for forms; every refusal or failure as a French page."""
    request = request.clone(client_max_size=MAX_BODY)
    set_session(None)
    try:
        return await handler(request)
    except RefusedError as exc:
        return error_page(request, exc.status, exc.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects
        return error_page(request, exc.status)
    except Exception:
        log.exception("back-office error on %s %s", request.method, request.path)
        return error_page(request, 500)


@web.middleware
async def authenticate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the agent's session; send strangers to the login page; check CSRF on POST."""
    route = request.match_info.route
    name = getattr(route, "name", None)
    if name == "static":
        return await handler(request)
    admin = admin_of(request)
    session = await admin.agents.session(request.cookies.get(SESSION_COOKIE))
    set_session(session)
    if name in PUBLIC_ROUTES:
        return await handler(request)
    if session is None:
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(url(request, "login", {"suivant": request.path_qs}))
        raise web.HTTPSeeOther(url(request, "login", {"ok": "expiree"}))
    if request.method not in ("GET", "HEAD"):
        form = await request.post()
        token = form.get("csrf")
        if not isinstance(token, str) or not hmac.compare_digest(
            token.encode("utf-8", "replace"), session.csrf.encode("utf-8")
        ):
            raise RefusedError(403, CSRF_MESSAGE)
    return await handler(request)


async def secure_headers(request: web.Request, response: web.StreamResponse) -> None:
    """`on_response_prepare`: runs last, so the back-office's headers win. Pages are never
    cached (they show residents' questions); the stylesheet may be, for an hour."""
    response.headers.update(HEADERS)
    if getattr(request.match_info.route, "name", None) == "static":
        response.headers["Cache-Control"] = "private, max-age=3600"


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    """An HttpOnly, SameSite=Strict cookie limited to the back-office's path."""
    response.set_cookie(
        name,
        value,
        path=base_path(request),
        httponly=True,
        samesite="Strict",
        secure=admin_of(request).services.secure_cookies,
    )


def drop_cookie(request: web.Request, response: web.StreamResponse, name: str) -> None:
    response.del_cookie(
        name,
        path=base_path(request),
        secure=admin_of(request).services.secure_cookies,
        httponly=True,
        samesite="Strict",
    )
