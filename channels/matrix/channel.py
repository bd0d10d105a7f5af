"""The Matrix channel on matrix-nio: answers in rooms, notices pushed by the outbox, E2E.

nio's `AsyncClient` runs on Crieur's own event loop. Crieur drives the sync loop itself
rather than `sync_forever`, for three reasons:

- **no old message is ever answered**: the sync token is kept in the store's `state` table
  after each sync, so a restart resumes where it stopped; the very first start syncs once and
  ignores that timeline (the room history);
- **the homeserver is never hammered**: every failed round (network error, 5xx, refusal)
  waits 1 s, then 2, 4… up to 60 s, and a success resets the wait; nio's own endless retries
  are switched off (`max_timeouts=0`, `max_limit_exceeded=0`) so errors reach this loop and
  the outbox;
- **`start` returns at once**: logging in and syncing happen in the background, so
  `crieur run` keeps serving the web chat when the homeserver is down; `health()` says why.

Rooms: invites from the allowed homeservers are accepted (others declined and logged); the bot
answers every message in a direct room (two members) and, in a group, only when mentioned or
commanded; replies are `m.notice`, and incoming notices and the bot's own events are ignored,
so two bots never loop. A room the resident left is left too, and a notice for it becomes
`RecipientGone`, which unsubscribes that address.

Subscriber address: `Address("matrix", room_id)` — the room where the resident subscribed
(usually their direct room with the bot), because that is where the bot may write to them.

End-to-end encryption: nio keeps the device's keys in `store_path` (one SQLite file per
device, so the device id is kept across restarts too). Messages are decrypted as they arrive
and answers in an encrypted room are encrypted. Trust: the bot encrypts for every device of
the room's members without verifying them (nio's `ignore_unverified_devices`). A public-service
bot cannot verify thousands of residents' devices, and what it sends is public information
(opening hours, collection days, alerts); encryption still keeps it from the homeservers. A
message whose key never arrives is logged (the event, never its content) and answered, in a
direct room, with a polite request to send it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Awaitable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from nio import (  # type: ignore[import-untyped]
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    InviteMemberEvent,
    JoinError,
    LocalProtocolError,
    LoginError,
    MegolmEvent,
    ProfileGetDisplayNameResponse,
    RoomMemberEvent,
    RoomMessageText,
    RoomSendError,
    SendRetryError,
    SyncError,
    WhoamiError,
)

from bot.channel import Capabilities, DeliveryError, Push, RateLimited, RecipientGone
from bot.messages import Answer, Inbound, InboundHandler
from bot.store import Store
from channels.matrix import state
from channels.matrix.errors import delivery_error
from channels.matrix.inbound import CHANNEL, Message, Suggestions, invite_allowed, server_of
from channels.matrix.inbound import to_inbound as message_to_inbound
from channels.matrix.render import Content, content, render
from channels.matrix.state import ChannelState

log = logging.getLogger(__name__)

MAX_BACKOFF = 60.0
STALE_AFTER = timedelta(hours=24)  # a message older than this (Crieur was down) gets no answer
REPLY_ATTEMPTS = 3  # an in-band reply waits out M_LIMIT_EXCEEDED this many times
POLITE_INTERVAL = 600.0  # at most one "I could not read that" per room every ten minutes
CANNOT_DECRYPT = (
    "Je n'ai pas pu lire votre dernier message : il est chiffré et je n'ai pas reçu la clé "
    "pour le déchiffrer. Pouvez-vous le renvoyer ?"
)
# Nothing the bot does not read: no presence, no typing notices, no read receipts.
# After an outage, up to 50 messages per room are caught up (the server's default is 10).
SYNC_FILTER: dict[str, Any] = {
    "presence": {"not_types": ["*"]},
    "account_data": {"not_types": ["*"]},
    "room": {
        "ephemeral": {"not_types": ["*"]},
        "account_data": {"not_types": ["*"]},
        "timeline": {"limit": 50},
    },
}
# The first sync ever only learns the rooms: their history is not answered.
FIRST_SYNC_FILTER: dict[str, Any] = {
    **SYNC_FILTER,
    "room": {**SYNC_FILTER["room"], "timeline": {"limit": 1}},
}
NETWORK_ERRORS = (aiohttp.ClientError, OSError, TimeoutError)


@dataclass(frozen=True, slots=True)
class MatrixOptions:
    """The `[matrix]` settings the channel needs (secrets come from the environment)."""

    homeserver: str  # client-server API base URL, e.g. "https://matrix.morvelay.fr"
    user_id: str  # the bot's account, e.g. "@crieur:morvelay.fr"
    store_path: Path  # nio's end-to-end key store, a directory in the data dir
    access_token: str | None = None  # either a token…
    password: str | None = None  # …or a password (its token is then kept in the store)
    device_id: str | None = None  # forced device id; by default the one login returned
    device_name: str = "Crieur"
    allowed_servers: tuple[str, ...] = ()  # whose invites are accepted; () = the bot's own
    rate_per_second: float = 5.0  # Synapse's default rc_message is 0.2/s: exempt the bot
    sync_timeout: float = 30.0  # long-poll seconds
    undecryptable_wait: float = 5.0  # seconds a room key may arrive after its message


class _CredentialsRefusedError(Exception):
    """The homeserver refused the bot's identity: retrying cannot help."""


