"""The questions residents asked that the bot could not answer well, grouped, with actions.

Why each group shows what the bot answers *today*: once an agent has added a variant or an
entry, the group stays in the log (it is history) but is marked as now answered.
"""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.pack_editor import MAX_QUESTION, EditError
from bot.questions import LOW_CONFIDENCE
from channels.web.admin.core import admin_of, read_form, redirect, render, url
from channels.web.admin.faq_views import score
from knowledge.snapshot import ANSWER_THRESHOLD

PERIODS = {1: "24 dernières heures", 7: "7 derniers jours", 30: "30 derniers jours", 90: "90 jours"}
DEFAULT_DAYS = 7
MAX_GROUPS = 50


def _days(value: str | None) -> int:
    try:
        days = int(value or DEFAULT_DAYS)
    except ValueError:
        return DEFAULT_DAYS
    return days if days in PERIODS else DEFAULT_DAYS


async def _page(
    request: web.Request, days: int, error: str | None = None, status: int = 200
) -> web.Response:
    admin = admin_of(request)
    knowledge = admin.knowledge
    groups = (await admin.questions.weak_groups(admin.now() - timedelta(days=days)))[:MAX_GROUPS]
    rows = []
    for group in groups:
        matches = knowledge.matcher.search(group.text, limit=1)
        best = matches[0] if matches else None
        rows.append(
            {
                "group": group,
                "suggested": (best.entry.id if best else None) or group.entry,
                "answered_now": best is not None and best.score >= ANSWER_THRESHOLD,
                "best": best,
            }
        )
    entries = sorted(knowledge.pack.faq, key=lambda e: e.question.lower())
    return render(
        request,
        "questions.html",
        status=status,
        section="questions",
        title="Questions des habitants",
        rows=rows,
        days=days,
        periods=PERIODS,
        entries=entries,
        error=error,
        low=score(LOW_CONFIDENCE),
        score=score,
        max_question=MAX_QUESTION,
    )


async def questions(request: web.Request) -> web.StreamResponse:
    return await _page(request, _days(request.query.get("jours")))


async def add_variant(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    days = _days(form.get("jours"))
    entry_id = form.get("entree", "")
    try:
        admin_of(request).editor.add_variant(entry_id, form.get("question", ""))
    except EditError as exc:
        message = exc.message
        if exc.problems:
            message += " " + " ; ".join(exc.problems)
        return await _page(request, days, message, 404 if exc.kind == "missing" else 422)
    raise redirect(url(request, "questions", {"jours": days, "ok": "variante"}))
