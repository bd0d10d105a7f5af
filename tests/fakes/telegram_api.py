"""A fake Telegram Bot API server, so the Telegram channel is tested over real HTTP.

Mocking ``telegram.Bot`` would only check that Crieur calls the methods it believes in. This
fake sits one layer further out: python-telegram-bot's own HTTP client talks to it on the
loopback, so what PTB puts on the wire (form fields, JSON-encoded nested values such as
``reply_markup``), how it maps error answers to exceptions (429 → ``RetryAfter``, 403 →
``Forbidden``, 409 → ``Conflict``, a proxy's 502 page → ``NetworkError``) and how its updater
long-polls are all exercised for real.

It implements the few Bot API methods Crieur uses, with the documented request and answer
formats and the server-side checks that bite in production (HTML entity parsing, the 4096
characters limit, callback data size, flood control, webhook/getUpdates exclusivity). Any other
method answers 404 like the real server and is kept in ``unknown_calls``, so a call nobody
faked fails loudly instead of silently "working".

Tests drive it with plain methods on the same event loop: inject updates, queue failures, read
what the bot sent, and ``await fake.wait_for(...)`` a condition instead of sleeping.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, NamedTuple, NoReturn, Self
from urllib.parse import urlsplit

from aiohttp import web

JSON = dict[str, Any]

DEFAULT_TOKEN = "7000000001:AAHfakeTokenForCrieurTests_0123456789"
DEFAULT_USER_ID = 5550001  # the resident writing in a group, when a test names none
MAX_TEXT_LENGTH = 4096
MAX_CALLBACK_DATA_BYTES = 64

# Update types delivered when allowed_updates is unset or empty (the documented default).
DEFAULT_UPDATE_TYPES = frozenset(
    {
        "message",
        "edited_message",
        "channel_post",
        "edited_channel_post",
        "business_connection",
        "business_message",
        "edited_business_message",
        "deleted_business_messages",
        "inline_query",
        "chosen_inline_result",
        "callback_query",
        "shipping_query",
        "pre_checkout_query",
        "purchased_paid_media",
        "poll",
        "poll_answer",
        "my_chat_member",
        "chat_join_request",
        "chat_boost",
        "removed_chat_boost",
    }
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LEADING_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")


class ApiError(Exception):
    """An error answer of the Bot API: ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after


class Call(NamedTuple):
    """One request as received. Form values are strings, exactly as PTB encoded them."""

    method: str
    params: dict[str, Any]


class ErrorAnswer(NamedTuple):
    """An error the fake answered, with the description as sent (PTB rewrites it: it drops
    "Bad Request: " and lowercases the rest)."""

    method: str
    status: int
    description: str


@dataclass(frozen=True)
class SentMessage:
    """A message the bot sent, decoded."""

    chat_id: int
    message_id: int
    text: str  # as the bot sent it: the HTML source in HTML parse mode
    parse_mode: str | None
    plain_text: str  # what the resident reads: tags stripped, character references decoded
    entities: list[JSON]
    reply_markup: JSON | None
    link_preview_options: JSON | None
    reply_to_message_id: int | None
    message: JSON  # the Message object answered to the bot

    @property
    def buttons(self) -> list[list[JSON]]:
        """The inline keyboard's rows, or no row."""
        if not self.reply_markup:
            return []
        rows: list[list[JSON]] = self.reply_markup.get("inline_keyboard", [])
        return rows

    @property
    def callback_data(self) -> list[str]:
        """Every button's callback data, row by row."""
        return [b["callback_data"] for row in self.buttons for b in row if "callback_data" in b]


@dataclass(frozen=True)
class AnsweredCallback:
    callback_query_id: str
    text: str | None
    show_alert: bool
    url: str | None
    cache_time: int | None


@dataclass(frozen=True)
class ChatAction:
    chat_id: int
    action: str


@dataclass(frozen=True)
class Webhook:
    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    drop_pending_updates: bool
    max_connections: int
    ip_address: str | None


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None
    remaining: int


@dataclass
class _Delay:
    seconds: float
    remaining: int


