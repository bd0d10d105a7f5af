"""The Web Push channel: notices shown by the resident's browser, even with the site closed.

Nothing is polled and nothing arrives in-band: the site's service worker subscribes the
browser through `/api/push/subscribe` (the browser's endpoint and keys are kept in the
`push_subscriptions` table, under a digest of the endpoint that becomes the resident's
address), then the outbox calls `push` for each notice. A push is encrypted for that one
browser (RFC 8291, aes128gcm) and POSTed to its push service with a VAPID token (RFC 8292);
the answer is mapped to the outbox's outcomes at this boundary, so a browser that dropped
its subscription (404/410) is forgotten and its subscriber deactivated.

Sending uses aiohttp on Crieur's event loop with one session for the channel's lifetime;
encryption and signing are a fraction of a millisecond of CPU, so the loop is never held.
pywebpush is not used: its async path works, but it imports `requests` (several MB of
memory for nothing here) and hides the response this module needs to map.
"""

from __future__ import annotations

import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import cast
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from bot.channel import Capabilities, Push, RateLimited, RecipientGone, Rejected, TransientError
from bot.messages import Address, InboundHandler
from bot.store import Store, insert_for
from bot.store.schema import push_subscriptions
from bot.subscriptions import Subscriptions
from channels.webpush.api import (
    PUSH_SERVICE_HOSTS,
    BrowserSubscription,
    RequestError,
    parse_subscribe,
    parse_unsubscribe,
)
from channels.webpush.keys import VapidKey, VapidKeyError, b64url_decode, create_in_child
from channels.webpush.render import MAX_BODY, payload, tag_for

log = logging.getLogger(__name__)

CHANNEL = "webpush"
DEFAULT_RETRY_AFTER = 30.0  # seconds, when a 429 does not say
MAX_RETRY_AFTER = 3600.0
UNSUBSCRIBED_WORDS = "notifications désactivées dans le navigateur"


@dataclass(frozen=True, slots=True)
class WebPushOptions:
    """The `[webpush]` settings, and what the commune's pack says about itself."""

    key_path: Path  # the VAPID private key (PEM), created on first start: in the data dir
    contact: str  # the commune's e-mail (or a mailto:/https: URI) given to push services
    title: str = ""  # the commune's name, shown above each notification
    click_url: str = "/"  # opened when the resident taps the notification
    ttl_seconds: int = 12 * 3600  # how long a push service keeps a notice for an offline device
    rate_per_second: float = 50.0
    timeout_seconds: float = 10.0
    max_body: int = MAX_BODY  # characters of notice text in a notification
    push_hosts: tuple[str, ...] = PUSH_SERVICE_HOSTS  # allowed endpoint hosts; () = any public
    allow_insecure_endpoints: bool = False  # admit http://127.0.0.1 endpoints: tests only
    replace_kinds: frozenset[str] = field(default_factory=frozenset)  # see render.tag_for
    route_prefix: str = "/api/push"
    max_request_bytes: int = 4_096

    @property
    def subject(self) -> str:
        """The VAPID `sub` claim: whom a push service contacts about this sender."""
        contact = self.contact.strip()
        if contact.startswith(("mailto:", "https://")):
            return contact
        if "@" in contact and " " not in contact:
            return f"mailto:{contact}"
        raise ValueError(
            "webpush : le contact doit être une adresse électronique (ou une URL https://)"
        )


