"""The Telegram channel on python-telegram-bot: answers in-band, notices pushed by the outbox.

PTB's `Application` runs on Crieur's own event loop, without its JobQueue or conversation
handlers (scheduling and conversations are Crieur's). Updates arrive by long polling (the
default: no public URL needed) or by webhook on Crieur's web server, checked against the
secret token. Telegram being unreachable never stops Crieur: start-up is retried in the
background with back-off and the state is shown on the health endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import itertools
import json
import logging
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web
from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler
from telegram.warnings import PTBDeprecationWarning

from bot.channel import Capabilities, Push, RateLimited, RecipientGone, Rejected, TransientError
from bot.messages import Answer, InboundHandler
from channels.telegram.inbound import CHANNEL, to_inbound
from channels.telegram.render import CallbackEncoder, Message, render

log = logging.getLogger(__name__)

COMMANDS = (
    ("aide", "Ce que je sais faire"),
    ("abonner", "Recevoir la collecte, le menu, les alertes…"),
    ("abonnements", "Voir mes abonnements"),
    ("desabonner", "Arrêter un abonnement"),
    ("stop", "Tout arrêter et effacer mes données"),
)
ALLOWED_UPDATES = ["message", "callback_query"]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PRIVATE_CHAT_INTERVAL = 1.0  # Telegram: about one message per second in one chat
GROUP_CHAT_INTERVAL = 3.0  # and 20 per minute in a group
RATE_WINDOW = 1.0  # seconds: the bot's rate over any second, counted at answers
MAX_START_BACKOFF = 60.0
LEADERSHIP_RETRY = 15.0  # seconds between attempts to become the polling process


@dataclass(frozen=True, slots=True)
class TelegramOptions:
    """The `[telegram]` settings the channel needs."""

    token: str
    base_url: str = "https://api.telegram.org"
    mode: Literal["polling", "webhook"] = "polling"
    webhook_url: str | None = None  # public URL Telegram posts to (webhook mode)
    webhook_path: str = "/webhooks/telegram"
    secret_token: str | None = None
    rate_per_second: float = 30.0
    poll_timeout: float = 30.0


class TelegramChannel:
    """One Telegram bot, speaking for one commune."""

    name = CHANNEL

    def __init__(self, options: TelegramOptions) -> None:
        self.options = options
        self.capabilities = Capabilities(
            can_push=True, max_text=4096, rate_per_second=options.rate_per_second
        )
        self._handler: InboundHandler | None = None
        self._application: Application[Any, Any, Any, Any, Any, Any] | None = None
        self._encoder = CallbackEncoder()
        self._last_sent: dict[int, float] = {}
        self._recent: deque[float] = deque()  # this bot's answered sends in the last second
        self._in_flight = 0
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._state = "démarrage"
        self._last_error: str | None = None
        self._username = ""
        self._bot_id = 0
        self._leader: Callable[[], Awaitable[bool]] = _always
        self._follower: asyncio.Task[None] | None = None
        self.polling = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self, handler: InboundHandler) -> None:
        """Connect in the background; return at once (Telegram may be unreachable)."""
        self._handler = handler
        self._runner = asyncio.create_task(self._connect_until_ready(), name="telegram-start")

    async def wait_ready(self) -> None:
        """Wait until the bot is connected (wrap in `asyncio.timeout`)."""
        await self._ready.wait()

    async def stop(self) -> None:
        for task in (self._follower,):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        application = self._application
        if application is None:
            return
        with contextlib.suppress(Exception):
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        self._state = "arrêté"

    def health(self) -> dict[str, object]:
        state: dict[str, object] = {"state": self._state, "mode": self.options.mode}
        if self.options.mode == "polling" and self._ready.is_set():
            state["polling"] = self.polling  # False: another process polls, this one sends
        if self._last_error:
            state["last_error"] = self._last_error
        return state

    async def _connect_until_ready(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._connect()
            except InvalidToken as exc:
                self._fail("jeton refusé par Telegram", exc)
                return
            except (TelegramError, OSError) as exc:
                self._fail("Telegram injoignable", exc)
                await self._discard_application()
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_START_BACKOFF)
                continue
            self._state = "connecté"
            self._ready.set()
            return

    async def _connect(self) -> None:
        options = self.options
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            Application.builder()
            .token(options.token)
            .base_url(options.base_url.rstrip("/") + "/bot")
            .base_file_url(options.base_url.rstrip("/") + "/file/bot")
            .job_queue(None)
            .concurrent_updates(True)
            .get_updates_read_timeout(options.poll_timeout + 10)
        )
        if options.mode == "webhook":
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self._on_update))
        application.add_error_handler(self._on_handler_error)
        self._application = application
        await application.initialize()  # getMe
        self._username = application.bot.username
        self._bot_id = application.bot.id
        await application.bot.set_my_commands([BotCommand(c, d) for c, d in COMMANDS])
        if options.mode == "webhook":
            if not options.webhook_url or not options.secret_token:
                raise InvalidToken("webhook_url et secret_token sont requis en mode webhook")
            await application.bot.set_webhook(
                url=options.webhook_url.rstrip("/") + options.webhook_path,
                secret_token=options.secret_token,
                allowed_updates=ALLOWED_UPDATES,
            )
        await application.start()
        if options.mode == "polling":
            if await self._leader():
                await self._start_polling()
            else:  # another process of this deployment polls; this one only sends
                self._follower = asyncio.create_task(self._wait_for_leadership())

    async def _start_polling(self) -> None:
        application = self._application
        assert application is not None and application.updater is not None
        await application.bot.delete_webhook()
        await application.updater.start_polling(
            timeout=timedelta(seconds=self.options.poll_timeout),
            allowed_updates=ALLOWED_UPDATES,
            error_callback=self._on_polling_error,
        )
        self.polling = True

    async def _wait_for_leadership(self) -> None:
        """Poll once the process that polled is gone (several processes, one poller)."""
        for _ in itertools.count():  # a lock held elsewhere has no event to await
            if await self._leader():
                break
            await asyncio.sleep(LEADERSHIP_RETRY)
        await self._start_polling()
        self._state = "connecté"

    def use_leadership(self, leader: Callable[[], Awaitable[bool]]) -> None:
        """Given by the composition root when several processes share the store."""
        self._leader = leader

    async def _discard_application(self) -> None:
        application, self._application = self._application, None
        if application is not None:
            with contextlib.suppress(Exception):
                await application.shutdown()

    def _fail(self, state: str, error: BaseException) -> None:
        self._state = state
        self._last_error = f"{type(error).__name__}: {error}"[:300]
        log.warning("telegram: %s (%s)", state, self._last_error)

    def _on_polling_error(self, error: TelegramError) -> None:
        """PTB retries polling with back-off; Crieur logs it and shows it on /healthz."""
        if isinstance(error, Conflict):
            self._fail("conflit : une autre instance interroge Telegram", error)
        else:
            self._fail("polling interrompu, nouvelle tentative", error)

    # ------------------------------------------------------------------ inbound

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if self._state != "connecté":
            self._state, self._last_error = "connecté", None
        if update.callback_query is not None:
            with contextlib.suppress(TelegramError):
                await update.callback_query.answer()
        inbound = to_inbound(
            update, self._username, self._bot_id, datetime.now(UTC), self._encoder.decode
        )
        if inbound is None or self._handler is None:
            return
        answer = await self._handler(inbound)
        await self._reply(int(inbound.address.chat_id), answer)

    async def _reply(self, chat_id: int, answer: Answer) -> None:
        for message in render(answer, self._encoder):
            await self._send(chat_id, message)

    async def _on_handler_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.warning("telegram: update not answered: %r", context.error)

    async def webhook(self, request: web.Request) -> web.Response:
        """`POST /webhooks/telegram`: the secret token is checked before the body is read."""
        expected = self.options.secret_token or ""
        given = request.headers.get(SECRET_HEADER, "")
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            return web.json_response({"error": "Jeton secret invalide."}, status=401)
        application = self._application
        if application is None or not self._ready.is_set():
            return web.json_response({"error": "Canal Telegram indisponible."}, status=503)
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, application.bot)
        except (ValueError, TypeError, KeyError):
            return web.json_response({"error": "Mise à jour illisible."}, status=400)
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    def routes(self) -> list[web.RouteDef]:
        """The webhook route, in webhook mode."""
        if self.options.mode != "webhook":
            return []
        return [web.post(self.options.webhook_path, self.webhook)]

    # ------------------------------------------------------------------ push

    async def push(self, push: Push) -> None:
        """Send a notice; PTB's errors become the outbox's."""
        if self._application is None or not self._ready.is_set():
            raise TransientError("Telegram n'est pas connecté")
        text = push.text
        for message in render(Answer(text, push.kind)):
            await _mapped(self._send(int(push.to.chat_id), message))

    async def _send(self, chat_id: int, message: Message) -> None:
        assert self._application is not None
        await self._pace(chat_id)
        self._in_flight += 1
        try:
            await self._post(chat_id, message)
        finally:
            self._in_flight -= 1
            # counted when the answer came back, so after Telegram received it: network delays
            # can never squeeze more than the rate into one of Telegram's seconds
            self._recent.append(time.monotonic())

    async def _post(self, chat_id: int, message: Message) -> None:
        assert self._application is not None
        markup = None
        if message.buttons:
            markup = InlineKeyboardMarkup(
                [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in message.buttons]
            )
        await self._application.bot.send_message(
            chat_id,
            message.html,
            parse_mode=ParseMode.HTML,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )

    async def _pace(self, chat_id: int) -> None:
        """At most one message a second in a chat (one every three in a group), and never
        more than the bot's rate in any second (sends counted when Telegram answered)."""
        interval = GROUP_CHAT_INTERVAL if chat_id < 0 else PRIVATE_CHAT_INTERVAL
        recent = self._recent
        for _ in itertools.count():  # until both the chat's and the bot's limits allow it
            now = time.monotonic()
            wait = self._last_sent.get(chat_id, -interval) + interval - now
            while recent and recent[0] <= now - RATE_WINDOW:
                recent.popleft()
            if len(recent) + self._in_flight >= self.options.rate_per_second:
                wait = max(wait, recent[0] + RATE_WINDOW - now if recent else 0.01)
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._last_sent[chat_id] = time.monotonic()
        if len(self._last_sent) > 10_000:
            cutoff = time.monotonic() - GROUP_CHAT_INTERVAL
            self._last_sent = {c: t for c, t in self._last_sent.items() if t > cutoff}


async def _mapped(sending: Awaitable[None]) -> None:
    try:
        await sending
    except RetryAfter as exc:
        with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            retry = exc.retry_after
        seconds = retry.total_seconds() if isinstance(retry, timedelta) else float(retry)
        raise RateLimited(seconds, str(exc)) from exc
    except Forbidden as exc:  # blocked by the user, kicked from the group
        raise RecipientGone(exc.message) from exc
    except ChatMigrated as exc:
        raise Rejected(f"groupe devenu supergroupe ({exc.new_chat_id})") from exc
    except BadRequest as exc:
        if "chat not found" in exc.message.lower() or "user is deactivated" in exc.message.lower():
            raise RecipientGone(exc.message) from exc
        raise Rejected(exc.message) from exc
    except (NetworkError, TelegramError) as exc:  # TimedOut, 5xx, unreadable answers
        raise TransientError(f"{type(exc).__name__}: {exc}") from exc


async def _always() -> bool:
    return True
