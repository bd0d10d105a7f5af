"""Broadcasts: compose, see the audience and a preview per channel, send or schedule,
cancel, and follow the delivery figures.

Why a confirmation step: an announcement cannot be taken back once delivered; the agent
sees how many residents it reaches and how each channel will show it before sending.
A one-time nonce on the confirmation form makes a double click send it only once.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import web

from bot.broadcasts import MAX_TEXT, Broadcast, BroadcastError
from bot.outbox import Progress
from bot.subscribing import topics_of
from channels.web.admin.core import (
    Admin,
    RefusedError,
    admin_of,
    read_form,
    redirect,
    render,
    require_session,
    url,
)
from channels.web.admin.figures import channel_label
from channels.web.admin.text_render import plain_text, web_html

PUBLISH_NOW_SECONDS = 30  # an announcement due within this is published at once
LABELS = {
    "texte": "Texte de l'annonce",
    "theme": "Thème",
    "secteur": "Secteur",
    "quand": "Moment de l'envoi",
    "date": "Date et heure d'envoi",
}
STATUSES = {"scheduled": "programmée", "published": "envoyée", "cancelled": "annulée"}


@dataclass(frozen=True, slots=True)
class Compose:
    """The compose form's values, as typed."""

    text: str = ""
    topic: str = "alertes"
    zone: str = ""
    when: str = "maintenant"  # or "plus-tard"
    date: str = ""  # datetime-local, the commune's time
    urgent: bool = False

    @classmethod
    def from_form(cls, form: dict[str, str]) -> Compose:
        return cls(
            form.get("texte", "")[: MAX_TEXT * 2].replace("\r\n", "\n"),
            form.get("theme", "")[:40],
            form.get("secteur", "")[:64],
            "plus-tard" if form.get("quand") == "plus-tard" else "maintenant",
            form.get("date", "")[:40],
            form.get("urgent") == "oui",
        )


def _choices(admin: Admin) -> tuple[dict[str, str], dict[str, str]]:
    knowledge = admin.knowledge
    topics = {name: topic.label for name, topic in topics_of(knowledge).items()}
    collecte = knowledge.pack.collecte
    zones = {zone.id: zone.name for zone in collecte.zones} if collecte else {}
    return topics, zones


def _check(admin: Admin, compose: Compose) -> tuple[dict[str, str], str, datetime]:
    """Field errors (French), the cleaned text and the sending time."""
    topics, zones = _choices(admin)
    now = admin.now()
    errors: dict[str, str] = {}
    at = now
    if compose.when == "plus-tard":
        try:
            at = datetime.fromisoformat(compose.date)
        except ValueError:
            errors["date"] = "indiquez la date et l'heure d'envoi (jj/mm/aaaa hh:mm)"
        else:
            at = at.replace(tzinfo=admin.tz) if at.tzinfo is None else at
            if (now - at).total_seconds() > 60:
                errors["date"] = "cette date est passée"
    text = compose.text.strip()
    if not text:
        errors["texte"] = "le texte de l'annonce est vide"
    elif len(text) > MAX_TEXT:
        errors["texte"] = f"le texte dépasse {MAX_TEXT} caractères ({len(text)})"
    if compose.topic not in topics:
        errors["theme"] = "choisissez un thème dans la liste"
    if compose.zone and compose.zone not in zones:
        errors["secteur"] = "choisissez un secteur dans la liste"
    if not errors:
        try:
            text = admin.broadcasts.validate(
                text, compose.topic, compose.zone or None, at, now, set(topics), set(zones)
            )
        except BroadcastError as exc:
            errors["texte"] = str(exc)
    return errors, text, at


def previews(admin: Admin, text: str) -> list[dict[str, Any]]:
    """How each channel will show the text."""
    found: list[dict[str, Any]] = [
        {"name": "Chat web et notifications", "kind": "web", "html": web_html(text)}
    ]
    if admin.services.telegram_html is not None:
        found.append(
            {"name": "Telegram", "kind": "code", "code": admin.services.telegram_html(text)}
        )
    plain = plain_text(text)
    found.append(
        {"name": "Texte brut (SMS et canaux sans mise en forme)", "kind": "plain", "text": plain}
    )
    return found


