"""Pure validation of what browsers send to `/api/push/*`.

The endpoint of a subscription is a URL Crieur will later POST to, chosen by whoever calls
the API: it is checked strictly (HTTPS, a public host name, by default one of the browsers'
push services) so that the subscribe route cannot be used to make the server call into the
commune's own network. The keys must be what a browser really produces: a P-256 point and
a 16-byte secret, or nothing could ever be encrypted for them.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from channels.webpush.keys import b64url, b64url_decode

MAX_ENDPOINT = 1_000
CHAT_ID_LENGTH = 43  # unpadded base64url of a SHA-256 digest
PUSH_SERVICE_HOSTS = (  # the push services of Chrome & co., Firefox, Edge and Safari
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "notify.windows.com",
    "push.apple.com",
)
_SESSION = re.compile(r"[A-Za-z0-9_-]{1,128}")
_CHAT_ID = re.compile(rf"[A-Za-z0-9_-]{{{CHAT_ID_LENGTH}}}")
_LOOPBACK = frozenset({"127.0.0.1", "::1"})
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home", ".arpa")


@dataclass(frozen=True, slots=True)
class RequestError(Exception):
    """A request the push API refuses: HTTP status and the French message returned."""

    message: str
    status: int = 400


@dataclass(frozen=True, slots=True)
class BrowserSubscription:
    """What `PushSubscription.toJSON()` gives, validated; keys in canonical base64url."""

    endpoint: str
    p256dh: str
    auth: str

    @property
    def chat_id(self) -> str:
        """The resident's address on this channel: a digest of the endpoint, never the URL."""
        return chat_id_for(self.endpoint)


def chat_id_for(endpoint: str) -> str:
    return b64url(hashlib.sha256(endpoint.encode()).digest())[:CHAT_ID_LENGTH]


def parse_subscribe(
    payload: Any,
    *,
    hosts: tuple[str, ...] = PUSH_SERVICE_HOSTS,
    allow_insecure: bool = False,
) -> BrowserSubscription:
    """Validate a decoded `POST /api/push/subscribe` body."""
    if not isinstance(payload, dict):
        raise RequestError("Le corps de la requête doit être un objet JSON.")
    session = payload.get("session")
    if session is not None and (not isinstance(session, str) or not _SESSION.fullmatch(session)):
        raise RequestError('Le champ "session" est invalide (1 à 128 caractères A-Z, 0-9, - ou _).')
    subscription = payload.get("subscription")
    if not isinstance(subscription, dict):
        raise RequestError('Le champ "subscription" est manquant ou n\'est pas un objet.')
    endpoint = subscription.get("endpoint")
    check_endpoint(endpoint, hosts=hosts, allow_insecure=allow_insecure)
    assert isinstance(endpoint, str)
    expiration = subscription.get("expirationTime")
    if expiration is not None and (
        isinstance(expiration, bool) or not isinstance(expiration, int | float)
    ):
        raise RequestError('Le champ "expirationTime" doit être nul ou un nombre.')
    keys = subscription.get("keys")
    if not isinstance(keys, dict):
        raise RequestError('Le champ "keys" (p256dh et auth) est manquant.')
    return BrowserSubscription(endpoint, _p256dh(keys.get("p256dh")), _auth(keys.get("auth")))


def parse_unsubscribe(payload: Any) -> str:
    """Validate a decoded `POST /api/push/unsubscribe` body; returns the push id."""
    if not isinstance(payload, dict):
        raise RequestError("Le corps de la requête doit être un objet JSON.")
    push = payload.get("push")
    if not isinstance(push, str) or not _CHAT_ID.fullmatch(push):
        raise RequestError('Le champ "push" est manquant ou invalide.')
    return push


def check_endpoint(
    endpoint: object,
    *,
    hosts: tuple[str, ...] = PUSH_SERVICE_HOSTS,
    allow_insecure: bool = False,
) -> None:
    """Refuse any endpoint that is not an HTTPS URL of an allowed, public push service.

    `hosts` lists allowed host names (a name or any of its subdomains); empty allows every
    public host. `allow_insecure` admits `http://127.0.0.1` for tests and nothing else.
    """
    if not isinstance(endpoint, str) or not endpoint:
        raise RequestError('Le champ "endpoint" est manquant.')
    if len(endpoint) > MAX_ENDPOINT:
        raise RequestError(f'Le champ "endpoint" dépasse {MAX_ENDPOINT} caractères.')
    if not endpoint.isascii() or any(c.isspace() or not c.isprintable() for c in endpoint):
        raise RequestError('Le champ "endpoint" contient des caractères interdits.')
    try:
        parts = urlsplit(endpoint)
        host = (parts.hostname or "").lower()
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise RequestError('Le champ "endpoint" n\'est pas une adresse valide.') from None
    if parts.username is not None or parts.password is not None or parts.fragment or not host:
        raise RequestError('Le champ "endpoint" n\'est pas une adresse valide.')
    if allow_insecure and host in _LOOPBACK and parts.scheme in ("http", "https"):
        return
    if parts.scheme != "https":
        raise RequestError('Le champ "endpoint" doit être une adresse https://.')
    if not _public_name(host):
        raise RequestError('Le champ "endpoint" doit désigner un service public.')
    if hosts and not any(host == allowed or host.endswith("." + allowed) for allowed in hosts):
        raise RequestError('Le champ "endpoint" ne désigne pas un service de notifications connu.')


def _public_name(host: str) -> bool:
    """A host that resolves on the Internet: not an IP literal, localhost or a local name."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return False  # push services are always named; an IP literal is someone's guess
    return "." in host and host != "localhost" and not host.endswith(_PRIVATE_SUFFIXES)


def _p256dh(value: object) -> str:
    # Imported here, not at the top: cryptography costs ~10 MB of memory, and only a browser
    # subscribing (or a push being sent) needs it, not a Crieur that merely runs.
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        if not isinstance(value, str) or len(value) > 100:
            raise ValueError
        raw = b64url_decode(value)
        if len(raw) != 65 or raw[0] != 4:
            raise ValueError
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)  # on the curve?
    except ValueError:
        raise RequestError(
            'La clé "p256dh" est invalide (point P-256 non compressé, en base64url).'
        ) from None
    return b64url(raw)


def _auth(value: object) -> str:
    try:
        if not isinstance(value, str) or len(value) > 30:
            raise ValueError
        raw = b64url_decode(value)
        if len(raw) != 16:
            raise ValueError
    except ValueError:
        raise RequestError('La clé "auth" est invalide (16 octets, en base64url).') from None
    return b64url(raw)
