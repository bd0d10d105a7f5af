"""A fake Web Push service, playing FCM or Mozilla's autopush on the loopback.

It checks what a real push service checks, independently of the code under test: the
VAPID `Authorization: vapid t=…, k=…` header (the ES256 signature verified with the key
from the header, `aud` equal to this service's origin, `exp` in the future and within 24 h,
`sub` a mailto: or https: URI, and `k` equal to the key the browser subscribed with), the
`TTL`, `Urgency` and `Topic` headers, the 4 KB body limit. Then it decrypts the aes128gcm
body as the browser would, with the browser's own private key and auth secret, following
RFC 8291 and RFC 8188 directly on `cryptography` (not with the http_ece package the channel
encrypts with), and records the plaintext.

`FakePushService.browser(key)` plays `PushManager.subscribe({applicationServerKey: key})`:
it generates a real P-256 key pair and a 16-byte auth secret and returns the browser with
the subscription JSON to post to Crieur. Tests script failures (`answer_next`, `expire`),
and `hold()` keeps requests waiting to exercise client timeouts.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

from aiohttp import web
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAX_BODY = 4096  # RFC 8030 section 7.2: push services must accept at least this, FCM no more
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,32}")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class PushRefusedError(Exception):
    """Why the fake refused a push: HTTP status and reason (kept in `FakePushService.refused`)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass
class FakeBrowser:
    """One browser's push subscription, with the secrets only the browser knows."""

    id: str
    endpoint: str
    application_server_key: str  # the VAPID public key the subscription is bound to
    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: secrets.token_bytes(16))

    @property
    def public_bytes(self) -> bytes:
        return self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )

    def subscription(self) -> dict[str, Any]:
        """What `PushSubscription.toJSON()` returns in the browser."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": b64url(self.public_bytes), "auth": b64url(self.auth)},
        }


@dataclass(frozen=True)
class Delivered:
    """One push the fake accepted: to whom, with which headers, and what it said."""

    browser: str
    headers: dict[str, str]
    plaintext: bytes
    claims: dict[str, Any]

    @property
    def json(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.plaintext)
        return document


@dataclass
class _Scripted:
    status: int
    headers: dict[str, str]
    browser: str | None


class FakePushService:
    """The push service, on 127.0.0.1 and a free port; endpoints are `/push/<id>`."""

    def __init__(self) -> None:
        self.browsers: dict[str, FakeBrowser] = {}
        self.expired: set[str] = set()
        self.delivered: list[Delivered] = []
        self.refused: list[tuple[int, str]] = []
        self.requests = 0
        self._scripted: deque[_Scripted] = deque()
        self._released = asyncio.Event()
        self._released.set()
        self._runner: web.AppRunner | None = None
        self._port = 0

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/push/{id}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def close(self) -> None:
        self._released.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    # -- what tests do -----------------------------------------------------------------------

    def browser(self, application_server_key: str) -> FakeBrowser:
        """A new browser subscribed with `application_server_key` (the page's VAPID key)."""
        ident = secrets.token_urlsafe(24)
        browser = FakeBrowser(ident, f"{self.origin}/push/{ident}", application_server_key)
        self.browsers[ident] = browser
        return browser

    def expire(self, browser: FakeBrowser) -> None:
        """The browser dropped its subscription: pushes to it now get 410 Gone."""
        self.expired.add(browser.id)

    def answer_next(
        self,
        status: int,
        headers: dict[str, str] | None = None,
        browser: FakeBrowser | None = None,
    ) -> None:
        """Answer the next push (to `browser`, if given) with `status`, without delivering it."""
        self._scripted.append(_Scripted(status, headers or {}, browser.id if browser else None))

    def hold(self) -> None:
        """Keep every request waiting until `release()` (to test the client's timeout)."""
        self._released.clear()

    def release(self) -> None:
        self._released.set()

    def delivered_to(self, browser: FakeBrowser) -> list[Delivered]:
        return [d for d in self.delivered if d.browser == browser.id]

    # -- HTTP --------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        await self._released.wait()
        ident = request.match_info["id"]
        body = await request.read()
        try:
            browser = self.browsers.get(ident)
            if browser is None:
                raise PushRefusedError(404, "no such subscription")
            if ident in self.expired:
                raise PushRefusedError(410, "subscription expired")
            scripted = self._take_scripted(ident)
            if scripted is not None:
                return web.Response(status=scripted.status, headers=scripted.headers,
                                    text=f"scripted {scripted.status}")  # fmt: skip
            claims = self._check_vapid(request, browser)
            self._check_headers(request, body)
            plaintext = decrypt(body, browser.private_key, browser.auth)
        except PushRefusedError as refused_error:
            self.refused.append((refused_error.status, refused_error.reason))
            return web.Response(status=refused_error.status, text=refused_error.reason)
        self.delivered.append(Delivered(ident, dict(request.headers), plaintext, claims))
        return web.Response(status=201, headers={"Location": f"{self.origin}/message/{ident}"})

    def _take_scripted(self, ident: str) -> _Scripted | None:
        for scripted in self._scripted:
            if scripted.browser in (None, ident):
                self._scripted.remove(scripted)
                return scripted
        return None

    def _check_vapid(self, request: web.Request, browser: FakeBrowser) -> dict[str, Any]:
        header = request.headers.get("Authorization", "")
        scheme, _, rest = header.partition(" ")
        if scheme.lower() != "vapid":
            raise PushRefusedError(401, "Authorization is not a vapid token")
        params: dict[str, str] = {}
        for item in rest.split(","):
            name, _, value = item.strip().partition("=")
            params[name.strip()] = value.strip()
        token, key = params.get("t", ""), params.get("k", "")
        if not token or not key:
            raise PushRefusedError(401, "vapid t= and k= are required")
        if key != browser.application_server_key:
            raise PushRefusedError(
                403, "k differs from the applicationServerKey of the subscription"
            )
        claims = verify_jwt(token, key)
        now = time.time()
        if claims.get("aud") != self.origin:
            raise PushRefusedError(401, f"aud {claims.get('aud')!r} is not {self.origin!r}")
        exp = claims.get("exp")
        if not isinstance(exp, int) or not now < exp <= now + 86400:
            raise PushRefusedError(401, f"exp {exp!r} is not within the next 24 hours")
        sub = claims.get("sub")
        if not isinstance(sub, str) or not sub.startswith(("mailto:", "https:")):
            raise PushRefusedError(401, f"sub {sub!r} is not a mailto: or https: URI")
        return claims

    def _check_headers(self, request: web.Request, body: bytes) -> None:
        if request.headers.get("Content-Encoding") != "aes128gcm":
            raise PushRefusedError(400, "Content-Encoding must be aes128gcm")
        ttl = request.headers.get("TTL", "")
        if not ttl.isdigit():
            raise PushRefusedError(400, "TTL header missing or invalid")
        if request.headers.get("Urgency", "normal") not in URGENCIES:
            raise PushRefusedError(400, "invalid Urgency")
        topic = request.headers.get("Topic")
        if topic is not None and not _TOPIC.fullmatch(topic):
            raise PushRefusedError(400, "Topic must be at most 32 base64url characters")
        if len(body) > MAX_BODY:
            raise PushRefusedError(413, "payload too large")


def verify_jwt(token: str, key: str) -> dict[str, Any]:
    """The claims of an ES256 JWT whose signature verifies with `key` (raw P-256 point)."""
    try:
        head, claims, signature = token.split(".")
        header = json.loads(b64url_decode(head))
        if header.get("alg") != "ES256":
            raise PushRefusedError(401, "alg must be ES256")
        raw = b64url_decode(signature)
        if len(raw) != 64:
            raise PushRefusedError(401, "an ES256 signature is 64 bytes")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64url_decode(key))
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        document: dict[str, Any] = json.loads(b64url_decode(claims))
    except InvalidSignature:
        raise PushRefusedError(401, "bad JWT signature") from None
    except (ValueError, TypeError, AttributeError):
        raise PushRefusedError(401, "malformed JWT") from None
    return document


