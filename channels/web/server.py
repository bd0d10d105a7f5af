"""The aiohttp application: the demo site, the widget, `POST /api/chat`, health, and the
HTTP safety nets (CSP and other headers, CORS, rate limits, JSON errors).

Every refused request gets a 4xx with a JSON body; an unexpected failure is logged and
answered with a short JSON 500, never a traceback. Nothing is stored from a refused request.
"""

from __future__ import annotations

import gzip
import hashlib
import html
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib.resources import files
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from bot.messages import Address, InboundHandler
from channels.web.api import (
    CHANNEL,
    PUSH_CHANNEL,
    OriginPolicy,
    RequestError,
    SlidingWindow,
    client_ip,
    render,
    retry_message,
    to_inbound,
)

log = logging.getLogger(__name__)

STATIC = Path(str(files("channels.web").joinpath("static")))
API_PREFIX = "/api/"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; worker-src 'self'; manifest-src 'self'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
FORBIDDEN_ORIGIN = "Ce site n'est pas autorisé à utiliser l'assistant de la mairie."
FeedProvider = Callable[[str], bytes | None]
HealthProvider = Callable[[], dict[str, object]]
PushRegistry = Callable[[str], Awaitable[bool]]


def json_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    """A refusal as `{"error": "<French message>"}`."""
    return web.json_response({"error": message}, status=status, headers=headers)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        messages = {
            404: "Adresse inconnue.",
            405: "Méthode non autorisée.",
            413: "Requête trop volumineuse.",
        }
        return json_error(exc.status, messages.get(exc.status, exc.reason))
    except Exception:
        log.exception("unexpected error on %s %s", request.method, request.path)
        return json_error(500, "Erreur interne, réessayez plus tard.")


def cors_middleware(policy: OriginPolicy, prefix: str = API_PREFIX) -> Middleware:
    """CORS for every route under `prefix` (the chat, and the Web Push routes given in
    `extra_routes`): answers preflights, refuses (403) a browser request from an origin
    that is neither the server's own nor allowed, and adds the CORS headers otherwise."""

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        if not request.path.startswith(prefix):
            return await handler(request)
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            headers = policy.preflight_headers(origin)
            if not headers:
                return json_error(403, FORBIDDEN_ORIGIN, {"Vary": "Origin"})
            return web.Response(status=204, headers={**headers, "Vary": "Origin"})
        if origin is not None and not policy.permits(origin, request.host):
            return json_error(403, FORBIDDEN_ORIGIN, {"Vary": "Origin"})
        response = await handler(request)
        if origin is not None:  # no Origin (same-site tools, servers): no CORS header to add
            response.headers.update(policy.response_headers(origin))
        vary = response.headers.get("Vary")
        response.headers["Vary"] = f"{vary}, Origin" if vary else "Origin"
        return response

    return cors


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)


@dataclass(frozen=True, slots=True)
class _Asset:
    """A file served from memory, pre-compressed, with an ETag for revalidation."""

    body: bytes
    gzipped: bytes
    etag: str
    content_type: str
    headers: dict[str, str]

    @classmethod
    def load(cls, name: str, content_type: str, headers: dict[str, str]) -> _Asset:
        body = (STATIC / name).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
        return cls(body, gzip.compress(body, 9, mtime=0), etag, content_type, headers)

    async def serve(self, request: web.Request) -> web.Response:
        headers = {**self.headers, "ETag": self.etag, "Vary": "Accept-Encoding"}
        if self.etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        body = self.body
        if "gzip" in request.headers.get("Accept-Encoding", "").lower():
            body, headers["Content-Encoding"] = self.gzipped, "gzip"
        return web.Response(
            body=body, content_type=self.content_type, charset="utf-8", headers=headers
        )


def _page(name: str, title: str) -> str:
    template = (STATIC / name).read_text(encoding="utf-8")
    return template.replace("{{commune}}", html.escape(title))


