"""The `/t/<key>/…` addresses: each commune's own web application, found per request.

aiohttp mounts sub-applications only before the server starts; communes, though, are added,
replaced and removed while it runs. This resource sits at `/t` in the process's router and
hands each request to the application of the commune whose widget key follows `/t/`,
exactly as a mounted sub-application would be (its routes, its middlewares, `request.app`).
An unknown key matches nothing, so the request ends in the router's 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_urldispatcher import AbstractRoute, PrefixResource, UrlMappingMatchInfo
from yarl import URL

from channels.web.lazy_app import close, resolve_in, start_under

if TYPE_CHECKING:
    from aiohttp.web_request import Request

TENANTS_PREFIX = "/t"


class TenantRoutes(PrefixResource):
    """The communes' web applications by widget key, mounted and unmounted at run time."""

    def __init__(self, prefix: str = TENANTS_PREFIX) -> None:
        super().__init__(prefix)
        self._apps: dict[str, web.Application] = {}

    def prefix_of(self, key: str) -> str:
        """Where the commune with this widget key is served ("/t/<key>")."""
        return f"{self._prefix}/{key}"

    async def mount(self, key: str, app: web.Application) -> None:
        """Serve `app` (not started yet) under /t/<key>/; replaces what was there."""
        await start_under(self.prefix_of(key), app)
        previous = self._apps.get(key)
        self._apps[key] = app
        if previous is not None:
            await close(previous)

    async def unmount(self, key: str) -> None:
        """Stop serving the commune with this widget key."""
        app = self._apps.pop(key, None)
        if app is not None:
            await close(app)

    async def unmount_all(self) -> None:
        for key in list(self._apps):
            await self.unmount(key)

    def keys(self) -> list[str]:
        return sorted(self._apps)

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        path = request.rel_url.path_safe
        if not path.startswith(self._prefix2):
            return None, set()
        app = self._apps.get(path[len(self._prefix2) :].partition("/")[0])
        if app is None:
            return None, set()
        return await resolve_in(app, request)

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError("TenantRoutes has no URL of its own")

    def get_info(self) -> Any:
        return {"prefix": self._prefix, "keys": self.keys()}

    def __len__(self) -> int:
        return sum(len(app.router.routes()) for app in self._apps.values())

    def __iter__(self) -> Iterator[AbstractRoute]:
        for app in list(self._apps.values()):
            yield from app.router.routes()

    def __repr__(self) -> str:
        return f"<TenantRoutes {self._prefix} {self.keys()}>"
