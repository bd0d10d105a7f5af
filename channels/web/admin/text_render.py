"""Previews of an answer or an announcement as each channel will show it.

Why here: agents must see what residents will see before sending. The light Markdown of
answers (`**gras**`, `- ` lists, `[libellé](https://…)`, bare links) is rendered the way the
web chat renders it; every other character is escaped, so nothing an agent or a resident
typed can inject markup into the back-office.
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_TOKEN = re.compile(
    r"\*\*(?P<bold>[^*\n]+)\*\*"
    r"|\[(?P<label>[^\]\n]{1,200})\]\((?P<target>https?://[^\s)]{1,500})\)"
    r"|(?P<url>https?://[^\s)<>]{1,500})"
)
_ITEM = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.*)$")
_TRAILING = ".,;:!?"


def _link(url: str, label: str) -> Markup:
    return Markup('<a href="{}" rel="noopener noreferrer">{}</a>').format(url, label)


def _inline(text: str) -> Markup:
    out: list[Markup] = []
    last = 0
    for match in _TOKEN.finditer(text):
        out.append(escape(text[last : match.start()]))
        if match.group("bold") is not None:
            out.append(Markup("<strong>{}</strong>").format(match.group("bold")))
        elif match.group("label") is not None:
            out.append(_link(match.group("target"), match.group("label")))
        else:
            url = match.group("url").rstrip(_TRAILING)
            out.append(_link(url, url))
            out.append(escape(match.group("url")[len(url) :]))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def web_html(text: str) -> Markup:
    """Paragraphs and lists, as the web chat shows an answer; safe to insert in a page."""
    out: list[Markup] = []
    items: list[Markup] = []
    for line in text.split("\n"):
        item = _ITEM.match(line)
        if item:
            items.append(Markup("<li>{}</li>").format(_inline(item.group(1))))
            continue
        if items:
            out.append(Markup("<ul>{}</ul>").format(Markup("").join(items)))
            items = []
        if line.strip():
            out.append(Markup("<p>{}</p>").format(_inline(line)))
    if items:
        out.append(Markup("<ul>{}</ul>").format(Markup("").join(items)))
    return Markup("").join(out)


def plain_text(text: str) -> str:
    """The text as a channel without formatting (SMS-like) would carry it."""
    text = re.sub(r"\[([^\]\n]{1,200})\]\((https?://[^\s)]{1,500})\)", r"\1 : \2", text)
    text = re.sub(r"\*\*([^*\n]+)\*\*", r"\1", text)
    return re.sub(r"^(\s*)[-*] ", r"\1• ", text, flags=re.MULTILINE)