class WebPushChannel:
    """Pushes notices to the browsers that subscribed on the commune's site."""

    name = CHANNEL

    def __init__(self, store: Store | None, options: WebPushOptions) -> None:
        self.store = store  # may be given later with `use_store`, before `start`
        self.options = options
        self.capabilities = Capabilities(
            can_push=True,
            max_text=options.max_body,
            rate_per_second=options.rate_per_second,
            concurrency=8,  # push services answer in tens of milliseconds
        )
        self._subject = options.subject  # refuse a bad contact now, not at the first push
        self._key: VapidKey | None = None
        self._session: aiohttp.ClientSession | None = None
        self._handler: InboundHandler | None = None
        self._state = "non démarré"
        self._last_error: str | None = None
        self.sent = 0

    def use_store(self, store: Store) -> None:
        """Attach the store opened after the channel was built (the app opens it later)."""
        self.store = store

    @property
    def public_key(self) -> str | None:
        """The VAPID public key browsers subscribe with (base64url), once started."""
        return self._key.public_key if self._key is not None else None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, handler: InboundHandler) -> None:
        """Load (or create) the VAPID key and open the HTTP session; nothing to poll.

        An unusable key file is shown on the health endpoint rather than stopping Crieur:
        the web chat keeps working while the operator restores the file.
        """
        self._handler = handler  # kept for symmetry: Web Push carries nothing inbound
        if not self.options.key_path.exists():  # first start: cryptography stays in a child
            await create_in_child(self.options.key_path)
        try:
            self._key = VapidKey.load_or_create(self.options.key_path, self._subject)
        except (VapidKeyError, OSError) as exc:
            self._fail("clé VAPID inutilisable", exc)
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.options.timeout_seconds),
                connector=aiohttp.TCPConnector(limit=64, ttl_dns_cache=300),
                auto_decompress=False,
            )
        self._state, self._last_error = "prêt", None

    async def stop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        self._state = "arrêté"

    def health(self) -> dict[str, object]:
        state: dict[str, object] = {"state": self._state, "sent": self.sent}
        if self._last_error:
            state["last_error"] = self._last_error
        return state

    def _fail(self, state: str, error: BaseException) -> None:
        self._state = state
        self._last_error = f"{type(error).__name__}: {error}"[:300]
        log.error("webpush: %s (%s)", state, self._last_error)

    # ------------------------------------------------------------------ routes

    def routes(self) -> list[web.RouteDef]:
        """`GET …/key`, `POST …/subscribe`, `POST …/unsubscribe` (prefix `/api/push`)."""
        prefix = self.options.route_prefix.rstrip("/")
        return [
            web.get(f"{prefix}/key", self._key_route),
            web.post(f"{prefix}/subscribe", self._subscribe_route),
            web.post(f"{prefix}/unsubscribe", self._unsubscribe_route),
        ]

    async def _key_route(self, request: web.Request) -> web.Response:
        if self._key is None:
            return _error(503, "Les notifications ne sont pas disponibles pour le moment.")
        return web.json_response(
            {"publicKey": self._key.public_key}, headers={"Cache-Control": "no-cache"}
        )

    async def _subscribe_route(self, request: web.Request) -> web.Response:
        try:
            subscription = parse_subscribe(
                await self._read_json(request),
                hosts=self.options.push_hosts,
                allow_insecure=self.options.allow_insecure_endpoints,
            )
        except RequestError as exc:
            return _error(exc.status, exc.message)
        if self.store is None or self._key is None:
            return _error(503, "Les notifications ne sont pas disponibles pour le moment.")
        try:
            await self._save(self.store, subscription)
        except SQLAlchemyError:
            log.exception("webpush: subscription not stored")
            return _error(503, "Enregistrement impossible pour le moment, réessayez plus tard.")
        return web.json_response({"push": subscription.chat_id})

    async def _unsubscribe_route(self, request: web.Request) -> web.Response:
        try:
            chat_id = parse_unsubscribe(await self._read_json(request))
        except RequestError as exc:
            return _error(exc.status, exc.message)
        if self.store is None:
            return _error(503, "Les notifications ne sont pas disponibles pour le moment.")
        try:
            await self.forget(chat_id)
        except SQLAlchemyError:
            log.exception("webpush: unsubscription not stored")
            return _error(503, "Désinscription impossible pour le moment, réessayez plus tard.")
        return web.json_response({"ok": True})

    async def _read_json(self, request: web.Request) -> object:
        """The request's JSON body, or a `RequestError` with the right 4xx."""
        if request.content_type != "application/json":
            raise RequestError("Envoyez du JSON (Content-Type: application/json).", 415)
        limit = self.options.max_request_bytes
        if request.content_length is not None and request.content_length > limit:
            raise RequestError("Requête trop volumineuse.", 413)
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise RequestError("Requête trop volumineuse.", 413) from None
        if len(body) > limit:
            raise RequestError("Requête trop volumineuse.", 413)
        try:
            return cast(object, json.loads(body))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
            raise RequestError("JSON invalide.") from None

    # ------------------------------------------------------------------ store

    async def _save(self, store: Store, subscription: BrowserSubscription) -> None:
        """Insert the browser, or refresh its keys if it subscribed before (same endpoint)."""
        async with store.begin() as connection:
            statement = insert_for(connection, push_subscriptions).values(
                chat_id=subscription.chat_id,
                endpoint=subscription.endpoint,
                p256dh=subscription.p256dh,
                auth=subscription.auth,
                created_at=datetime.now(UTC),
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["chat_id"],
                    set_={"p256dh": subscription.p256dh, "auth": subscription.auth},
                )
            )

    async def registered(self, chat_id: str) -> bool:
        """Whether `chat_id` is a browser subscribed here (for the chat API's `"push"` field)."""
        if self.store is None:
            return False
        async with self.store.connect() as connection:
            found = await connection.scalar(
                select(push_subscriptions.c.chat_id).where(push_subscriptions.c.chat_id == chat_id)
            )
        return found is not None

    async def forget(self, chat_id: str) -> None:
        """The browser turned notifications off: drop it, and its topics with a consent record."""
        assert self.store is not None
        await self._delete(self.store, chat_id)
        await Subscriptions(self.store).unsubscribe(
            Address(CHANNEL, chat_id), datetime.now(UTC), UNSUBSCRIBED_WORDS
        )

    @staticmethod
    async def _delete(store: Store, chat_id: str) -> None:
        async with store.begin() as connection:
            await connection.execute(
                delete(push_subscriptions).where(push_subscriptions.c.chat_id == chat_id)
            )

    # ------------------------------------------------------------------ push

    async def push(self, push: Push) -> None:
        """Encrypt the notice for one browser and hand it to its push service."""
        session, key, store = self._session, self._key, self.store
        if session is None or key is None or store is None:
            raise TransientError("canal Web Push non démarré")
        chat_id = push.to.chat_id
        try:
            async with store.connect() as connection:
                row = (
                    await connection.execute(
                        select(
                            push_subscriptions.c.endpoint,
                            push_subscriptions.c.p256dh,
                            push_subscriptions.c.auth,
                        ).where(push_subscriptions.c.chat_id == chat_id)
                    )
                ).first()
        except SQLAlchemyError as exc:
            raise TransientError(f"base indisponible : {type(exc).__name__}") from exc
        if row is None:
            raise RecipientGone("abonnement Web Push inconnu ou retiré")
        endpoint, p256dh, auth = str(row.endpoint), str(row.p256dh), str(row.auth)
        tag = tag_for(push, self.options.replace_kinds)
        plaintext = payload(
            push,
            commune=self.options.title,
            url=self.options.click_url,
            tag=tag,
            max_body=self.options.max_body,
        )
        try:
            body = _encrypt(plaintext, p256dh, auth)
        except ValueError as exc:  # keys stored before validation?
            raise Rejected(f"clés du navigateur inutilisables : {exc}") from exc
        parts = urlsplit(endpoint)
        try:
            authorization = key.authorization(f"{parts.scheme}://{parts.netloc}")
        except VapidKeyError as exc:  # the private key is parsed at the first push
            self._fail("clé VAPID inutilisable", exc)
            raise TransientError(f"clé VAPID inutilisable : {exc}") from exc
        headers = {
            "Authorization": authorization,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(self.options.ttl_seconds),
            "Urgency": "high" if push.urgent else "normal",
            "Topic": tag,
        }
        try:
            async with session.post(
                endpoint, data=body, headers=headers, allow_redirects=False
            ) as response:
                status = response.status
                retry_after = response.headers.get("Retry-After")
                detail = (await response.content.read(300)).decode("utf-8", "replace").strip()
        except (aiohttp.ClientError, TimeoutError) as exc:  # the URL is a secret: host only
            reason = f"{parts.hostname} : {type(exc).__name__}"
            raise TransientError(f"service de notification injoignable ({reason})") from exc
        await self._outcome(store, chat_id, status, retry_after, detail)
        self.sent += 1

    async def _outcome(
        self, store: Store, chat_id: str, status: int, retry_after: str | None, detail: str
    ) -> None:
        """Map the push service's answer to the outbox's outcomes (RFC 8030, section 8)."""
        summary = f"HTTP {status}" + (f" : {detail[:200]}" if detail else "")
        if 200 <= status < 300:
            return
        if status in (404, 410):  # the browser unsubscribed, or the subscription expired
            with contextlib.suppress(SQLAlchemyError):  # deactivation happens anyway
                await self._delete(store, chat_id)
            raise RecipientGone(f"abonnement Web Push expiré ({summary})")
        if status == 429:
            raise RateLimited(_retry_after(retry_after), f"trop d'envois ({summary})")
        if status == 408 or status >= 500:
            raise TransientError(f"service de notification en difficulté ({summary})")
        if 400 <= status < 500:  # 400 malformed, 403 VAPID key mismatch, 413 too large…
            if status in (401, 403):
                log.warning("webpush: push service refused our VAPID token (%s)", summary)
            raise Rejected(f"notification refusée ({summary})")
        raise TransientError(f"réponse inattendue du service de notification ({summary})")