async def _list_page(
    request: web.Request,
    compose: Compose | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    admin = admin_of(request)
    topics, zones = _choices(admin)
    recent = await admin.broadcasts.recent(limit=30)
    figures: dict[int, Progress] = {}
    for item in recent:
        if item.notice_id is not None:
            figures[item.id] = await admin.outbox.progress(item.notice_id)
    default_date = (admin.now().astimezone(admin.tz) + timedelta(hours=1)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    return render(
        request,
        "annonces.html",
        status=status,
        section="annonces",
        title="Annonces",
        compose=compose or Compose(date=default_date),
        errors=errors or {},
        labels=LABELS,
        topics=topics,
        zones=zones,
        zone_options={"": "Toute la commune", **zones},
        recent=recent,
        figures=figures,
        statuses=STATUSES,
        max_text=MAX_TEXT,
    )


async def broadcasts(request: web.Request) -> web.StreamResponse:
    return await _list_page(request)


async def preview(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    compose = Compose.from_form(await read_form(request))
    errors, text, at = _check(admin, compose)
    if errors:
        return await _list_page(request, compose, errors, 422)
    topics, zones = _choices(admin)
    audience = await admin.outbox.audience_size((compose.topic,), compose.zone or None)
    return render(
        request,
        "annonce_confirmation.html",
        section="annonces",
        title="Vérifier l'annonce avant l'envoi",
        compose=compose,
        text=text,
        at=at,
        now=compose.when == "maintenant",
        audience=audience,
        topic_label=topics[compose.topic],
        zone_label=zones.get(compose.zone, ""),
        previews=previews(admin, text),
        nonce=secrets.token_urlsafe(16),
    )


async def send(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    session = require_session(request)
    form = await read_form(request)
    compose = Compose.from_form(form)
    if form.get("action") == "modifier":
        return await _list_page(request, compose)
    nonce = form.get("nonce", "")[:64]
    if nonce and nonce in admin.used_nonces:
        raise redirect(
            url(request, "broadcast", {"ok": "deja-envoyee"}, broadcast_id=admin.used_nonces[nonce])
        )
    errors, text, at = _check(admin, compose)
    if errors:
        return await _list_page(request, compose, errors, 422)
    now = admin.now()
    created = await admin.broadcasts.create(
        session.agent.username, text, compose.topic, compose.zone or None, at, compose.urgent, now
    )
    if nonce:
        admin.remember_nonce(nonce, created)
    if at <= now + timedelta(seconds=PUBLISH_NOW_SECONDS):
        await admin.broadcasts.publish(created)
        raise redirect(url(request, "broadcast", {"ok": "envoyee"}, broadcast_id=created))
    raise redirect(url(request, "broadcast", {"ok": "programmee"}, broadcast_id=created))


async def _get(request: web.Request) -> Broadcast:
    item = await admin_of(request).broadcasts.get(int(request.match_info["broadcast_id"]))
    if item is None:
        raise RefusedError(404, "Cette annonce n'existe pas.")
    return item


async def detail(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    item = await _get(request)
    topics, zones = _choices(admin)
    progress = await admin.outbox.progress(item.notice_id) if item.notice_id else None
    return render(
        request,
        "annonce.html",
        section="annonces",
        title=f"Annonce n° {item.id}",
        item=item,
        progress=progress,
        topic_label=topics.get(item.topic, item.topic),
        zone_label=zones.get(item.zone, item.zone),
        statuses=STATUSES,
        previews=previews(admin, item.text),
        channel_label=channel_label,
    )


async def cancel(request: web.Request) -> web.StreamResponse:
    item = await _get(request)
    done = await admin_of(request).broadcasts.cancel(item.id)
    code = "annulee" if done else "deja-partie"
    raise redirect(url(request, "broadcast", {"ok": code}, broadcast_id=item.id))