class FakeTelegramAPI:
    """The Bot API on ``127.0.0.1``; use ``async with FakeTelegramAPI() as api`` in a test.

    Point PTB at it with ``Bot(api.token, base_url=api.base_url)`` or
    ``Application.builder().token(api.token).base_url(api.base_url)``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "crieur_test_bot",
        bot_first_name: str = "Crieur",
        max_poll_wait: float = 1.0,
        strict_chats: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``max_poll_wait`` caps getUpdates' long-poll wait, keeping tests fast; with
        ``strict_chats``, sending to a chat no update came from answers "chat not found";
        ``clock`` drives the flood control, so a test can move time by hand."""
        self.token = token
        self.max_poll_wait = max_poll_wait
        self.strict_chats = strict_chats
        self._clock = clock
        self.bot_user: JSON = {
            "id": int(token.split(":", 1)[0]),
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

        # What the bot did, for assertions.
        self.calls: list[Call] = []
        self.unknown_calls: list[Call] = []
        self.errors: list[ErrorAnswer] = []
        self.sent: list[SentMessage] = []
        self.callbacks_answered: list[AnsweredCallback] = []
        self.chat_actions: list[ChatAction] = []
        self.webhook: Webhook | None = None
        self.count_429 = 0
        self._commands: dict[tuple[str, str], list[JSON]] = {}

        # Server-side state.
        self._updates: deque[JSON] = deque()
        self._next_update_id = 100_000  # real update ids do not start at 1
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._poll_generation = 0
        self._waiting_polls = 0
        self._chats: dict[int, JSON] = {}
        self._last_message_id: dict[int, int] = {}
        self._messages: dict[tuple[int, int], JSON] = {}
        self._callbacks: dict[str, bool] = {}  # query id → already answered
        self._next_callback_id = 4_242_000_000_000_000_000
        self._blocked: set[int] = set()
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[_Delay]] = {}
        self._limit_per_second: int | None = None
        self._limit_per_chat: int | None = None
        self._sent_times: deque[float] = deque()
        self._chat_sent_times: dict[int, deque[float]] = {}

        self._waiters: set[asyncio.Event] = set()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._methods: dict[str, Callable[[_Params], Awaitable[Any]]] = {
            name.lower(): handler
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "sendMessage": self._send_message,
                "answerCallbackQuery": self._answer_callback_query,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": self._get_my_commands,
                "deleteMyCommands": self._delete_my_commands,
                "sendChatAction": self._send_chat_action,
            }.items()
        }

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._closing = False
        app = web.Application()
        # The Bot API answers GET and POST alike, and its method names are case-insensitive.
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        self._closing = True
        self._notify()  # long polls and delayed answers return at once
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the fake Telegram API is not started")
        return self._port

    @property
    def base_url(self) -> str:
        """What PTB calls ``base_url``: the token and the method are appended to it."""
        return f"http://127.0.0.1:{self.port}/bot"

    # -- test controls: updates ------------------------------------------------------------

    def make_message_update(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
        first_name: str = "Test",
        entities: list[JSON] | None = None,
    ) -> JSON:
        """A message update as Telegram would build it, not queued (for webhook tests).

        ``entities=None`` detects a leading bot command like the real server does."""
        chat = self._remember_chat(chat_id, chat_type, first_name)
        message_id = self._new_message_id(chat_id)
        message: JSON = {
            "message_id": message_id,
            "from": self._user(chat_id, user_id, first_name),
            "chat": chat,
            "date": int(time.time()),
            "text": text,
        }
        if entities is None:
            entities = _command_entities(text)
        if entities:
            message["entities"] = entities
        self._messages[(chat_id, message_id)] = message
        return {"update_id": self._new_update_id(), "message": message}

    def inject_message(
        self,
        chat_id: int,
        text: str,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
        first_name: str = "Test",
        entities: list[JSON] | None = None,
    ) -> JSON:
        """Queue a resident's message for getUpdates; returns the update."""
        update = self.make_message_update(
            chat_id,
            text,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
            entities=entities,
        )
        self._queue(update)
        return update

    def make_callback_update(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_type: str = "private",
        user_id: int | None = None,
        first_name: str = "Test",
    ) -> JSON:
        """A button press, not queued. The pressed message is ``message_id`` if the fake knows
        it, else the bot's last message in the chat, else a stand-in bot message."""
        message = (
            self._messages.get((chat_id, message_id))
            if message_id is not None
            else self._last_bot_message(chat_id)
        )
        if message is None:
            chat = self._remember_chat(chat_id, chat_type, first_name)
            if message_id is None:
                message_id = self._new_message_id(chat_id)
            else:  # keep later ids above the one the test chose
                last = self._last_message_id.get(chat_id, 0)
                self._last_message_id[chat_id] = max(last, message_id)
            message = {
                "message_id": message_id,
                "from": self.bot_user,
                "chat": chat,
                "date": int(time.time()),
                "text": "…",
            }
            self._messages[(chat_id, message_id)] = message
        query_id = str(self._next_callback_id)
        self._next_callback_id += 1
        self._callbacks[query_id] = False
        callback: JSON = {
            "id": query_id,
            "from": self._user(chat_id, user_id, first_name),
            "message": message,
            "chat_instance": str((chat_id * 2_654_435_761) % 2**63),
            "data": data,
        }
        return {"update_id": self._new_update_id(), "callback_query": callback}

    def inject_callback(
        self,
        chat_id: int,
        data: str,
        *,
        message_id: int | None = None,
        chat_type: str = "private",
        user_id: int | None = None,
        first_name: str = "Test",
    ) -> JSON:
        """Queue a button press for getUpdates; returns the update."""
        update = self.make_callback_update(
            chat_id,
            data,
            message_id=message_id,
            chat_type=chat_type,
            user_id=user_id,
            first_name=first_name,
        )
        self._queue(update)
        return update

    def inject_update(self, payload: JSON) -> JSON:
        """Queue any other update, e.g. ``{"edited_message": {...}}``; an update_id is added."""
        update = {"update_id": self._new_update_id(), **payload}
        self._queue(update)
        return update

    def block(self, chat_id: int, *, notify: bool = True) -> JSON | None:
        """The resident blocks the bot: sends to the chat answer 403 from now on and, with
        ``notify``, a ``my_chat_member`` update (status "kicked") is queued, like Telegram."""
        self._blocked.add(chat_id)
        if not notify:
            return None
        chat = self._chat(chat_id)
        member = {
            "chat": chat,
            "from": self._user(chat_id, None, chat.get("first_name", "Test")),
            "date": int(time.time()),
            "old_chat_member": {"user": self.bot_user, "status": "member"},
            "new_chat_member": {"user": self.bot_user, "status": "kicked", "until_date": 0},
        }
        return self.inject_update({"my_chat_member": member})

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._updates)

    @property
    def waiting_polls(self) -> int:
        """getUpdates requests currently held open (long polling)."""
        return self._waiting_polls

    # -- test controls: failures -----------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with an error. 429 carries
        ``parameters.retry_after`` (1 s unless given); 502, 503 and 504 answer a proxy's HTML
        page rather than JSON, as they do in production."""
        if status == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        if description is None:
            description = _default_description(status, retry_after)
        self._failures.setdefault(method.lower(), deque()).append(
            _Failure(status, description, retry_after, count)
        )

    def delay_next(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Hold the next ``count`` answers of ``method`` for ``seconds`` (to provoke timeouts)."""
        self._delays.setdefault(method.lower(), deque()).append(_Delay(seconds, count))

    def limit_per_second(self, limit: int | None, *, per_chat: int | None = None) -> None:
        """Flood control for sendMessage: past ``limit`` messages in any second (or
        ``per_chat`` in one chat), answer 429 with the seconds until a slot frees up.
        ``None`` lifts a limit."""
        self._limit_per_second = limit
        self._limit_per_chat = per_chat

    # -- test controls: recorded data ------------------------------------------------------

    @property
    def commands(self) -> list[JSON]:
        """The commands set for the default scope and every language."""
        return self.commands_for()

    def commands_for(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        return list(self._commands.get(_commands_key(scope, language_code), []))

    def sent_to(self, chat_id: int) -> list[SentMessage]:
        return [message for message in self.sent if message.chat_id == chat_id]

    async def wait_for(
        self,
        predicate: Callable[[FakeTelegramAPI], object],
        timeout: float = 5.0,  # noqa: ASYNC109 - a deadline is the point of this helper
    ) -> None:
        """Return as soon as ``predicate(self)`` is true; checked again after every request
        and every injection. Raises ``TimeoutError`` after ``timeout`` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate(self):
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = [call.method for call in self.calls[-10:]]
                raise TimeoutError(f"condition not met within {timeout}s; last calls: {recent}")
            await self._wait_change(remaining)

    async def wait_for_sent(
        self,
        count: int = 1,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[SentMessage]:
        """Wait until the bot has sent ``count`` messages in all; returns them all."""
        await self.wait_for(lambda api: len(api.sent) >= count, timeout)
        return list(self.sent)

    # -- HTTP ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            raw = await _read_params(request)
            call = Call(method, raw)
            self.calls.append(call)
            if request.match_info["token"] != self.token:
                raise ApiError(HTTPStatus.UNAUTHORIZED, "Unauthorized")
            handler = self._methods.get(method.lower())
            if handler is None:
                self.unknown_calls.append(call)
                raise ApiError(HTTPStatus.NOT_FOUND, "Not Found: method not found")
            await self._apply_delay(method)
            self._apply_failure(method)
            result = await handler(_Params(raw))
        except ApiError as error:
            self.errors.append(ErrorAnswer(method, error.status, error.description))
            return self._error_response(error)
        finally:
            self._notify()
        return web.json_response({"ok": True, "result": result})

    def _error_response(self, error: ApiError) -> web.Response:
        if error.status == HTTPStatus.TOO_MANY_REQUESTS:
            self.count_429 += 1
        if error.status in (502, 503, 504):
            phrase = f"{error.status} {HTTPStatus(error.status).phrase}"
            page = (
                f"<html>\r\n<head><title>{phrase}</title></head>\r\n<body>\r\n"
                f"<center><h1>{phrase}</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n"
                "</body>\r\n</html>\r\n"
            )
            return web.Response(status=error.status, text=page, content_type="text/html")
        body: JSON = {"ok": False, "error_code": error.status, "description": error.description}
        if error.retry_after is not None:
            body["parameters"] = {"retry_after": error.retry_after}
        return web.json_response(body, status=error.status)

    def _apply_failure(self, method: str) -> None:
        queue = self._failures.get(method.lower())
        if not queue:
            return
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.popleft()
        raise ApiError(failure.status, failure.description, failure.retry_after)

    async def _apply_delay(self, method: str) -> None:
        queue = self._delays.get(method.lower())
        if not queue:
            return
        delay = queue[0]
        delay.remaining -= 1
        if delay.remaining <= 0:
            queue.popleft()
        deadline = asyncio.get_running_loop().time() + delay.seconds
        while not self._closing and (left := deadline - asyncio.get_running_loop().time()) > 0:
            await self._wait_change(left)

    # -- Bot API methods -------------------------------------------------------------------

    async def _get_me(self, params: _Params) -> JSON:
        return dict(self.bot_user)

    async def _get_updates(self, params: _Params) -> list[JSON]:
        if self.webhook is not None:
            raise ApiError(
                HTTPStatus.CONFLICT,
                "Conflict: can't use getUpdates method while webhook is active;"
                " use deleteWebhook to delete the webhook first",
            )
        offset = params.integer("offset") or 0
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.number("timeout") or 0.0, 0.0)
        allowed = params.json("allowed_updates")
        if allowed is not None:  # remembered until the next call that names some
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        self._confirm(offset)

        # A new getUpdates ends the one still waiting, as on the real server.
        self._poll_generation += 1
        generation = self._poll_generation
        self._notify()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + min(timeout, self.max_poll_wait)
        self._waiting_polls += 1
        try:
            while True:
                if generation != self._poll_generation:
                    raise ApiError(
                        HTTPStatus.CONFLICT,
                        "Conflict: terminated by other getUpdates request;"
                        " make sure that only one bot instance is running",
                    )
                batch = self._deliverable(limit)
                remaining = deadline - loop.time()
                if batch or self._closing or remaining <= 0:
                    return batch
                await self._wait_change(remaining)
        finally:
            self._waiting_polls -= 1

    async def _set_webhook(self, params: _Params) -> bool:
        url = params.text("url") or ""
        drop = params.boolean("drop_pending_updates")
        allowed = params.json("allowed_updates")
        if not url:  # documented: an empty URL removes the webhook
            self.webhook = None
        else:
            parts = urlsplit(url)
            if parts.scheme != "https" or not parts.hostname:
                raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
            if parts.port not in (None, 80, 88, 443, 8443):
                raise ApiError(
                    400,
                    "Bad Request: bad webhook: Webhook can be set up only on ports 80, 88,"
                    " 443 or 8443",
                )
            secret = params.text("secret_token")
            if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
                raise ApiError(
                    400, "Bad Request: bad webhook: Secret token contains unallowed characters"
                )
            max_connections = params.integer("max_connections") or 40
            if not 1 <= max_connections <= 100:
                raise ApiError(400, "Bad Request: bad webhook: Wrong max_connections specified")
            self.webhook = Webhook(
                url=url,
                secret_token=secret,
                allowed_updates=list(allowed) if allowed is not None else None,
                drop_pending_updates=drop,
                max_connections=max_connections,
                ip_address=params.text("ip_address"),
            )
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_TYPES
        if drop:
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: _Params) -> bool:
        self.webhook = None
        if params.boolean("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: _Params) -> JSON:
        info: JSON = {
            "url": self.webhook.url if self.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook is not None:
            info["max_connections"] = self.webhook.max_connections
            if self.webhook.ip_address:
                info["ip_address"] = self.webhook.ip_address
            if self.webhook.allowed_updates is not None:
                info["allowed_updates"] = self.webhook.allowed_updates
        return info

    async def _send_message(self, params: _Params) -> JSON:
        chat_id = params.chat_id()
        chat = self._chat_for_sending(chat_id)
        text = params.text("text") or ""
        parse_mode = params.text("parse_mode")
        mode = (parse_mode or "").lower()
        if mode == "html":
            plain, entities = parse_html(text)
        elif mode in ("", "markdown", "markdownv2"):
            # Markdown is not parsed: Crieur sends HTML. Plain text keeps the given entities.
            given = params.json("entities") if not mode else None
            plain, entities = _trim(text, list(given or []))
        else:
            raise ApiError(400, "Bad Request: unsupported parse_mode")
        if not plain:
            raise ApiError(400, "Bad Request: message text is empty")
        # The limit counts characters (code points) after entity parsing, not UTF-16 units.
        if len(plain) > MAX_TEXT_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")

        reply_markup = params.json(
            "reply_markup", "Bad Request: can't parse reply keyboard markup JSON object"
        )
        if reply_markup is not None:
            _check_reply_markup(reply_markup)
        reply_parameters = params.json("reply_parameters") or {}
        reply_to = params.integer("reply_to_message_id")
        if reply_to is None and isinstance(reply_parameters, dict):
            reply_to = reply_parameters.get("message_id")
        replied: JSON | None = None
        if reply_to is not None:
            replied = self._messages.get((chat_id, reply_to))
            without = params.boolean("allow_sending_without_reply") or bool(
                isinstance(reply_parameters, dict)
                and reply_parameters.get("allow_sending_without_reply")
            )
            if replied is None and not without:
                raise ApiError(400, "Bad Request: message to be replied not found")
        link_preview_options = params.json("link_preview_options")
        if link_preview_options is None and params.boolean("disable_web_page_preview"):
            link_preview_options = {"is_disabled": True}

        self._check_flood(chat_id)
        message_id = self._new_message_id(chat_id)
        message: JSON = {
            "message_id": message_id,
            "from": self.bot_user,
            "chat": chat,
            "date": int(time.time()),
            "text": plain,
        }
        if entities:
            message["entities"] = entities
        if replied is not None:
            message["reply_to_message"] = replied
        if reply_markup and reply_markup.get("inline_keyboard"):
            message["reply_markup"] = {"inline_keyboard": reply_markup["inline_keyboard"]}
        self._messages[(chat_id, message_id)] = message
        self.sent.append(
            SentMessage(
                chat_id=chat_id,
                message_id=message_id,
                text=text,
                parse_mode=parse_mode,
                plain_text=plain,
                entities=entities,
                reply_markup=reply_markup,
                link_preview_options=link_preview_options,
                reply_to_message_id=replied["message_id"] if replied else None,
                message=message,
            )
        )
        return message

    async def _answer_callback_query(self, params: _Params) -> bool:
        query_id = params.text("callback_query_id") or ""
        if self._callbacks.get(query_id, True):  # unknown, or answered already
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._callbacks[query_id] = True
        self.callbacks_answered.append(
            AnsweredCallback(
                callback_query_id=query_id,
                text=params.text("text"),
                show_alert=params.boolean("show_alert"),
                url=params.text("url"),
                cache_time=params.integer("cache_time"),
            )
        )
        return True

    async def _set_my_commands(self, params: _Params) -> bool:
        commands = params.json("commands", "Bad Request: can't parse commands JSON object")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        cleaned: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise ApiError(400, "Bad Request: can't parse BotCommand JSON object")
            name = str(command.get("command", ""))
            description = str(command.get("description", ""))
            if not _COMMAND.fullmatch(name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
            cleaned.append({"command": name, "description": description})
        key = _commands_key(params.json("scope"), params.text("language_code") or "")
        self._commands[key] = cleaned
        return True

    async def _get_my_commands(self, params: _Params) -> list[JSON]:
        return self.commands_for(params.json("scope"), params.text("language_code") or "")

    async def _delete_my_commands(self, params: _Params) -> bool:
        key = _commands_key(params.json("scope"), params.text("language_code") or "")
        self._commands.pop(key, None)
        return True

    async def _send_chat_action(self, params: _Params) -> bool:
        chat_id = params.chat_id()
        self._chat_for_sending(chat_id)
        action = params.text("action") or ""
        if action not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self.chat_actions.append(ChatAction(chat_id, action))
        return True

    # -- internals -------------------------------------------------------------------------

    def _notify(self) -> None:
        for event in self._waiters:
            event.set()

    async def _wait_change(self, seconds: float) -> None:
        event = asyncio.Event()
        self._waiters.add(event)
        try:
            await asyncio.wait_for(event.wait(), seconds)
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(event)

    def _queue(self, update: JSON) -> None:
        self._updates.append(update)
        self._notify()

    def _new_update_id(self) -> int:
        self._next_update_id += 1
        return self._next_update_id

    def _new_message_id(self, chat_id: int) -> int:
        # Message ids count per chat, shared by the resident's and the bot's messages.
        self._last_message_id[chat_id] = self._last_message_id.get(chat_id, 0) + 1
        return self._last_message_id[chat_id]

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            while self._updates and self._updates[0]["update_id"] < offset:
                self._updates.popleft()
        elif offset < 0:  # documented: keep only the last -offset updates
            while len(self._updates) > -offset:
                self._updates.popleft()

    def _deliverable(self, limit: int) -> list[JSON]:
        # Telegram never stores updates of types the bot did not ask for: drop them.
        kept = [u for u in self._updates if _update_type(u) in self._allowed_updates]
        if len(kept) != len(self._updates):
            self._updates = deque(kept)
        return kept[:limit]

    def _user(self, chat_id: int, user_id: int | None, first_name: str) -> JSON:
        if user_id is None:
            user_id = chat_id if chat_id > 0 else DEFAULT_USER_ID
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "fr"}

    def _remember_chat(self, chat_id: int, chat_type: str, first_name: str) -> JSON:
        if chat_id not in self._chats:
            if chat_type == "private":
                self._chats[chat_id] = {"id": chat_id, "type": "private", "first_name": first_name}
            else:
                self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": "Test"}
        return self._chats[chat_id]

    def _chat(self, chat_id: int) -> JSON:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Test"}

    def _chat_for_sending(self, chat_id: int) -> JSON:
        if self.strict_chats and chat_id not in self._chats:
            raise ApiError(400, "Bad Request: chat not found")
        chat = self._chat(chat_id)
        if chat_id in self._blocked:
            if chat["type"] == "private":
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            raise ApiError(403, "Forbidden: bot was kicked from the group chat")
        return chat

    def _last_bot_message(self, chat_id: int) -> JSON | None:
        for message in reversed(self.sent):
            if message.chat_id == chat_id:
                return message.message
        return None

    def _check_flood(self, chat_id: int) -> None:
        now = self._clock()
        windows: list[tuple[deque[float], int | None]] = [
            (self._sent_times, self._limit_per_second),
            (self._chat_sent_times.setdefault(chat_id, deque()), self._limit_per_chat),
        ]
        for times, _ in windows:
            while times and times[0] <= now - 1.0:
                times.popleft()
        for times, limit in windows:
            if limit is not None and len(times) >= limit:
                retry_after = max(1, math.ceil(times[0] + 1.0 - now))
                raise ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)
        for times, _ in windows:
            times.append(now)


class _Params:
    """A request's parameters, typed per field the way the Bot API reads them: PTB sends every
    value as a form string, nested objects and lists JSON-encoded."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw

    def text(self, name: str) -> str | None:
        value = self.raw.get(name)
        return None if value is None else str(value)

    def number(self, name: str) -> float | None:
        value = self.raw.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            _bad_field(name)
        try:
            number = float(value)
        except (TypeError, ValueError):
            _bad_field(name)
        if not math.isfinite(number):
            _bad_field(name)
        return number

    def integer(self, name: str) -> int | None:
        number = self.number(name)
        if number is None:
            return None
        if not number.is_integer():
            _bad_field(name)
        return int(number)

    def boolean(self, name: str) -> bool:
        value = self.raw.get(name)
        if isinstance(value, bool):
            return value
        return str(value).lower() in ("true", "1") if value is not None else False

    def json(self, name: str, error: str | None = None) -> Any:
        value = self.raw.get(name)
        if not isinstance(value, str):
            return value  # absent, or already decoded from a JSON body
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, error or f"Bad Request: can't parse {name} JSON object") from None

    def chat_id(self) -> int:
        value = self.raw.get("chat_id")
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        try:
            return int(value)
        except (TypeError, ValueError):
            # "@channelusername" is valid Bot API, but Crieur only talks to numeric chats.
            raise ApiError(400, "Bad Request: chat not found") from None


