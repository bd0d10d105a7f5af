"""Pure conversions from the core's answers to WhatsApp Cloud API message bodies.

WhatsApp's own limits shape the result: text under 4,096 characters (split at paragraphs),
*bold* with single asterisks, at most 3 reply buttons with titles of 20 characters, lists of
at most 10 rows (titles 24, descriptions 72), interactive bodies of 1,024 characters.
Template parameters cannot hold new lines or long runs of spaces.
"""

from __future__ import annotations

import re
from typing import Any

from bot.messages import Answer, Choice

MAX_TEXT = 4096
MAX_INTERACTIVE_BODY = 1024
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESCRIPTION = 72
MAX_PAYLOAD = 200
MAX_TEMPLATE_PARAMETER = 1024
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)")

Body = dict[str, Any]


def to_whatsapp(text: str) -> str:
    """Light Markdown to WhatsApp's: **bold** → *bold*, [label](url) → label (url)."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _BOLD.sub(r"*\1*", text)


def split(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Parts under `limit`, cut at paragraphs, then lines, then anywhere."""
    parts: list[str] = []
    current = ""
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        candidate = f"{current}\n\n{paragraph}" if current else paragraph
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            parts.append(current)
        while len(paragraph) > limit:
            cut = paragraph.rfind("\n", 0, limit)
            cut = cut if cut > limit // 2 else paragraph.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            parts.append(paragraph[:cut].rstrip())
            paragraph = paragraph[cut:].lstrip()
        current = paragraph
    if current:
        parts.append(current)
    return parts or ["…"]


def render(to: str, answer: Answer) -> list[Body]:
    """The message bodies for one answer, in order (POST …/messages, one each)."""
    text = to_whatsapp(answer.text)
    if answer.links:
        text += "\n\n" + "\n".join(answer.links)
    choices = [c for c in answer.choices if len(c.payload) <= MAX_PAYLOAD][:MAX_ROWS]
    parts = split(text)
    if not choices:
        return [text_body(to, part) for part in parts]
    if len(parts[-1]) > MAX_INTERACTIVE_BODY:
        bodies = [text_body(to, part) for part in parts]
        return [*bodies, interactive_body(to, "Choisissez :", choices)]
    bodies = [text_body(to, part) for part in parts[:-1]]
    return [*bodies, interactive_body(to, parts[-1], choices)]


def text_body(to: str, text: str) -> Body:
    return {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": "text",
        "text": {"body": text, "preview_url": False},
    }


def interactive_body(to: str, text: str, choices: list[Choice]) -> Body:
    """Reply buttons when they fit (3, short titles), else a list."""
    body: Body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                  "type": "interactive"}  # fmt: skip
    if len(choices) <= MAX_BUTTONS and all(len(c.label) <= MAX_BUTTON_TITLE for c in choices):
        body["interactive"] = {
            "type": "button",
            "body": {"text": text},
            "action": {
                "buttons": [
                    {"type": "reply", "reply": {"id": c.payload, "title": c.label}} for c in choices
                ]
            },
        }
        return body
    rows = [
        {
            "id": c.payload,
            "title": _cut(c.label, MAX_ROW_TITLE),
            **({"description": _cut(c.label, MAX_ROW_DESCRIPTION)}
               if len(c.label) > MAX_ROW_TITLE else {}),
        }
        for c in choices
    ]  # fmt: skip
    body["interactive"] = {
        "type": "list",
        "body": {"text": text},
        "action": {"button": "Voir les choix", "sections": [{"title": "Choix", "rows": rows}]},
    }
    return body


def template_body(to: str, name: str, language: str, text: str) -> Body:
    """A pre-approved template whose one body parameter is the notice's text."""
    parameter = re.sub(r"\s*\n\s*", " – ", to_whatsapp(text).strip())
    parameter = re.sub(r" {4,}", "   ", parameter)
    return {
        "messaging_product": "whatsapp",
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {"type": "body",
                 "parameters": [{"type": "text", "text": _cut(parameter, MAX_TEMPLATE_PARAMETER)}]}
            ],
        },
    }  # fmt: skip


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
