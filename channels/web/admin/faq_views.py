"""FAQ pages: list and search, create, edit, delete, and "tester une question".

Why the test box uses the served snapshot: it shows exactly what residents get now, with
the scores the matcher gives and whether the best one reaches the answer threshold.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from bot.pack_editor import (
    MAX_ANSWER,
    MAX_QUESTION,
    Draft,
    EditError,
    clean_text,
    fingerprint,
)
from channels.web.admin.core import RefusedError, admin_of, read_form, redirect, render, url
from channels.web.admin.text_render import web_html
from knowledge.pack.models import FaqEntry
from knowledge.snapshot import ANSWER_THRESHOLD
from knowledge.text import words

MAX_SEARCH = 200
MAX_TEST = 1_000
TEST_RESULTS = 5
LABELS = {
    "id": "Identifiant",
    "question": "Question",
    "variants": "Autres formulations",
    "answer": "Réponse",
    "tags": "Mots-clés",
    "links": "Liens",
}
_STATUS = {"invalid": 422, "conflict": 409, "broken": 422, "io": 503, "missing": 404}


def score(value: float) -> str:
    """'0,73': scores as French writes decimals."""
    return f"{value:.2f}".replace(".", ",")


def _haystack(entry: FaqEntry) -> str:
    parts = [entry.id, entry.question, *entry.variants, *entry.tags, entry.answer]
    return " " + " ".join(words(" ".join(parts))) + " "


async def faq_list(request: web.Request) -> web.StreamResponse:
    admin = admin_of(request)
    query = request.query.get("q", "")[:MAX_SEARCH]
    problems: tuple[str, ...] = ()
    message = None
    try:
        entries = admin.editor.entries()
    except EditError as exc:  # faq.yaml broken by hand: list what is served, say why
        entries, problems, message = list(admin.knowledge.pack.faq), exc.problems, exc.message
    total = len(entries)
    terms = words(query)
    if terms:
        entries = [e for e in entries if all(f" {t}" in _haystack(e) for t in terms)]
    return render(
        request,
        "faq_liste.html",
        section="faq",
        title="Foire aux questions",
        entries=entries,
        total=total,
        query=query,
        problems=problems,
        message=message,
    )


def _form_page(
    request: web.Request,
    draft: Draft,
    entry_id: str | None,
    expected: str = "",
    status: int = 200,
    error: EditError | None = None,
) -> web.Response:
    creating = entry_id is None
    return render(
        request,
        "faq_formulaire.html",
        status=status,
        section="faq",
        title="Nouvelle entrée" if creating else f"Modifier l'entrée « {entry_id} »",
        creating=creating,
        entry_id=entry_id,
        draft=draft,
        expected=expected,
        errors=error.fields if error else {},
        message=error.message if error else None,
        problems=error.problems if error else (),
        labels=LABELS,
        preview=web_html(draft.answer) if draft.answer.strip() else None,
        max_question=MAX_QUESTION,
        max_answer=MAX_ANSWER,
    )


def _entry(request: web.Request) -> FaqEntry:
    entry_id = request.match_info["entry_id"]
    try:
        entry = admin_of(request).editor.get(entry_id)
    except EditError as exc:
        raise RefusedError(503, exc.message + " " + " ; ".join(exc.problems)) from exc
    if entry is None:
        raise RefusedError(404, "Cette entrée de la FAQ n'existe pas (ou plus).")
    return entry


async def new_form(request: web.Request) -> web.StreamResponse:
    question = clean_text(request.query.get("question", ""))[:MAX_QUESTION]
    return _form_page(request, Draft(question=question), None)


async def create(request: web.Request) -> web.StreamResponse:
    form = await read_form(request)
    draft = Draft.from_form(form)
    try:
        entry = admin_of(request).editor.create(draft)
    except EditError as exc:
        return _form_page(request, draft, None, status=_STATUS[exc.kind], error=exc)
    raise redirect(url(request, "faq_edit", {"ok": "creee"}, entry_id=entry.id))


async def edit_form(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    return _form_page(request, Draft.of(entry), entry.id, fingerprint(entry))


async def update(request: web.Request) -> web.StreamResponse:
    entry_id = request.match_info["entry_id"]
    form = await read_form(request)
    draft = Draft.from_form({**form, "id": entry_id})
    expected = form.get("empreinte") or None
    try:
        entry = admin_of(request).editor.update(entry_id, draft, expected)
    except EditError as exc:
        if exc.kind == "missing":
            raise RefusedError(404, "Cette entrée de la FAQ n'existe pas (ou plus).") from exc
        return _form_page(request, draft, entry_id, expected or "", _STATUS[exc.kind], exc)
    raise redirect(url(request, "faq_edit", {"ok": "enregistree"}, entry_id=entry.id))


async def delete_form(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    return render(
        request,
        "faq_suppression.html",
        section="faq",
        title=f"Supprimer l'entrée « {entry.id} »",
        entry=entry,
        expected=fingerprint(entry),
        message=None,
        problems=(),
    )


async def delete(request: web.Request) -> web.StreamResponse:
    entry = _entry(request)
    form = await read_form(request)
    try:
        admin_of(request).editor.delete(entry.id, form.get("empreinte") or None)
    except EditError as exc:
        return render(
            request,
            "faq_suppression.html",
            status=_STATUS[exc.kind],
            section="faq",
            title=f"Supprimer l'entrée « {entry.id} »",
            entry=entry,
            expected=fingerprint(entry),
            message=exc.message,
            problems=exc.problems,
        )
    raise redirect(url(request, "faq", {"ok": "supprimee"}))


def test_results(request: web.Request, question: str) -> dict[str, Any]:
    """What the bot does with `question` now: best entries, scores, the actual reply."""
    admin = admin_of(request)
    knowledge = admin.knowledge
    matches = knowledge.matcher.search(question, limit=TEST_RESULTS)
    reply = knowledge.answer(question, admin.now())
    return {
        "matches": matches,
        "reply": reply,
        "reply_html": web_html(reply.text),
        "would_answer": bool(matches) and matches[0].score >= ANSWER_THRESHOLD,
    }


async def test(request: web.Request) -> web.StreamResponse:
    raw = request.query.get("question", "")
    question = clean_text(raw[: MAX_TEST * 2])
    error = None
    results: dict[str, Any] = {}
    if len(question) > MAX_TEST:
        error = f"Question trop longue : {MAX_TEST} caractères au plus."
    elif question:
        results = test_results(request, question)
    return render(
        request,
        "faq_test.html",
        status=400 if error else 200,
        section="faq",
        title="Tester une question",
        question=question[:MAX_TEST],
        error=error,
        threshold=score(ANSWER_THRESHOLD),
        threshold_value=ANSWER_THRESHOLD,
        score=score,
        **results,
    )