def _bad_field(name: str) -> NoReturn:
    raise ApiError(400, f'Bad Request: field "{name}" must be a valid Number')


async def _read_params(request: web.Request) -> dict[str, Any]:
    """The Bot API reads parameters from the query string and from a urlencoded, multipart or
    JSON body alike."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from None
        if isinstance(body, dict):
            params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, str):
                params[key] = value
            elif isinstance(value, web.FileField):  # an uploaded file: keep its name only
                params[key] = f"<file {value.filename}>"
            else:
                params[key] = bytes(value).decode("utf-8", "replace")
    return params


def _default_description(status: int, retry_after: int | None) -> str:
    if status == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    if status == HTTPStatus.FORBIDDEN:
        return "Forbidden: bot was blocked by the user"
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"Error {status}"


def _commands_key(scope: Any, language_code: str) -> tuple[str, str]:
    if not scope or (isinstance(scope, dict) and scope.get("type") == "default"):
        scope = {"type": "default"}
    return json.dumps(scope, sort_keys=True), language_code


def _update_type(update: JSON) -> str:
    return next((key for key in update if key != "update_id"), "")


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _command_entities(text: str) -> list[JSON]:
    match = _LEADING_COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": _utf16_len(match.group())}]


def _check_reply_markup(markup: Any) -> None:
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    keyboard = markup.get("inline_keyboard")
    if keyboard is None:
        return  # reply keyboards, force_reply and remove_keyboard are not checked
    if not isinstance(keyboard, list) or not all(isinstance(row, list) for row in keyboard):
        raise ApiError(400, "Bad Request: can't parse inline keyboard button: field must be Array")
    for row in keyboard:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(400, "Bad Request: can't parse inline keyboard button")
            actions = [key for key in _BUTTON_ACTIONS if key in button]
            if not actions:
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Text buttons are"
                    " unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if data is not None and not (
                isinstance(data, str) and 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise ApiError(400, "Bad Request: BUTTON_URL_INVALID")


# -- HTML parse mode ----------------------------------------------------------------------

_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED_REFERENCES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REFERENCE = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]{1,8}));")
_PLAIN_RUN = re.compile(r"[^<&]+")
_ATTRIBUTE = re.compile(
    r"""\s*([a-zA-Z][a-zA-Z0-9_-]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?"""
)


@dataclass
class _OpenTag:
    name: str
    attributes: dict[str, str]
    start: int  # in UTF-16 code units, like entity offsets
    language: str | None = field(default=None)


def _unescape(text: str) -> str:
    """Decode the character references Telegram knows; others stay as written."""

    def replace(match: re.Match[str]) -> str:
        decimal, hexadecimal, name = match.groups()
        if name is not None:
            return _NAMED_REFERENCES.get(name, match.group())
        code = int(decimal) if decimal is not None else int(hexadecimal, 16)
        return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else ""

    return _REFERENCE.sub(replace, text)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Text and entities of an HTML-mode message, or the 400 Telegram answers to bad markup.

    Follows the Bot API's rules: only the documented tags, no unclosed or crossed tags, only
    ``&lt; &gt; &amp; &quot;`` and numeric character references decoded."""
    parts: list[str] = []
    position = 0  # UTF-16 code units written so far
    stack: list[_OpenTag] = []
    entities: list[JSON] = []
    index, end = 0, len(source)

    def fail(reason: str) -> NoReturn:
        raise ApiError(400, f"Bad Request: can't parse entities: {reason}")

    def byte_offset(at: int) -> int:
        return len(source[:at].encode())

    def write(text: str) -> None:
        nonlocal position
        parts.append(text)
        position += _utf16_len(text)

    while index < end:
        char = source[index]
        if char != "<":
            if char == "&":
                match = _REFERENCE.match(source, index)
                if match is not None:
                    write(_unescape(match.group()))
                    index = match.end()
                else:
                    write("&")
                    index += 1
            else:
                run = _PLAIN_RUN.match(source, index)
                assert run is not None
                write(run.group())
                index = run.end()
            continue

        begin = index
        if source.startswith("</", index):
            close = source.find(">", index)
            if close == -1:
                fail(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            name = source[index + 2 : close].strip().lower()
            if not stack:
                fail(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            tag = stack.pop()
            if tag.name != name:
                fail(
                    f"Unmatched end tag at byte offset {byte_offset(begin)},"
                    f' expected "</{tag.name}>", found "</{name}>"'
                )
            entity = _entity_for(tag, position, stack)
            if entity is not None:
                entities.append(entity)
            index = close + 1
            continue

        index += 1
        while index < end and not source[index].isspace() and source[index] not in "<>":
            index += 1
        if index >= end:
            fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[begin + 1 : index].lower()
        if name not in _TAG_ENTITY:
            fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attributes: dict[str, str] = {}
        while True:
            while index < end and source[index].isspace():
                index += 1
            if index >= end:
                fail(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[index] == ">":
                index += 1
                break
            attribute = _ATTRIBUTE.match(source, index)
            if attribute is None:
                fail(f'Empty attribute name in tag "{name}" at byte offset {byte_offset(begin)}')
            key, double, single, bare = attribute.groups()
            value = next((v for v in (double, single, bare) if v is not None), "")
            attributes[key.lower()] = _unescape(value)
            index = attribute.end()
        if name == "span" and attributes.get("class") != "tg-spoiler":
            fail(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        stack.append(_OpenTag(name, attributes, position))

    if stack:
        fail(f"Can't find end tag corresponding to start tag {stack[-1].name}")
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return _trim("".join(parts), entities)


def _entity_for(tag: _OpenTag, position: int, outer: list[_OpenTag]) -> JSON | None:
    kind = _TAG_ENTITY[tag.name]
    if kind == "code" and outer and outer[-1].name == "pre":
        language = tag.attributes.get("class", "")
        if language.startswith("language-"):
            outer[-1].language = language.removeprefix("language-")
            return None  # <pre><code class="language-x"> is one pre entity with a language
    length = position - tag.start
    if length == 0:
        return None
    entity: JSON = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        href = tag.attributes.get("href")
        if not href:
            return None
        entity["url"] = href
    elif kind == "pre" and tag.language:
        entity["language"] = tag.language
    elif kind == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attributes.get("emoji-id", "")
    return entity


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Telegram strips a message's surrounding whitespace; entities are moved and clipped."""
    stripped = text.lstrip()
    shift = _utf16_len(text[: len(text) - len(stripped)])
    stripped = stripped.rstrip()
    total = _utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(int(entity["offset"]) - shift, 0)
        stop = min(int(entity["offset"]) + int(entity["length"]) - shift, total)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept
