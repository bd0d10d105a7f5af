"""Pure conversions from a `Push` to the JSON the site's service worker shows as a notification.

A notification is plain text in a few lines: the light Markdown of notices (`**gras**`,
`[libellé](url)`, `- ` lists) is reduced to its words, and the text is cut at a word end.
Push services refuse bodies over 4 KB once encrypted, which the cut keeps far away.
"""

from __future__ import annotations

import hashlib
import json
import re

from bot.channel import Push
from channels.webpush.keys import b64url

MAX_BODY = 600  # characters: a notification shows far fewer; the rest is in the chat
TOPIC_TITLES = {  # what residents read above the text, by subscription topic or notice kind
    "collecte": "Collecte des déchets",
    "decalage": "Collecte des déchets",
    "cantine": "Menu de la cantine",
    "alertes": "Alerte",
    "agenda": "Agenda",
}
_BOLD = re.compile(r"\*\*(.+?)\*\*", re.DOTALL)
_LINK = re.compile(r"\[([^\]\n]{1,200})\]\((?:https?://|/)[^\s)]{0,500}\)")
_BULLET = re.compile(r"^(\s*)[-*] ", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n\s*\n+")
_SPACES = re.compile(r"[ \t]+")


def plain_text(text: str) -> str:
    """Light Markdown reduced to what it says: labels instead of links, bullets as •."""
    text = _LINK.sub(r"\1", text)
    text = _BOLD.sub(r"\1", text)
    text = _BULLET.sub(r"\1• ", text)
    text = _BLANK_LINES.sub("\n", text.replace("\r", ""))
    return "\n".join(_SPACES.sub(" ", line).strip() for line in text.strip().split("\n"))


def shorten(text: str, limit: int = MAX_BODY) -> str:
    """`text` cut at a word end so that it fits `limit` characters with its ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    if space > limit * 0.6:  # a word end not too far back; else cut inside the word
        cut = cut[:space]
    return cut.rstrip(" \n,;:.-–") + "…"


def title_for(push: Push, commune: str) -> str:
    """The title above the text: the commune and the topic ("Morvelay · Alerte")."""
    label = TOPIC_TITLES.get(push.topic) or TOPIC_TITLES.get(push.kind)
    if not commune:
        return label or "Information de la mairie"
    return f"{commune} · {label}" if label else commune


def tag_for(push: Push, replace_kinds: frozenset[str]) -> str:
    """The push service `Topic` (and the notification `tag`) of one delivery.

    By default it identifies the delivery itself (`Push.key`): a send retried after a crash
    replaces the first one still queued at the push service, and the service worker shows
    it once. For the kinds in `replace_kinds` it identifies the kind, so a newer notice of
    that kind replaces an older one not yet delivered. RFC 8030 allows 32 base64url
    characters.
    """
    seed = f"kind:{push.kind}" if push.kind in replace_kinds else f"key:{push.key}"
    return b64url(hashlib.sha256(seed.encode()).digest())[:32]


def payload(push: Push, *, commune: str, url: str, tag: str, max_body: int = MAX_BODY) -> bytes:
    """The notification as UTF-8 JSON: `title`, `body`, `url` (opened on click) and `tag`."""
    body = shorten(plain_text(push.text), max_body) or "…"
    document = {"title": title_for(push, commune), "body": body, "url": url, "tag": tag}
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