class _HomeserverError(Exception):
    """An error answer from the homeserver (5xx, proxy page, refusal): back off and retry."""


class MatrixChannel:
    """One Matrix account, speaking for one commune."""

    name = CHANNEL

    def __init__(self, store: Store | None, options: MatrixOptions) -> None:
        self.options = options
        self.capabilities = Capabilities(
            can_push=True,
            max_text=16_000,
            rate_per_second=options.rate_per_second,
            one_process=True,
        )
        self.user_id = options.user_id
        self.device_id: str | None = None
        self._kept = None if store is None else ChannelState(store, options.user_id)
        self._allowed = options.allowed_servers or (server_of(options.user_id),)
        self._handler: InboundHandler | None = None
        self._client: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._logged_in = False
        self._since: str | None = None
        self._display_name = ""
        self._suggestions = Suggestions()
        self._tasks: set[asyncio.Task[None]] = set()
        self._room_locks: dict[str, tuple[asyncio.Lock, int]] = {}  # lock, tasks using it
        self._polite_at: dict[str, float] = {}
        self._status = "démarrage"
        self._last_error: str | None = None

    # ------------------------------------------------------------------ lifecycle

    def use_store(self, store: Store) -> None:
        """Attach the store opened after the channel was built (the app opens it later)."""
        self._kept = ChannelState(store, self.options.user_id)

    @property
    def _persisted(self) -> ChannelState:
        if self._kept is None:
            raise RuntimeError("MatrixChannel needs the store (use_store) before start")
        return self._kept

    async def start(self, handler: InboundHandler) -> None:
        """Log in and sync in the background; return at once (the homeserver may be down)."""
        _ = self._persisted  # a missing store is a wiring mistake: say it now, not in a task
        self._handler = handler
        self._runner = asyncio.create_task(self._run(), name="matrix-sync")

    async def wait_ready(self) -> None:
        """Wait until logged in and synced once (wrap in `asyncio.timeout`)."""
        await self._ready.wait()

    async def stop(self) -> None:
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._tasks:  # replies under way get a moment to finish
            _done, pending = await asyncio.wait(set(self._tasks), timeout=5.0)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        client, self._client = self._client, None
        if client is not None:
            if client.client_session is not None:
                await client.client_session.close()
            database = getattr(client.store, "database", None)
            if database is not None:
                with contextlib.suppress(Exception):
                    database.close()
        self._ready.clear()
        self._status = "arrêté"

    def health(self) -> dict[str, object]:
        health: dict[str, object] = {"state": self._status, "homeserver": self.options.homeserver}
        if self._last_error:
            health["last_error"] = self._last_error
        return health

    async def _run(self) -> None:
        delay = 1.0
        while True:
            try:
                if not self._logged_in:
                    await self._login()
                await self._sync_once()
            except _CredentialsRefusedError as exc:
                self._fail("identifiants refusés par le homeserver", exc)
                return
            except (*NETWORK_ERRORS, _HomeserverError) as exc:
                self._fail("homeserver injoignable, nouvelle tentative", exc)
            except Exception as exc:  # a bug or an answer nio could not handle: keep going
                log.exception("matrix: sync round failed")
                self._fail("erreur de synchronisation, nouvelle tentative", exc)
            else:
                delay = 1.0
                continue
            self._ready.clear()
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)

    def _fail(self, status: str, error: BaseException) -> None:
        self._status = status
        self._last_error = f"{type(error).__name__}: {error}"[:300]
        log.warning("matrix: %s (%s)", status, self._last_error)

    def _new_client(self) -> Any:
        path = self.options.store_path
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        config = AsyncClientConfig(
            max_limit_exceeded=0,
            max_timeouts=0,
            request_timeout=self.options.sync_timeout + 30,
            store_sync_tokens=False,  # Crieur's store keeps the token
            encryption_enabled=True,
        )
        return AsyncClient(
            self.options.homeserver.rstrip("/"),
            self.options.user_id,
            store_path=str(path),
            config=config,
        )

    # ------------------------------------------------------------------ login

    async def _login(self) -> None:
        """Resume with a known token (no new device), or log in with the password."""
        if self._client is None:
            self._client = self._new_client()
        client = self._client
        if self._since is None:
            self._since = await self._persisted.get(state.SINCE)
        stored_token = await self._persisted.get(state.ACCESS_TOKEN)
        token = self.options.access_token or stored_token
        device = self.options.device_id or await self._persisted.get(state.DEVICE_ID)
        if token:
            client.access_token = token
            who = await client.whoami()
            if isinstance(who, WhoamiError):
                if who.status_code not in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                    raise _HomeserverError(_describe(who))
                if self.options.access_token or not self.options.password:
                    raise _CredentialsRefusedError(_describe(who))
                await self._persisted.forget(state.ACCESS_TOKEN)  # expired: log in again
                token = None
            else:
                device = who.device_id or self.options.device_id or device
                if not device:
                    raise _CredentialsRefusedError("le homeserver ne donne pas l'appareil du jeton")
                client.restore_login(who.user_id, device, token)
        if not token:
            if not self.options.password:
                raise _CredentialsRefusedError("ni access_token ni password")
            client.access_token = ""
            client.device_id = device
            response = await client.login(self.options.password, self.options.device_name)
            if isinstance(response, LoginError):
                if response.status_code in ("M_FORBIDDEN", "M_USER_DEACTIVATED"):
                    raise _CredentialsRefusedError(_describe(response))
                raise _HomeserverError(_describe(response))
            await self._persisted.set(state.ACCESS_TOKEN, response.access_token)
        self.user_id, self.device_id = client.user_id, client.device_id
        await self._persisted.set(state.DEVICE_ID, client.device_id)
        if client.should_upload_keys:
            await client.keys_upload()
        profile = await client.get_displayname()
        if isinstance(profile, ProfileGetDisplayNameResponse):
            self._display_name = profile.displayname or ""
        self._logged_in = True
        log.info("matrix: logged in as %s (device %s)", self.user_id, self.device_id)

    async def _relogin(self, error: Any) -> None:
        """The token was revoked while running: log in again if a password allows it."""
        if self.options.access_token or not self.options.password:
            raise _CredentialsRefusedError(_describe(error))
        await self._persisted.forget(state.ACCESS_TOKEN)
        self._logged_in = False
        raise _HomeserverError(_describe(error))

    # ------------------------------------------------------------------ sync

    async def _sync_once(self) -> None:
        client = self._client
        first = not self._ready.is_set()
        ignore_timeline = self._since is None
        if first:  # full state: nio learns every room's members and encryption again
            response = await client.sync(
                timeout=0,
                sync_filter=FIRST_SYNC_FILTER if ignore_timeline else SYNC_FILTER,
                since=self._since,
                full_state=True,
            )
        else:
            response = await client.sync(
                timeout=int(self.options.sync_timeout * 1000),
                sync_filter=SYNC_FILTER,
                since=self._since,
            )
        if isinstance(response, SyncError):
            if response.status_code in ("M_UNKNOWN_TOKEN", "M_MISSING_TOKEN"):
                await self._relogin(response)
            raise _HomeserverError(_describe(response))
        await self._handle_sync(response, ignore_timeline)
        if response.next_batch != self._since:
            self._since = response.next_batch
            await self._persisted.set(state.SINCE, response.next_batch)
        if self._status != "connecté":
            log.info("matrix: synced with %s", self.options.homeserver)
        self._status, self._last_error = "connecté", None
        self._ready.set()
        await self._keys_housekeeping()

    async def _keys_housekeeping(self) -> None:
        """What nio's `sync_forever` does between syncs: keys and to-device messages."""
        client = self._client
        await client.send_to_device_messages()
        if client.should_upload_keys:
            await client.keys_upload()
        if client.should_query_keys:
            await client.keys_query()
        if client.should_claim_keys:
            await client.keys_claim(client.get_users_for_key_claiming())

    async def _handle_sync(self, response: Any, ignore_timeline: bool) -> None:
        client = self._client
        for room_id, info in response.rooms.invite.items():
            await self._on_invite(room_id, info.invite_state)
        for room_id in response.rooms.leave:
            if room_id in client.rooms:  # kicked, banned, or left from another session
                log.info("matrix: no longer in room %s", room_id)
                with contextlib.suppress(*NETWORK_ERRORS):
                    await client.room_forget(room_id)
        now = datetime.now(UTC)
        for room_id, info in response.rooms.join.items():
            room = client.rooms.get(room_id)
            if room is None:
                continue
            someone_left = False
            for event in info.timeline.events:
                if isinstance(event, RoomMemberEvent) and event.membership in ("leave", "ban"):
                    someone_left = someone_left or event.state_key != self.user_id
                if ignore_timeline or getattr(event, "sender", None) == self.user_id:
                    continue
                sent = datetime.fromtimestamp(getattr(event, "server_timestamp", 0) / 1000, UTC)
                if now - sent > STALE_AFTER:
                    continue
                if isinstance(event, RoomMessageText):
                    self._on_message(room, event)
                elif isinstance(event, MegolmEvent):
                    self._spawn(room_id, self._on_undecryptable(room, event))
            if someone_left and _alone(room):
                log.info("matrix: leaving room %s, where nobody is left", room_id)
                await self._leave(room_id)

    async def _on_invite(self, room_id: str, invite_state: list[Any]) -> None:
        inviter = next(
            (
                event.sender
                for event in invite_state
                if isinstance(event, InviteMemberEvent)
                and event.state_key == self.user_id
                and event.membership == "invite"
            ),
            "",
        )
        client = self._client
        try:
            if not invite_allowed(inviter, self._allowed):
                log.warning(
                    "matrix: invite to %s from %s declined (server not in allowed_servers)",
                    room_id, inviter or "?",
                )  # fmt: skip
                await client.room_leave(room_id)
                return
            joined = await client.join(room_id)
        except NETWORK_ERRORS as exc:  # the next full sync (a restart) shows the invite again
            log.warning("matrix: invite to %s not handled: %r", room_id, exc)
            return
        if isinstance(joined, JoinError):
            log.warning("matrix: could not join %s: %s", room_id, _describe(joined))
        else:
            log.info("matrix: joined %s, invited by %s", room_id, inviter)

    async def _leave(self, room_id: str) -> None:
        """Leave and forget a room (nio then forgets it too: a push there is `RecipientGone`)."""
        client = self._client
        try:
            await client.room_leave(room_id)
            await client.room_forget(room_id)
        except NETWORK_ERRORS as exc:
            log.warning("matrix: could not leave %s: %r", room_id, exc)

    # ------------------------------------------------------------------ inbound

    def _spawn(self, room_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Answer in the background, one message at a time per room (in order)."""

        lock, users = self._room_locks.get(room_id, (asyncio.Lock(), 0))
        self._room_locks[room_id] = (lock, users + 1)

        async def in_turn() -> None:
            try:
                async with lock:
                    await work
            except Exception:
                log.exception("matrix: message in %s not answered", room_id)
            finally:
                _, users = self._room_locks[room_id]
                if users > 1:
                    self._room_locks[room_id] = (lock, users - 1)
                else:
                    del self._room_locks[room_id]

        task = asyncio.create_task(in_turn())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_message(self, room: Any, event: Any) -> None:
        message = Message(
            room_id=room.room_id,
            sender=event.sender,
            body=event.body or "",
            content=event.source.get("content") or {},
            timestamp_ms=event.server_timestamp,
            direct=room.member_count == 2,
        )
        inbound = message_to_inbound(message, self.user_id, self._names(room), self._suggestions)
        if inbound is not None:
            self._spawn(room.room_id, self._answer(message, event.event_id, inbound))

    def _names(self, room: Any) -> list[str]:
        names = [self._display_name]
        member = room.users.get(self.user_id)
        if member is not None and member.display_name:
            names.append(member.display_name)
        return [name for name in names if name]

    async def _answer(self, message: Message, event_id: str, inbound: Inbound) -> None:
        assert self._handler is not None
        answer = await self._handler(inbound)
        self._suggestions.remember(message.room_id, message.sender, answer.choices)
        contents = render(answer)
        if not message.direct:  # in a group: a reply to the asker, who is notified
            contents[0]["m.relates_to"] = {"m.in_reply_to": {"event_id": event_id}}
        for index, part in enumerate(contents):
            part["m.mentions"] = {} if message.direct else {"user_ids": [message.sender]}
            await self._reply(message.room_id, part, _txn("reply", event_id, index))

    async def _reply(self, room_id: str, part: Content, txn: str) -> None:
        """Send one in-band reply, waiting out rate limits; other failures are logged."""
        for _attempt in range(REPLY_ATTEMPTS):
            try:
                await self._send(room_id, part, txn)
                return
            except RateLimited as exc:
                await asyncio.sleep(min(exc.retry_after, MAX_BACKOFF))
            except DeliveryError as exc:
                log.warning("matrix: reply to %s not sent: %s", room_id, exc)
                return
        log.warning("matrix: reply to %s not sent: still rate limited", room_id)

    async def _on_undecryptable(self, room: Any, event: Any) -> None:
        """Wait a moment for the room key (it may come in the next sync), then say so."""
        deadline = time.monotonic() + self.options.undecryptable_wait
        while True:
            try:
                decrypted = self._client.decrypt_event(event)
            except (EncryptionError, LocalProtocolError):
                if time.monotonic() >= deadline:
                    break
                await asyncio.sleep(0.25)
                continue
            if isinstance(decrypted, RoomMessageText):
                self._on_message(room, decrypted)
            return
        log.warning(
            "matrix: cannot decrypt event %s in %s from %s (session %s): no room key received",
            event.event_id, room.room_id, event.sender, event.session_id,
        )  # fmt: skip
        now = time.monotonic()
        recently = now - self._polite_at.get(room.room_id, -POLITE_INTERVAL) < POLITE_INTERVAL
        if room.member_count != 2 or recently:
            return
        self._polite_at[room.room_id] = now
        if len(self._polite_at) > 10_000:
            self._polite_at = {r: t for r, t in self._polite_at.items() if now - t < 600}
        notice = content(CANNOT_DECRYPT)
        notice["m.mentions"] = {}
        await self._reply(room.room_id, notice, _txn("undecryptable", event.event_id, 0))

    # ------------------------------------------------------------------ push

    async def push(self, push: Push) -> None:
        """Send a notice to the subscriber's room; failures become the outbox's errors.

        The transaction id derives from the delivery key: the homeserver answers a repeated
        send with the event it already has, so a retry after a crash is not shown twice.
        """
        client = self._client
        if client is None or not self._ready.is_set():
            raise delivery_error(None, None, "Matrix n'est pas connecté")
        room_id = push.to.chat_id
        room = client.rooms.get(room_id)
        if room is None:  # left, forgotten, never joined, or joined a moment ago: ask
            joined = await _mapped(client.joined_rooms())
            if room_id in getattr(joined, "rooms", ()):
                raise delivery_error(None, None, f"salon {room_id} pas encore synchronisé")
            raise RecipientGone(f"le bot n'est pas dans le salon {room_id}")
        if _alone(room):
            await self._leave(room_id)
            raise RecipientGone(f"plus personne dans le salon {room_id}")
        for index, part in enumerate(render(Answer(push.text, push.kind))):
            part["m.mentions"] = {}
            await self._send(room_id, part, _txn("push", push.key, index))

    async def _send(self, room_id: str, part: Content, txn: str) -> None:
        client = self._client
        if client is None:
            raise delivery_error(None, None, "Matrix n'est pas connecté")
        try:
            response = await client.room_send(
                room_id, "m.room.message", part, tx_id=txn, ignore_unverified_devices=True
            )
        except SendRetryError as exc:  # the members of an encrypted room could not be synced
            raise delivery_error(None, None, str(exc)) from exc
        except LocalProtocolError as exc:
            if "no such room" in str(exc).lower():  # nio forgot the room: the bot left it
                raise RecipientGone(str(exc)) from exc
            raise delivery_error(None, None, str(exc)) from exc  # e.g. logged out: retry
        except NETWORK_ERRORS as exc:
            raise delivery_error(None, None, f"{type(exc).__name__}: {exc}") from exc
        if isinstance(response, RoomSendError):
            raise delivery_error(
                response.status_code,
                _http_status(response),
                response.message,
                response.retry_after_ms,
            )


async def _mapped(request: Awaitable[Any]) -> Any:
    """A request's answer; a network failure or an error answer is a `TransientError`."""
    try:
        response = await request
    except NETWORK_ERRORS as exc:
        raise delivery_error(None, None, f"{type(exc).__name__}: {exc}") from exc
    if hasattr(response, "status_code"):  # nio's ErrorResponse
        raise delivery_error(None, _http_status(response), _describe(response))
    return response


def _alone(room: Any) -> bool:
    """Only the bot is left in the room (nobody joined, nobody invited)."""
    return bool(room.joined_count <= 1 and room.invited_count == 0)


def _txn(kind: str, key: str, index: int) -> str:
    """A transaction id that is the same for the same send, whatever the key's length."""
    digest = hashlib.sha256(f"{kind}\x00{key}\x00{index}".encode()).hexdigest()[:32]
    return f"crieur-{kind}-{digest}"


def _http_status(response: Any) -> int | None:
    transport = getattr(response, "transport_response", None)
    status = getattr(transport, "status", None)
    return status if isinstance(status, int) else None


def _describe(response: Any) -> str:
    status = _http_status(response)
    errcode = getattr(response, "status_code", None) or "sans code"
    message = getattr(response, "message", "") or ""
    return f"{errcode} {message}" + (f" (HTTP {status})" if status else "")