def _encrypt(plaintext: bytes, p256dh: str, auth: str) -> bytes:
    """RFC 8291: aes128gcm for one browser, with a fresh ephemeral key and salt each time.

    Raises ValueError when the browser's keys cannot be used.
    """
    # Imported here, not at the top: http_ece and cryptography cost ~10 MB of memory, and a
    # Crieur that runs without pushing anything (most of the time) does not need them.
    import http_ece  # type: ignore[import-untyped]
    from cryptography.hazmat.primitives.asymmetric import ec

    try:
        return cast(
            bytes,
            http_ece.encrypt(
                plaintext,
                private_key=ec.generate_private_key(ec.SECP256R1()),
                dh=b64url_decode(p256dh),
                auth_secret=b64url_decode(auth),
                version="aes128gcm",
            ),
        )
    except http_ece.ECEException as exc:
        raise ValueError(exc.message) from exc


def _retry_after(value: str | None) -> float:
    """`Retry-After` in seconds or as an HTTP date; a sane default when absent or garbled."""
    seconds = DEFAULT_RETRY_AFTER
    if value:
        try:
            seconds = float(value)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError):
                when = parsedate_to_datetime(value)
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                seconds = (when - datetime.now(UTC)).total_seconds()
        if seconds != seconds:  # "nan" parses as a float
            seconds = DEFAULT_RETRY_AFTER
    return min(max(seconds, 1.0), MAX_RETRY_AFTER)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)
