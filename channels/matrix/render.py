"""Pure conversions from the core's answers to Matrix `m.notice` contents.

Every reply carries a plain `body` (notifications, clients without HTML) and an HTML
`formatted_body` (`org.matrix.custom.html`). Answers carry light Markdown (`**bold**`,
`- ` lists, `[label](url)`); everything else is escaped, so nothing a pack or a resident
wrote can inject markup. Matrix has no buttons every client shows, so suggestions become a
numbered list the resident answers with a number (see `inbound.Suggestions`).

`m.notice` rather than `m.text`: it is the message type for automated replies, which other
bots ignore, so two bots in one room never answer each other. An event is limited to 64 KiB
once encrypted, so very long answers are cut at paragraph, line or word ends.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from bot.messages import Answer, Choice

HTML_FORMAT = "org.matrix.custom.html"
MAX_CONTENT_BYTES = 24_000  # JSON of one content; encrypted (base64, envelope) it stays < 64 KiB
CHOICE_HINT = "Répondez avec le numéro de votre choix."
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")
_BULLET = re.compile(r"^\s*[-*•] +")

Content = dict[str, Any]


def inline_html(line: str) -> str:
    """One line of light Markdown as HTML: escaped, then links and bold."""
    escaped = html.escape(line, quote=False)
    escaped = _LINK.sub(
        lambda m: f'<a href="{m.group(2).replace(chr(34), "%22")}">{m.group(1)}</a>', escaped
    )
    return _BOLD.sub(r"<strong>\1</strong>", escaped)


def to_html(text: str) -> str:
    """Light Markdown to Matrix HTML: paragraphs, line breaks, `- ` lists, bold and links."""
    blocks: list[str] = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines: list[str] = []
        items: list[str] = []
        for line in paragraph.split("\n"):
            if _BULLET.match(line):
                if lines:
                    blocks.append("<p>" + "<br>".join(lines) + "</p>")
                    lines = []
                items.append("<li>" + inline_html(_BULLET.sub("", line, count=1)) + "</li>")
                continue
            if items:
                blocks.append("<ul>" + "".join(items) + "</ul>")
                items = []
            lines.append(inline_html(line))
        if lines:
            blocks.append("<p>" + "<br>".join(lines) + "</p>")
        if items:
            blocks.append("<ul>" + "".join(items) + "</ul>")
    return "".join(blocks)


def to_plain(text: str) -> str:
    """The same text for the plain `body`: no asterisks, links as `label (url)`."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text.strip())
    return _BOLD.sub(r"\1", text)


def content(text: str, choices: tuple[Choice, ...] = ()) -> Content:
    """One `m.notice` content; choices become a numbered list and a hint to answer."""
    body = to_plain(text)
    formatted = to_html(text)
    if choices:
        numbered = [f"{n}. {choice.label}" for n, choice in enumerate(choices, 1)]
        body = "\n\n".join(part for part in (body, "\n".join(numbered), CHOICE_HINT) if part)
        formatted += (
            "<ol>"
            + "".join(f"<li>{html.escape(choice.label, quote=False)}</li>" for choice in choices)
            + f"</ol><p><em>{html.escape(CHOICE_HINT, quote=False)}</em></p>"
        )
    return {"msgtype": "m.notice", "body": body, "format": HTML_FORMAT, "formatted_body": formatted}


def size(message: Content) -> int:
    """The bytes one content takes in a request (nio sends ASCII JSON: é is `\\u00e9`)."""
    return len(json.dumps(message, separators=(",", ":")))


def render(answer: Answer, limit: int = MAX_CONTENT_BYTES) -> list[Content]:
    """The contents for one answer, in order; links listed after the text, choices last."""
    text = answer.text
    if answer.links:
        text += "\n\n" + "\n".join(answer.links)
    parts = split(text, lambda part: size(content(part)) <= limit) or ["…"]
    last = content(parts[-1], answer.choices)
    if answer.choices and size(last) > limit:  # the list does not fit beside the text
        return [*(content(part) for part in parts), content("", answer.choices)]
    return [*(content(part) for part in parts[:-1]), last]


def split(text: str, fits: Callable[[str], bool]) -> list[str]:
    """`text` cut into parts that fit, at paragraph, then line, then word ends."""
    parts: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if fits(candidate):
            current = candidate
            continue
        if current:
            parts.append(current)
        chunks = _cut(paragraph, fits)
        parts.extend(chunks[:-1])
        current = chunks[-1]
    if current:
        parts.append(current)
    return parts


def _cut(paragraph: str, fits: Callable[[str], bool]) -> list[str]:
    chunks: list[str] = []
    current = ""
    for token in re.split(r"(?<=[\n ])", paragraph):
        if fits(current + token):
            current += token
            continue
        if current:
            chunks.append(current)
        while not fits(token):  # one "word" longer than a message
            low, high = 1, len(token)
            while low < high:
                middle = (low + high + 1) // 2
                low, high = (middle, high) if fits(token[:middle]) else (low, middle - 1)
            chunks.append(token[:low])
            token = token[low:]
        current = token
    return [*chunks, current] if current else chunks or [""]