def _hkdf(salt: bytes, ikm: bytes, info: bytes, length: int) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=length, salt=salt, info=info).derive(ikm)


def decrypt(body: bytes, private_key: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """RFC 8291 (Web Push encryption) over RFC 8188 (aes128gcm), as the browser does it."""
    if len(body) < 21:
        raise PushRefusedError(400, "body shorter than the aes128gcm header")
    salt, (record_size,), id_length = body[:16], struct.unpack("!L", body[16:20]), body[20]
    sender_public = body[21 : 21 + id_length]
    records = body[21 + id_length :]
    if id_length != 65 or record_size < 18:
        raise PushRefusedError(400, "the key id must be the sender's 65-byte public key")
    receiver_public = private_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    try:
        sender = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), sender_public)
    except ValueError:
        raise PushRefusedError(400, "the sender key is not a P-256 point") from None
    shared = private_key.exchange(ec.ECDH(), sender)
    ikm = _hkdf(auth, shared, b"WebPush: info\x00" + receiver_public + sender_public, 32)
    key = _hkdf(salt, ikm, b"Content-Encoding: aes128gcm\x00", 16)
    nonce = _hkdf(salt, ikm, b"Content-Encoding: nonce\x00", 12)
    plaintext = b""
    chunks = [records[i : i + record_size] for i in range(0, len(records), record_size)]
    for counter, chunk in enumerate(chunks):
        iv = nonce[:4] + (int.from_bytes(nonce[4:], "big") ^ counter).to_bytes(8, "big")
        try:
            padded = AESGCM(key).decrypt(iv, chunk, None)
        except InvalidTag:
            raise PushRefusedError(
                400, "decryption failed (wrong keys or corrupted body)"
            ) from None
        content = padded.rstrip(b"\x00")
        last = counter == len(chunks) - 1
        if not content or content[-1:] != (b"\x02" if last else b"\x01"):
            raise PushRefusedError(400, "bad record padding delimiter")
        plaintext += content[:-1]
    return plaintext
