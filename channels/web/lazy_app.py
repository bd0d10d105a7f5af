"""Sub-applications mounted after the server started: built on a first request (the agents'
back-office), or added and removed while it runs (`tenant_routes`).

aiohttp mounts sub-applications with `add_subapp` only before the server starts. Most
processes answer residents all day and see an agent rarely; the back-office's templates
and password hashing (Jinja2, argon2) cost a few megabytes that only an agent's visit needs.
This resource sits at the back-office's prefix and builds, starts and mounts the application
the first time a request reaches that prefix; from then on it behaves as a sub-application
mounted with `add_subapp` (its routes, middlewares and `request.app`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from aiohttp import web
from aiohttp.web_exceptions import HTTPMethodNotAllowed
from aiohttp.web_urldispatcher import AbstractRoute, PrefixResource, UrlMappingMatchInfo
from yarl import URL

if TYPE_CHECKING:
    from aiohttp.web_request import Request


async def start_under(prefix: str, app: web.Application) -> None:
    """Give every route of `app` the `prefix`, freeze it and run its start-up signals, as
    `add_subapp` and the server's start would."""
    router = app.router
    for resource in list(router.resources()):
        router.unindex_resource(resource)
        resource.add_prefix(prefix)
        router.index_resource(resource)
    app.freeze()
    await app.startup()


async def resolve_in(
    app: web.Application, request: Request
) -> tuple[UrlMappingMatchInfo | None, set[str]]:
    """`request` resolved by `app`'s router, as a mounted sub-application's would be."""
    match_info = await app.router.resolve(request)
    match_info.add_app(app)
    methods: set[str] = set()
    if isinstance(match_info.http_exception, HTTPMethodNotAllowed):
        methods = set(match_info.http_exception.allowed_methods)
    return match_info, methods


async def close(app: web.Application) -> None:
    await app.shutdown()
    await app.cleanup()


class LazySubApp(PrefixResource):
    """The application `build` returns, mounted at `prefix` when first asked for."""

    def __init__(self, prefix: str, build: Callable[[], web.Application]) -> None:
        super().__init__(prefix)
        self._build = build
        self._app: web.Application | None = None
        self._building = asyncio.Lock()

    @property
    def built(self) -> bool:
        return self._app is not None

    async def _application(self) -> web.Application:
        async with self._building:
            if self._app is None:
                app = self._build()
                await start_under(self._prefix, app)
                self._app = app
            return self._app

    async def resolve(self, request: Request) -> tuple[UrlMappingMatchInfo | None, set[str]]:
        path = request.rel_url.path_safe
        if path != self._prefix and not path.startswith(self._prefix2):
            return None, set()
        return await resolve_in(self._app or await self._application(), request)

    async def close(self) -> None:
        """Shut the application down if it was ever built."""
        app, self._app = self._app, None
        if app is not None:
            await close(app)

    def url_for(self, *args: str, **kwargs: str) -> URL:
        raise RuntimeError("LazySubApp has no URL of its own")

    def get_info(self) -> Any:
        return {"prefix": self._prefix, "built": self.built}

    def __len__(self) -> int:
        return len(self._app.router.routes()) if self._app is not None else 0

    def __iter__(self) -> Iterator[AbstractRoute]:
        if self._app is not None:
            yield from self._app.router.routes()

    def __repr__(self) -> str:
        return f"<LazySubApp {self._prefix} built={self.built}>"
