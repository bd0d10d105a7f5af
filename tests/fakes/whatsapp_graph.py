"""A fake WhatsApp Cloud API (Graph API) on 127.0.0.1, faithful to the documented messages
endpoint, and builders of Meta's webhook bodies, signed like Meta signs them.

`POST /{version}/{phone_number_id}/messages` checks the bearer token and the documented JSON
bodies (text, interactive buttons and lists, templates, read receipts), enforces the 24-hour
customer-service window (free-form text to a number that has not written within 24 hours
gets error 131047), can limit throughput (error 130429), refuse unknown numbers (131026),
and fail the next calls on demand. Everything received is recorded.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Self

from aiohttp import web

VERSION = "v21.0"
PHONE_NUMBER_ID = "106540352242922"
TOKEN = "EAAGfakeAccessTokenForCrieurTests"
APP_SECRET = "0123456789abcdef0123456789abcdef"
JSON = dict[str, Any]


def _error(status: int, code: int, message: str, details: str = "") -> web.Response:
    body = {
        "error": {
            "message": message,
            "type": "OAuthException",
            "code": code,
            "error_data": {"messaging_product": "whatsapp", "details": details or message},
            "fbtrace_id": "AbCdEfGh123",
        }
    }
    return web.json_response(body, status=status)


@dataclass
class _Failure:
    status: int
    code: int
    message: str
    count: int


class FakeGraphAPI:
    """`async with FakeGraphAPI() as graph`: point the channel's graph_url at `graph.url`."""

    def __init__(self, *, token: str = TOKEN, phone_number_id: str = PHONE_NUMBER_ID) -> None:
        self.token = token
        self.phone_number_id = phone_number_id
        self.messages: list[JSON] = []  # accepted message bodies, in order
        self.arrivals: list[float] = []  # time.perf_counter() at each accepted message
        self.read_receipts: list[str] = []
        self.errors: list[tuple[int, str]] = []  # (code, message) answered
        self.unknown_numbers: set[str] = set()
        self.count_rate_limited = 0
        self._windows: set[str] = set()
        self._failures: deque[_Failure] = deque()
        self._limit: int | None = None
        self._times: deque[float] = deque()
        self._ids = itertools.count(1)
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        """The channel's `graph_url`: the base URL including the version."""
        return f"http://127.0.0.1:{self.port}/{VERSION}"

    # ------------------------------------------------------------------ controls

    def open_window(self, wa_id: str) -> None:
        """The resident wrote: free-form messages are allowed for 24 hours."""
        self._windows.add(wa_id)

    def close_window(self, wa_id: str) -> None:
        self._windows.discard(wa_id)

    def fail_next(self, status: int, code: int, message: str, count: int = 1) -> None:
        self._failures.append(_Failure(status, code, message, count))

    def limit_per_second(self, limit: int | None) -> None:
        self._limit = limit

    def sent_to(self, wa_id: str) -> list[JSON]:
        return [m for m in self.messages if m.get("to") == wa_id]

    async def wait_for(self, predicate: Any, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        async with asyncio.timeout(timeout):
            while not predicate(self):
                self._changed.clear()
                await self._changed.wait()

    # ------------------------------------------------------------------ HTTP

    async def _messages(self, request: web.Request) -> web.Response:
        try:
            return self._answer(request, await request.json())
        except (ValueError, UnicodeDecodeError):
            return self._refuse(400, 100, "(#100) Invalid parameter", "invalid JSON")
        finally:
            self._changed.set()

    def _answer(self, request: web.Request, body: Any) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return self._refuse(401, 190, "Invalid OAuth access token - Cannot parse access token")
        if request.match_info["phone"] != self.phone_number_id:
            return self._refuse(400, 100, "Unsupported post request. Object does not exist")
        if not isinstance(body, dict) or body.get("messaging_product") != "whatsapp":
            return self._refuse(400, 100, "(#100) The parameter messaging_product is required.")
        if body.get("status") == "read":
            if not isinstance(body.get("message_id"), str):
                return self._refuse(400, 100, "(#100) Invalid parameter", "message_id")
            self.read_receipts.append(body["message_id"])
            return web.json_response({"success": True})
        if self._failures:
            failure = self._failures[0]
            failure.count -= 1
            if failure.count <= 0:
                self._failures.popleft()
            return self._refuse(failure.status, failure.code, failure.message)
        if self._limit is not None and not self._within_limit():
            self.count_rate_limited += 1
            return self._refuse(400, 130429, "(#130429) Rate limit hit",
                                "Cloud API message throughput has been reached.")  # fmt: skip
        problem = _invalid(body)
        if problem:
            return self._refuse(400, 100, "(#100) Invalid parameter", problem)
        to = body["to"]
        if to in self.unknown_numbers:
            return self._refuse(400, 131026, "Message undeliverable",
                                "Message Undeliverable.")  # fmt: skip
        if body["type"] != "template" and to not in self._windows:
            return self._refuse(400, 131047, "Re-engagement message",
                                "More than 24 hours have passed since the recipient last "
                                "replied to the sender number.")  # fmt: skip
        self.messages.append(body)
        self.arrivals.append(time.perf_counter())
        message_id = f"wamid.HBgL{next(self._ids):012d}"
        return web.json_response(
            {"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}],
             "messages": [{"id": message_id}]}
        )  # fmt: skip

    def _within_limit(self) -> bool:
        now = time.monotonic()
        while self._times and self._times[0] <= now - 1.0:
            self._times.popleft()
        if self._limit is not None and len(self._times) >= self._limit:
            return False
        self._times.append(now)
        return True

    def _refuse(self, status: int, code: int, message: str, details: str = "") -> web.Response:
        self.errors.append((code, message))
        return _error(status, code, message, details)


def _invalid(body: JSON) -> str | None:
    """Why a message body breaks the documented format, or None."""
    to, kind = body.get("to"), body.get("type")
    if not isinstance(to, str) or not to.isdigit():
        return "to"
    if kind == "text":
        text = body.get("text")
        if not isinstance(text, dict) or not isinstance(text.get("body"), str):
            return "text.body"
        return None if 0 < len(text["body"]) <= 4096 else "text.body length"
    if kind == "interactive":
        return _invalid_interactive(body.get("interactive"))
    if kind == "template":
        template = body.get("template")
        if not isinstance(template, dict) or not isinstance(template.get("name"), str):
            return "template.name"
        language = template.get("language")
        if not isinstance(language, dict) or not isinstance(language.get("code"), str):
            return "template.language.code"
        for component in template.get("components", []):
            for parameter in component.get("parameters", []):
                text = parameter.get("text", "")
                if "\n" in text or "    " in text or len(text) > 1024:
                    return "template parameter text"
        return None
    return "type"


def _invalid_interactive(interactive: Any) -> str | None:
    if not isinstance(interactive, dict):
        return "interactive"
    body = interactive.get("body")
    if not isinstance(body, dict) or not 0 < len(body.get("text", "")) <= 1024:
        return "interactive.body.text"
    action = interactive.get("action", {})
    if interactive.get("type") == "button":
        buttons = action.get("buttons", [])
        if not 1 <= len(buttons) <= 3:
            return "interactive.action.buttons count"
        for button in buttons:
            reply = button.get("reply", {})
            if not 0 < len(reply.get("title", "")) <= 20 or not 0 < len(reply.get("id", "")) <= 256:
                return "button title or id"
        return None
    if interactive.get("type") == "list":
        rows = [row for section in action.get("sections", []) for row in section.get("rows", [])]
        if not 1 <= len(rows) <= 10 or not 0 < len(action.get("button", "")) <= 20:
            return "interactive.action rows or button"
        for row in rows:
            if not 0 < len(row.get("title", "")) <= 24 or len(row.get("description", "")) > 72:
                return "row title or description"
            if not 0 < len(row.get("id", "")) <= 200:
                return "row id"
        return None
    return "interactive.type"


# ---------------------------------------------------------------------- webhooks


def message_webhook(
    wa_id: str,
    text: str | None = None,
    *,
    message_id: str | None = None,
    reply_id: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
) -> JSON:
    """A webhook body carrying one resident's text message, or a button reply."""
    message: JSON = {
        "from": wa_id,
        "id": message_id or f"wamid.in{wa_id}{time.monotonic_ns()}",
        "timestamp": str(int(time.time())),
    }
    if reply_id is not None:
        reply = {"type": "button_reply", "button_reply": {"id": reply_id, "title": "Choix"}}
        message |= {"type": "interactive", "interactive": reply}
    else:
        message |= {"type": "text", "text": {"body": text or ""}}
    return _envelope(
        {"contacts": [{"profile": {"name": "Habitant"}, "wa_id": wa_id}], "messages": [message]},
        phone_number_id,
    )


def status_webhook(message_id: str, status: str, wa_id: str, error_code: int | None = None) -> JSON:
    item: JSON = {"id": message_id, "status": status, "timestamp": str(int(time.time())),
                  "recipient_id": wa_id}  # fmt: skip
    if error_code is not None:
        item["errors"] = [{"code": error_code, "title": "Message failed to send"}]
    return _envelope({"statuses": [item]}, PHONE_NUMBER_ID)


def _envelope(value: JSON, phone_number_id: str) -> JSON:
    value = {"messaging_product": "whatsapp",
             "metadata": {"display_phone_number": "33600000000",
                          "phone_number_id": phone_number_id}, **value}  # fmt: skip
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value,
                                                            "field": "messages"}]}]}  # fmt: skip


def signed(payload: JSON, secret: str = APP_SECRET) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers Meta sends: `X-Hub-Signature-256: sha256=<hex HMAC>`."""
    body = json.dumps(payload).encode()
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/json", "X-Hub-Signature-256": f"sha256={signature}"}
