"""The aiohttp application: chat page, `POST /api/chat`, health, and safe error handling.

Every refused request gets a 4xx with a JSON body; an unexpected failure is logged and
answered with a short JSON 500, never a traceback.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from aiohttp import web

from bot.messages import InboundHandler
from channels.web.api import RequestError, render, to_inbound

log = logging.getLogger(__name__)

STATIC = Path(str(files("channels.web").joinpath("static")))
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
FeedProvider = Callable[[str], bytes | None]
HealthProvider = Callable[[], dict[str, object]]


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        messages = {
            404: "Adresse inconnue.",
            405: "Méthode non autorisée.",
            413: "Requête trop volumineuse.",
        }
        response = _json_error(exc.status, messages.get(exc.status, exc.reason))
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        response = _json_error(500, "Erreur interne, réessayez plus tard.")
    response.headers.update(SECURITY_HEADERS)
    return response


class _ChatRoutes:
    """Request handlers bound to the core's inbound handler."""

    def __init__(
        self,
        handle: InboundHandler,
        title: str,
        feeds: FeedProvider | None,
        health: HealthProvider | None,
    ) -> None:
        self._handle = handle
        self._feeds = feeds
        self._health = health
        page = (STATIC / "index.html").read_text(encoding="utf-8")
        self._page = page.replace("{{commune}}", html.escape(title))

    async def chat(self, request: web.Request) -> web.Response:
        if request.content_type != "application/json":
            return _json_error(415, "Envoyez du JSON (Content-Type: application/json).")
        try:
            payload = json.loads(await request.read())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return _json_error(400, "JSON invalide.")
        try:
            inbound = to_inbound(payload, datetime.now(UTC))
        except RequestError as exc:
            return _json_error(400, exc.message)
        answer = await self._handle(inbound)
        return web.json_response(render(answer))

    async def index(self, request: web.Request) -> web.Response:
        return web.Response(text=self._page, content_type="text/html")

    async def health(self, request: web.Request) -> web.Response:
        body: dict[str, object] = {"status": "ok"}
        if self._health is not None:
            body["channels"] = self._health()
        return web.json_response(body)

    async def calendar(self, request: web.Request) -> web.Response:
        feed = self._feeds(request.match_info["zone"]) if self._feeds else None
        if feed is None:
            return _json_error(404, "Secteur inconnu.")
        return web.Response(
            body=feed,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="collectes.ics"'},
        )


def create_web_app(
    handle: InboundHandler,
    title: str,
    max_body_bytes: int = 16_384,
    feeds: FeedProvider | None = None,
    health: HealthProvider | None = None,
    extra_routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    """The web channel's application; `handle` is the core's `Dispatcher.handle`, `feeds`
    gives a zone's collection calendar as iCalendar bytes (None for an unknown zone),
    `health` the other channels' states, `extra_routes` their webhooks."""
    app = web.Application(client_max_size=max_body_bytes, middlewares=[_errors])
    routes = _ChatRoutes(handle, title, feeds, health)
    app.router.add_routes(extra_routes)
    app.router.add_get("/", routes.index)
    app.router.add_post("/api/chat", routes.chat)
    app.router.add_get("/healthz", routes.health)
    app.router.add_get(r"/calendrier/{zone:[a-z0-9_-]{1,64}}.ics", routes.calendar)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return app
