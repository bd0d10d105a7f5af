"""Pure conversions from the core's answers to Telegram messages (HTML parse mode).

Answers carry light Markdown (`**bold**`, `- ` lists, `[label](url)`); everything else is
escaped, so nothing a pack or a resident wrote can inject markup. Long answers are split at
paragraph boundaries below Telegram's 4,096-character limit, and suggestions become an
inline keyboard on the last part.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from bot.messages import Answer

MAX_TEXT = 4096
MAX_BUTTON_LABEL = 60
MAX_CALLBACK_BYTES = 64
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")
_BULLET = re.compile(r"^(\s*)[-*] ", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Button:
    """One inline keyboard button: its label and the callback data sent back."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Message:
    """One Telegram message: HTML text and, on the last part, the buttons (one per row)."""

    html: str
    buttons: tuple[Button, ...] = ()


def to_html(text: str) -> str:
    """Light Markdown to Telegram HTML, every other character escaped."""
    escaped = html.escape(text, quote=False)
    escaped = _LINK.sub(
        lambda m: f'<a href="{m.group(2).replace(chr(34), "%22")}">{m.group(1)}</a>', escaped
    )
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    return _BULLET.sub(r"\1• ", escaped)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """`text` cut into parts whose HTML fits `limit`, at paragraph, then line, then word ends."""
    parts: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(to_html(candidate)) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        chunks = _cut(paragraph, limit)
        parts.extend(chunks[:-1])
        current = chunks[-1]
    if current:
        parts.append(current)
    return parts


def _cut(paragraph: str, limit: int) -> list[str]:
    """A paragraph as full parts, cut after a line or a word, or inside a word if it must."""
    chunks: list[str] = []
    current = ""
    for token in re.split(r"(?<=[\n ])", paragraph):
        if len(to_html(current + token)) <= limit:
            current += token
            continue
        if current:
            chunks.append(current)
        while len(to_html(token)) > limit:  # one "word" longer than a message
            size = _longest_prefix(token, limit)
            chunks.append(token[:size])
            token = token[size:]
        current = token
    return [*chunks, current] if current else chunks or [""]


def _longest_prefix(token: str, limit: int) -> int:
    low, high = 1, len(token)
    while low < high:
        middle = (low + high + 1) // 2
        if len(to_html(token[:middle])) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def render(answer: Answer, encode_payload: CallbackEncoder | None = None) -> list[Message]:
    """The messages for one answer, in order; links listed after the text."""
    text = answer.text
    if answer.links:
        text += "\n\n" + "\n".join(answer.links)
    parts = split(text) or ["…"]
    buttons = tuple(
        Button(_label(choice.label), (encode_payload or _identity)(choice.payload))
        for choice in answer.choices
    )
    messages = [Message(to_html(part)) for part in parts[:-1]]
    messages.append(Message(to_html(parts[-1]), buttons))
    return messages


def _label(label: str) -> str:
    return label if len(label) <= MAX_BUTTON_LABEL else label[: MAX_BUTTON_LABEL - 1] + "…"


def _identity(payload: str) -> str:
    return payload


class CallbackEncoder:
    """Keeps callback data under Telegram's 64 bytes: long payloads get a short token.

    Tokens live in memory, bounded; a button pressed after a restart or long after is
    answered by the core as an expired choice.
    """

    PREFIX = "~"

    def __init__(self, limit: int = 5_000) -> None:
        self._tokens: dict[str, str] = {}
        self._by_payload: dict[str, str] = {}
        self._limit = limit
        self._next = 0

    def __call__(self, payload: str) -> str:
        if len(payload.encode()) <= MAX_CALLBACK_BYTES and not payload.startswith(self.PREFIX):
            return payload
        if payload in self._by_payload:
            return self._by_payload[payload]
        if len(self._tokens) >= self._limit:
            self._tokens.clear()
            self._by_payload.clear()
        self._next += 1
        token = f"{self.PREFIX}{self._next:x}"
        self._tokens[token] = payload
        self._by_payload[payload] = token
        return token

    def decode(self, data: str) -> str:
        """The payload a button carried (an expired token stays as is)."""
        return self._tokens.get(data, data)
