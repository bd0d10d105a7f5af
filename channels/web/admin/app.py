"""`create_admin_app`: the back-office as an aiohttp sub-application, mounted at /admin.

Why a sub-application: the composition root mounts it with one line
(`app.add_subapp("/admin", create_admin_app(services))`); its routes, middlewares, headers
and static files stay its own, and tests mount it in a bare application.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from pathlib import Path

from aiohttp import web

from bot.agents import Agents
from bot.broadcasts import Broadcasts
from bot.pack_editor import PackEditor
from bot.questions import QuestionLog
from channels.web.admin import (
    agent_views,
    auth_views,
    broadcast_views,
    dashboard_views,
    faq_views,
    question_views,
)
from channels.web.admin.core import ADMIN, Admin, make_env, when
from channels.web.admin.security import MAX_BODY, authenticate, guard, secure_headers
from channels.web.admin.services import AdminServices

STATIC = Path(str(files("channels.web.admin").joinpath("static")))
_ENTRY = r"{entry_id:[a-z0-9][a-z0-9_-]{0,79}}"
_NUMBER = r"{%s:[0-9]{1,18}}"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Routes:
    """One named resource per path, so the GET and POST of a page share its name."""

    def __init__(self, router: web.UrlDispatcher) -> None:
        self.router = router

    def page(
        self, path: str, name: str, get: Handler | None = None, post: Handler | None = None
    ) -> None:
        resource = self.router.add_resource(path, name=name)
        if get is not None:
            resource.add_route("GET", get)
        if post is not None:
            resource.add_route("POST", post)


def create_admin_app(services: AdminServices) -> web.Application:
    """The back-office; the lead mounts it with `app.add_subapp("/admin", …)`."""
    env = make_env()
    admin = Admin(
        services=services,
        env=env,
        agents=Agents(services.store, services.clock),
        questions=QuestionLog(services.store, services.clock),
        editor=PackEditor(services.pack_path, services.reload, services.clock),
        broadcasts=Broadcasts(services.outbox),
    )
    env.filters["date"] = lambda moment: when(moment, admin.tz)
    app = web.Application(client_max_size=MAX_BODY, middlewares=[guard, authenticate])
    app[ADMIN] = admin
    app.on_response_prepare.append(secure_headers)
    routes = _Routes(app.router)
    routes.page("/", "dashboard", get=dashboard_views.dashboard)
    routes.page("/connexion", "login", get=auth_views.login_form, post=auth_views.login)
    routes.page("/deconnexion", "logout", post=auth_views.logout)
    routes.page("/faq", "faq", get=faq_views.faq_list)
    routes.page("/faq/nouvelle", "faq_new", get=faq_views.new_form, post=faq_views.create)
    routes.page("/faq/tester", "faq_test", get=faq_views.test)
    entry = "/faq/entree/" + _ENTRY
    routes.page(entry, "faq_edit", get=faq_views.edit_form, post=faq_views.update)
    routes.page(
        entry + "/supprimer", "faq_delete", get=faq_views.delete_form, post=faq_views.delete
    )
    routes.page("/questions", "questions", get=question_views.questions)
    routes.page("/questions/variante", "add_variant", post=question_views.add_variant)
    routes.page("/annonces", "broadcasts", get=broadcast_views.broadcasts)
    routes.page("/annonces/apercu", "broadcast_preview", post=broadcast_views.preview)
    routes.page("/annonces/envoyer", "broadcast_send", post=broadcast_views.send)
    broadcast = "/annonces/" + _NUMBER % "broadcast_id"
    routes.page(broadcast, "broadcast", get=broadcast_views.detail)
    routes.page(broadcast + "/annuler", "broadcast_cancel", post=broadcast_views.cancel)
    routes.page("/agents", "agents", get=agent_views.agents, post=agent_views.create)
    agent = "/agents/" + _NUMBER % "agent_id"
    routes.page(
        agent + "/supprimer", "agent_delete", get=agent_views.delete_form, post=agent_views.delete
    )
    routes.page(agent + "/mot-de-passe", "agent_password", post=agent_views.reset_password)
    app.router.add_static("/static/", STATIC, name="static", follow_symlinks=False)
    return app
