"""The WhatsApp channel on the Business Cloud API: Meta's webhooks in, the Graph API out.

Webhooks arrive on Crieur's web server. Every POST is checked against `X-Hub-Signature-256`
(HMAC-SHA256 of the raw body with the app secret, constant-time) before anything is parsed,
acknowledged at once, and processed in the background; a message id seen before is not
answered twice. Answers go out as text or interactive messages. Notices are free text within
24 hours of the resident's last message, and the configured template outside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from sqlalchemy import select, update

from bot.channel import (
    Capabilities,
    Push,
    PushNotAllowed,
    RateLimited,
    RecipientGone,
    Rejected,
    TransientError,
)
from bot.messages import Answer, InboundHandler
from bot.store import Store, insert_for
from bot.store.schema import sent_messages, whatsapp_contacts
from channels.whatsapp.inbound import CHANNEL, Incoming, Status, read_webhook
from channels.whatsapp.render import Body, render, template_body

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.facebook.com/v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
WINDOW = timedelta(hours=24)
MAX_WEBHOOK_BYTES = 1_000_000
SEEN_LIMIT = 50_000
RATE_LIMIT_CODES = {130429: 1.0, 131056: 5.0, 4: 60.0, 80007: 60.0}  # code → retry after (s)
GONE_CODES = {131026, 131030, 131045, 1013}  # not on WhatsApp, not allowed, unknown user
TEMPLATE_NEEDED = 131047  # re-engagement: more than 24 hours since the resident wrote


@dataclass(frozen=True, slots=True)
class WhatsAppOptions:
    """The `[whatsapp]` settings the channel needs."""

    phone_number_id: str
    access_token: str
    app_secret: str
    verify_token: str
    graph_url: str = GRAPH_URL
    webhook_path: str = "/webhooks/whatsapp"
    templates: dict[str, str] = field(default_factory=dict)  # notice kind → template name
    template_language: str = "fr"
    rate_per_second: float = 80.0
    timeout_seconds: float = 15.0


class GraphError(Exception):
    """An error answer of the Graph API: its HTTP status, code and message."""

    def __init__(self, status: int, code: int | None, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message


class WhatsAppChannel:
    """One WhatsApp Business number, speaking for one commune."""

    name = CHANNEL

    def __init__(self, store: Store | None, options: WhatsAppOptions) -> None:
        self.store = store
        self.options = options
        self.capabilities = Capabilities(
            can_push=True, max_text=4096, rate_per_second=options.rate_per_second, concurrency=8
        )
        self._windows: OrderedDict[str, datetime] = OrderedDict()  # wa_id → last inbound
        self._handler: InboundHandler | None = None
        self._session: aiohttp.ClientSession | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[None]] = set()
        self._state = "en attente"
        self._last_error: str | None = None
        self.received = 0

    def use_store(self, store: Store) -> None:
        self.store = store

    async def start(self, handler: InboundHandler) -> None:
        self._handler = handler
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.options.timeout_seconds),
            headers={"Authorization": f"Bearer {self.options.access_token}"},
        )
        self._state = "prêt"

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=10)
        if self._session is not None:
            await self._session.close()
            self._session = None
        self._state = "arrêté"

    async def drain(self) -> None:
        """Wait until every webhook received so far is processed (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    def health(self) -> dict[str, object]:
        state: dict[str, object] = {"state": self._state, "webhooks": self.received}
        if self._last_error:
            state["last_error"] = self._last_error
        return state

    def routes(self) -> list[web.RouteDef]:
        path = self.options.webhook_path
        return [web.get(path, self.verify), web.post(path, self.webhook)]

    # ------------------------------------------------------------------ webhook

    async def verify(self, request: web.Request) -> web.Response:
        """Meta's subscription check: echo `hub.challenge` when the verify token matches."""
        query = request.query
        token = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            token.encode(), self.options.verify_token.encode()
        ):
            return web.json_response({"error": "Jeton de vérification invalide."}, status=403)
        return web.Response(text=query.get("hub.challenge", ""))

    async def webhook(self, request: web.Request) -> web.Response:
        """Check the signature of the raw body, acknowledge, process in the background."""
        body = await _read_at_most(request, MAX_WEBHOOK_BYTES)
        if body is None:
            return web.json_response({"error": "Requête trop volumineuse."}, status=413)
        given = request.headers.get(SIGNATURE_HEADER, "")
        if not given:
            return web.json_response({"error": "Signature manquante."}, status=401)
        expected = (
            "sha256=" + hmac.new(self.options.app_secret.encode(), body, hashlib.sha256).hexdigest()
        )
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return web.json_response({"error": "Signature invalide."}, status=403)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return web.json_response({"error": "JSON invalide."}, status=400)
        self.received += 1
        task = asyncio.create_task(self._process(payload))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.json_response({"ok": True})

    async def _process(self, payload: Any) -> None:
        try:
            incoming, statuses = read_webhook(
                payload, self.options.phone_number_id, datetime.now(UTC)
            )
            if statuses:
                await self._record_statuses(statuses)
            for message in incoming:
                if message.message_id in self._seen:
                    continue  # Meta delivers a webhook again when unsure: answer once
                self._seen[message.message_id] = None
                while len(self._seen) > SEEN_LIMIT:
                    self._seen.popitem(last=False)
                await self._answer(message)
        except Exception:
            log.exception("whatsapp: webhook could not be processed")

    async def _answer(self, message: Incoming) -> None:
        assert self._handler is not None
        inbound = message.inbound
        await self._note_contact(inbound.address.chat_id, inbound.received_at)
        with contextlib.suppress(GraphError, aiohttp.ClientError, TimeoutError):
            await self._post({"messaging_product": "whatsapp", "status": "read",
                              "message_id": message.message_id})  # fmt: skip
        answer = await self._handler(inbound)
        for body in render(inbound.address.chat_id, answer):
            try:
                await self._post(body)
            except (GraphError, aiohttp.ClientError, TimeoutError) as exc:
                self._last_error = str(exc)[:300]
                log.warning("whatsapp: answer not sent: %s", self._last_error)
                return

    # ------------------------------------------------------------------ push

    async def push(self, push: Push) -> None:
        """A notice: free text inside the 24-hour window, else the kind's template."""
        to = push.to.chat_id
        inside = await self._inside_window(to)
        template = self.options.templates.get(push.kind) or self.options.templates.get("*")
        if inside:
            bodies = render(to, _answer_of(push.text))
        elif template:
            bodies = [template_body(to, template, self.options.template_language, push.text)]
        else:
            raise PushNotAllowed(
                f"hors de la fenêtre de 24 h et aucun modèle configuré pour « {push.kind} »"
            )
        for body in bodies:
            try:
                message_id = await self._post(body)
            except GraphError as exc:
                if exc.code == TEMPLATE_NEEDED and inside and template:
                    body = template_body(to, template, self.options.template_language, push.text)
                    message_id = await _mapped(self._post(body))
                else:
                    raise _translated(exc) from exc
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(f"{type(exc).__name__}: {exc}") from exc
            await self._record_sent(message_id, push.key)

    # ------------------------------------------------------------------ Graph API

    async def _post(self, body: Body) -> str | None:
        """POST one message; returns its WhatsApp id (None for a read receipt)."""
        if self._session is None:
            raise TransientError("canal WhatsApp arrêté")
        url = f"{self.options.graph_url.rstrip('/')}/{self.options.phone_number_id}/messages"
        async with self._session.post(url, json=body) as response:
            text = await response.text()
            try:
                data = json.loads(text)
            except ValueError:
                data = None
            if response.status >= 400 or not isinstance(data, dict):
                error = data.get("error") if isinstance(data, dict) else None
                if isinstance(error, dict):
                    code = error.get("code")
                    raise GraphError(response.status, code if isinstance(code, int) else None,
                                     str(error.get("message", ""))[:300])  # fmt: skip
                raise GraphError(response.status, None, text[:200] or "réponse vide")
        messages = data.get("messages")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict):
            message_id = messages[0].get("id")
            return message_id if isinstance(message_id, str) else None
        return None

    # ------------------------------------------------------------------ store

    def _remember(self, wa_id: str, at: datetime) -> None:
        self._windows[wa_id] = at
        self._windows.move_to_end(wa_id)
        while len(self._windows) > SEEN_LIMIT:
            self._windows.popitem(last=False)

    async def _note_contact(self, wa_id: str, at: datetime) -> None:
        self._remember(wa_id, at)
        if self.store is None:
            return
        async with self.store.begin() as connection:
            await connection.execute(
                insert_for(connection, whatsapp_contacts)
                .values(wa_id=wa_id, last_inbound_at=at)
                .on_conflict_do_update(index_elements=["wa_id"], set_={"last_inbound_at": at})
            )

    async def _inside_window(self, wa_id: str) -> bool:
        last = self._windows.get(wa_id)
        if last is None and self.store is not None:
            async with self.store.connect() as connection:
                last = await connection.scalar(
                    select(whatsapp_contacts.c.last_inbound_at).where(
                        whatsapp_contacts.c.wa_id == wa_id
                    )
                )
            if last is not None:
                self._remember(wa_id, last)
        return last is not None and datetime.now(UTC) - last < WINDOW

    async def _record_sent(self, message_id: str | None, key: str) -> None:
        if self.store is None or not message_id:
            return
        async with self.store.begin() as connection:
            await connection.execute(
                insert_for(connection, sent_messages)
                .values(
                    provider_id=message_id,
                    channel=CHANNEL,
                    delivery_key=key,
                    status="sent",
                    updated_at=datetime.now(UTC),
                )
                .on_conflict_do_nothing(index_elements=["provider_id"])
            )

    async def _record_statuses(self, statuses: list[Status]) -> None:
        if self.store is None:
            return
        async with self.store.begin() as connection:
            for status in statuses:
                await connection.execute(
                    update(sent_messages)
                    .where(sent_messages.c.provider_id == status.message_id)
                    .values(status=status.status, error=status.error, updated_at=status.at)
                )
                if status.error:
                    log.warning("whatsapp: message %s failed: %s", status.message_id, status.error)


async def _read_at_most(request: web.Request, limit: int) -> bytes | None:
    """The raw body (the signature is over these exact bytes), or None beyond `limit`."""
    if (request.content_length or 0) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(65_536):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _answer_of(text: str) -> Answer:
    return Answer(text, None)


def _translated(error: GraphError) -> Exception:
    """A Graph error as the outbox's."""
    if error.code in RATE_LIMIT_CODES:
        return RateLimited(RATE_LIMIT_CODES[error.code], error.message)
    if error.code in GONE_CODES:
        return RecipientGone(error.message)
    if error.code == TEMPLATE_NEEDED:
        return PushNotAllowed("fenêtre de 24 h dépassée et aucun modèle configuré")
    if error.status == 429:
        return RateLimited(1.0, error.message)
    if error.status >= 500 or error.code in (1, 2, 131000, 131016):
        return TransientError(str(error))
    return Rejected(str(error))


async def _mapped(sending: Any) -> str | None:
    try:
        result: str | None = await sending
    except GraphError as exc:
        raise _translated(exc) from exc
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc
    return result
