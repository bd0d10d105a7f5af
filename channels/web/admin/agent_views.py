"""Managing agents' accounts (administrators only): list, create, delete, reset password."""

from __future__ import annotations

from aiohttp import web

from bot.agents import MIN_PASSWORD, ROLES, Agent, AgentError
from channels.web.admin.core import (
    RefusedError,
    admin_of,
    read_form,
    redirect,
    render,
    require_admin,
    url,
)

ROLE_LABELS = {"agent": "agent", "admin": "administrateur"}
MAX_INPUT = 2_048


async def _page(
    request: web.Request,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
    reset_error: tuple[int, str] | None = None,
) -> web.Response:
    admin = admin_of(request)
    return render(
        request,
        "agents.html",
        status=status,
        section="agents",
        title="Comptes des agents",
        accounts=await admin.agents.all(),
        errors=errors or {},
        values=values or {"identifiant": "", "role": "agent"},
        roles=ROLE_LABELS,
        min_password=MIN_PASSWORD,
        reset_error=reset_error,
    )


async def agents(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    return await _page(request)


async def create(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    form = await read_form(request)
    username = form.get("identifiant", "")[:200]
    role = form.get("role", "agent")
    password = form.get("mot_de_passe", "")[:MAX_INPUT]
    confirmation = form.get("confirmation", "")[:MAX_INPUT]
    errors: dict[str, str] = {}
    if role not in ROLES:
        errors["role"] = "choisissez agent ou administrateur"
    if password != confirmation:
        errors["confirmation"] = "les deux mots de passe ne sont pas identiques"
    if not errors:
        try:
            await admin_of(request).agents.create(username, password, role)
        except AgentError as exc:
            message = str(exc)
            field = "mot_de_passe" if "mot de passe" in message else "identifiant"
            errors[field] = message
    if errors:
        return await _page(request, errors, {"identifiant": username, "role": role}, 422)
    raise redirect(url(request, "agents", {"ok": "agent-cree"}))


async def _target(request: web.Request) -> Agent:
    found = await admin_of(request).agents.get(int(request.match_info["agent_id"]))
    if found is None:
        raise RefusedError(404, "Ce compte n'existe pas (ou plus).")
    return found


async def delete_form(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    target = await _target(request)
    return render(
        request,
        "agent_suppression.html",
        section="agents",
        title=f"Supprimer le compte « {target.username} »",
        target=target,
        error=None,
    )


async def delete(request: web.Request) -> web.StreamResponse:
    session = require_admin(request)
    target = await _target(request)
    try:
        await admin_of(request).agents.delete(target.id, session.agent)
    except AgentError as exc:
        return render(
            request,
            "agent_suppression.html",
            status=409,
            section="agents",
            title=f"Supprimer le compte « {target.username} »",
            target=target,
            error=str(exc),
        )
    raise redirect(url(request, "agents", {"ok": "agent-supprime"}))


async def reset_password(request: web.Request) -> web.StreamResponse:
    require_admin(request)
    target = await _target(request)
    form = await read_form(request)
    password = form.get("mot_de_passe", "")[:MAX_INPUT]
    try:
        await admin_of(request).agents.set_password(target.id, password)
    except AgentError as exc:
        return await _page(request, status=422, reset_error=(target.id, str(exc)))
    raise redirect(url(request, "agents", {"ok": "mot-de-passe"}))
