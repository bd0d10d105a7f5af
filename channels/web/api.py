"""The web API's rules, free of any HTTP framework so they are tested and reused plainly.

`to_inbound`/`render` convert between the chat's JSON and the core's types; `OriginPolicy`
decides which sites may call the API from a browser (CORS); `SlidingWindow` counts requests
per key for the rate limits. `server.py` applies them to aiohttp requests.
"""

from __future__ import annotations

import ipaddress
import math
import re
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from bot.messages import Address, Answer, Inbound

CHANNEL = "web"
PUSH_CHANNEL = "webpush"  # the Web Push channel's addresses: a device's subscription id
_SESSION = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
PUSH_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_TEXT_CHARS = 4_000


@dataclass(frozen=True, slots=True)
class RequestError(Exception):
    """A request the API refuses, with the French message returned to the client."""

    message: str


def to_inbound(payload: Any, now: datetime) -> Inbound:
    """Validate a decoded `POST /api/chat` body and build the Inbound message.

    With a valid `"push"` id the conversation belongs to that device's Web Push address
    (so `/abonner` subscribes the device); otherwise to the web chat session."""
    if not isinstance(payload, dict):
        raise RequestError("Le corps de la requête doit être un objet JSON.")
    session, text, choice = payload.get("session"), payload.get("text"), payload.get("choice")
    push = payload.get("push")
    if not isinstance(session, str) or not _SESSION.match(session):
        raise RequestError(
            'Le champ "session" est manquant ou invalide (1 à 128 caractères A-Z, 0-9, - ou _).'
        )
    if push is not None and (not isinstance(push, str) or not PUSH_ID.match(push)):
        raise RequestError('Le champ "push" est invalide (1 à 64 caractères A-Z, 0-9, - ou _).')
    if choice is not None and (not isinstance(choice, str) or len(choice) > 200):
        raise RequestError('Le champ "choice" doit être un texte court.')
    if text is None and choice is None:
        raise RequestError('Le champ "text" est manquant.')
    if text is not None and not isinstance(text, str):
        raise RequestError('Le champ "text" doit être un texte.')
    if text is not None and len(text) > MAX_TEXT_CHARS:
        raise RequestError(f'Le champ "text" dépasse {MAX_TEXT_CHARS} caractères.')
    address = Address(PUSH_CHANNEL, push) if push else Address(CHANNEL, session)
    return Inbound(address, text or "", now, choice)


def render(answer: Answer) -> dict[str, Any]:
    """The JSON body returned for an answer."""
    return {
        "text": answer.text,
        "entry": answer.source,
        "suggestions": [{"label": c.label, "payload": c.payload} for c in answer.choices],
        "links": list(answer.links),
    }


@lru_cache(maxsize=256)  # a site's few origins and hosts come back with every request
def normalise_origin(origin: str) -> str:
    """`scheme://host[:port]` in lower case, default ports dropped; "" if not an origin."""
    try:
        parts = urlsplit(origin.strip().rstrip("/"))
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        return ""
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == {"http": 80, "https": 443}[parts.scheme]:
        return f"{parts.scheme}://{host}"
    return f"{parts.scheme}://{host}:{port}"


class OriginPolicy:
    """Which browser origins may call the API: the server's own, and `allowed_origins`.

    A request without an `Origin` header (curl, a server) is not a cross-site browser
    request and is let through; one from any other origin is refused (403) and its
    response carries no CORS header, so the page could not read it anyway."""

    ALLOW_METHODS = "GET, POST, OPTIONS"
    ALLOW_HEADERS = "Content-Type"
    EXPOSE_HEADERS = "Retry-After"
    MAX_AGE = "600"

    def __init__(self, allowed_origins: Iterable[str]) -> None:
        self.allowed = frozenset(o for o in map(normalise_origin, allowed_origins) if o)

    def is_cross_site_allowed(self, origin: str) -> bool:
        return normalise_origin(origin) in self.allowed

    def permits(self, origin: str | None, own_host: str) -> bool:
        """Whether a request with this `Origin` header, sent to `own_host`, is accepted.

        The server's own origin is recognised by its host and port alone, so it is still
        recognised behind a reverse proxy that terminates TLS."""
        if origin is None:
            return True
        if self.is_cross_site_allowed(origin):
            return True
        own = normalise_origin(origin)
        return bool(own) and own.split("://", 1)[1] == _host_port(own_host, own)

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """The CORS headers for a response to an allowed cross-site request."""
        if origin is None or not self.is_cross_site_allowed(origin):
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Expose-Headers": self.EXPOSE_HEADERS,
        }

    def preflight_headers(self, origin: str | None) -> dict[str, str]:
        """The headers answering an allowed preflight (`OPTIONS`) request."""
        headers = self.response_headers(origin)
        if headers:
            headers.update(
                {
                    "Access-Control-Allow-Methods": self.ALLOW_METHODS,
                    "Access-Control-Allow-Headers": self.ALLOW_HEADERS,
                    "Access-Control-Max-Age": self.MAX_AGE,
                }
            )
        return headers


def _host_port(host_header: str, origin: str) -> str:
    """The Host header in the form of an origin's authority (default port dropped)."""
    scheme = origin.split("://", 1)[0]
    normalised = normalise_origin(f"{scheme}://{host_header}")
    return normalised.split("://", 1)[1] if normalised else ""


class SlidingWindow:
    """At most `limit` events per key in any `window` seconds, counted in memory.

    `check` never records anything, so a refused request leaves no trace; `hit` records an
    accepted one. Keys idle for a whole window are forgotten, which bounds the memory."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit, self.window, self._clock = limit, window, clock
        self._events: dict[str, deque[float]] = {}
        self._next_sweep = clock() + window

    def check(self, key: str) -> int:
        """0 if one more event is allowed now, else the seconds to wait (at least 1)."""
        now = self._clock()
        self._sweep(now)
        events = self._events.get(key)
        if events is None:
            return 0
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) < self.limit:
            return 0
        return max(1, math.ceil(events[0] + self.window - now))

    def hit(self, key: str) -> None:
        self._events.setdefault(key, deque()).append(self._clock())

    def __len__(self) -> int:
        return len(self._events)

    def _sweep(self, now: float) -> None:
        if now < self._next_sweep:
            return
        self._next_sweep = now + self.window
        stale = [k for k, e in self._events.items() if not e or e[-1] <= now - self.window]
        for key in stale:
            del self._events[key]


def client_ip(peer: str | None, forwarded_for: str | None) -> str:
    """The address a rate limit counts: the peer, or, when the peer is a reverse proxy on
    this host or its private network (Caddy in the deployment guide), the address that
    proxy appended last to `X-Forwarded-For` (earlier entries are the client's to forge)."""
    if not peer:
        return "inconnue"
    if not forwarded_for or not _is_private(peer):
        return peer
    last = forwarded_for.rsplit(",", 1)[-1].strip()
    try:
        return str(ipaddress.ip_address(last))
    except ValueError:
        return peer


@lru_cache(maxsize=1_024)
def _is_private(peer: str) -> bool:
    """Whether the peer is this host or its private network (loopback and Docker networks
    too); remembered, as one proxy or a few residents send many requests."""
    try:
        return ipaddress.ip_address(peer).is_private
    except ValueError:
        return False


def retry_message(seconds: int) -> str:
    """The polite French message of a 429."""
    return (
        "Vous envoyez beaucoup de messages en peu de temps. Merci de patienter "
        f"{seconds} seconde{'s' if seconds > 1 else ''} avant de réessayer."
    )