class _ChatRoutes:
    """Request handlers bound to the core's inbound handler."""

    def __init__(
        self,
        handle: InboundHandler,
        title: str,
        feeds: FeedProvider | None,
        health: HealthProvider | None,
        sessions: SlidingWindow,
        ips: SlidingWindow,
        push_registered: PushRegistry | None,
    ) -> None:
        self._handle = handle
        self._push_registered = push_registered
        self._feeds = feeds
        self._health = health
        self._sessions, self._ips = sessions, ips
        self._pages = {
            "/": _page("demo.html", title),
            "/abonnement": _page("abonnement.html", title),
        }

    async def chat(self, request: web.Request) -> web.Response:
        ip = client_ip(request.remote, request.headers.get("X-Forwarded-For"))
        wait = self._ips.check(ip)
        if wait:
            return _too_many(wait)
        if request.content_type != "application/json":
            return json_error(415, "Envoyez du JSON (Content-Type: application/json).")
        try:
            payload = json.loads(await request.read())
        except (UnicodeDecodeError, json.JSONDecodeError):
            return json_error(400, "JSON invalide.")
        try:
            inbound = to_inbound(payload, datetime.now(UTC))
        except RequestError as exc:
            return json_error(400, exc.message)
        session = str(payload["session"])
        wait = self._sessions.check(session)
        if wait:
            return _too_many(wait)
        self._ips.hit(ip)
        self._sessions.hit(session)
        forgotten = await self._unknown_device(inbound.address)
        if forgotten:  # the browser dropped its subscription: talk as a plain web session
            inbound = replace(inbound, address=Address(CHANNEL, session))
        body = render(await self._handle(inbound))
        if forgotten:
            body["push"] = None  # tells the widget to forget its push id
        return web.json_response(body)

    async def _unknown_device(self, address: Address) -> bool:
        if address.channel != PUSH_CHANNEL or self._push_registered is None:
            return False
        return not await self._push_registered(address.chat_id)

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(
            text=self._pages[request.path],
            content_type="text/html",
            headers={"Cache-Control": "no-cache"},
        )

    async def health(self, request: web.Request) -> web.Response:
        body: dict[str, object] = {"status": "ok"}
        if self._health is not None:
            body["channels"] = self._health()
        return web.json_response(body)

    async def calendar(self, request: web.Request) -> web.Response:
        feed = self._feeds(request.match_info["zone"]) if self._feeds else None
        if feed is None:
            return json_error(404, "Secteur inconnu.")
        return web.Response(
            body=feed,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="collectes.ics"'},
        )


def _too_many(wait: int) -> web.Response:
    return json_error(429, retry_message(wait), {"Retry-After": str(wait)})


def create_web_app(
    handle: InboundHandler,
    title: str,
    max_body_bytes: int = 16_384,
    feeds: FeedProvider | None = None,
    health: HealthProvider | None = None,
    extra_routes: Sequence[web.RouteDef] = (),
    *,
    allowed_origins: Sequence[str] = (),
    session_rate_per_minute: int = 30,
    ip_rate_per_minute: int = 120,
    push_registered: PushRegistry | None = None,
) -> web.Application:
    """The web channel's application; `handle` is the core's `Dispatcher.handle`, `feeds`
    gives a zone's collection calendar as iCalendar bytes (None for an unknown zone),
    `health` the other channels' states, `extra_routes` their webhooks and endpoints (those
    under `/api/` get the same CORS policy), `allowed_origins` the sites that may embed the
    widget; the rate limits apply to `POST /api/chat`. `push_registered` (the Web Push
    channel's `registered`) says whether a `"push"` id is a known device: an unknown one is
    answered as the plain web session, with `"push": null` in the answer."""
    policy = OriginPolicy(allowed_origins)
    app = web.Application(
        client_max_size=max_body_bytes, middlewares=[cors_middleware(policy), _errors]
    )
    app.on_response_prepare.append(_security_headers)
    routes = _ChatRoutes(
        handle,
        title,
        feeds,
        health,
        SlidingWindow(session_rate_per_minute),
        SlidingWindow(ip_rate_per_minute),
        push_registered,
    )
    widget = _Asset.load(
        "widget.js",
        "text/javascript",
        {"Cache-Control": "public, max-age=3600", "Cross-Origin-Resource-Policy": "cross-origin"},
    )
    worker = _Asset.load("push-sw.js", "text/javascript", {"Cache-Control": "no-cache"})
    app.router.add_routes(extra_routes)
    app.router.add_get("/", routes.page)
    app.router.add_get("/abonnement", routes.page)
    app.router.add_get("/widget.js", widget.serve)
    app.router.add_get("/push-sw.js", worker.serve)
    app.router.add_post("/api/chat", routes.chat)
    app.router.add_get("/healthz", routes.health)
    app.router.add_get(r"/calendrier/{zone:[a-z0-9_-]{1,64}}.ics", routes.calendar)
    app.router.add_static("/static/", STATIC, follow_symlinks=False)
    return app
