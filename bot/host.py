"""One process serving several communes (`[tenants] dir`), each under /t/<widget key>/.

Every commune runs as its own `App` (pack, store, channels, outbox, scheduler, back-office);
the host only starts and stops them, routes each web request to the right one, and re-reads
the folder every `[tenants] poll_seconds` (or at once on SIGHUP): a new file starts a
commune, an edited file restarts it, a deleted file stops it, without restarting the process;
a pack edited on disk, the commune's or the intercommunality's it inherits, is loaded again.
A file or pack that turns out broken is refused and logged; the commune goes on as it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.app import App
from bot.channel_registry import editable_pack
from bot.config import ConfigError, Settings
from bot.store import StoreError
from bot.store.migrate import migrate_many_in_child
from bot.tenants import RefusedTenant, Tenant, read_tenants
from channels.web.tenant_routes import TenantRoutes
from knowledge.pack import PackError
from knowledge.snapshot import Knowledge

log = logging.getLogger(__name__)
PARALLEL_STARTS = 4  # communes started at once (each migrates its store in a child process)


@dataclass(slots=True)
class _Running:
    tenant: Tenant
    app: App
    pack_stamp: tuple[tuple[str, int, int], ...] = ()


def pack_stamp(app: App) -> tuple[tuple[str, int, int], ...]:
    """The files of a commune's pack and of the packs it inherits, with mtime and size."""
    pack = app.knowledge.pack
    found = []
    for folder in (pack.path, *pack.inherits):
        with contextlib.suppress(OSError):
            for path in sorted(folder.iterdir()):
                if path.is_file():
                    stat = path.stat()
                    found.append((str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(found)


class Host:
    """The communes of `[tenants] dir`, started, routed to, and kept in step with the folder."""

    def __init__(
        self, settings: Settings, app_factory: Callable[[Tenant], Awaitable[App]] | None = None
    ) -> None:
        self.settings = settings
        self.routes = TenantRoutes()
        self.running: dict[str, _Running] = {}
        self.refused: dict[str, RefusedTenant] = {}
        self._factory = app_factory or _app_for
        self._sync_lock = asyncio.Lock()

    def web_app(self) -> web.Application:
        """The process's application: the communes under /t/, and the host's own health."""
        app = web.Application(
            client_max_size=self.settings.web.max_body_bytes, middlewares=[_json_not_found]
        )
        app.router.register_resource(self.routes)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        return app

    async def sync(self) -> None:
        """Start, restart and stop communes so that they match the folder's files."""
        async with self._sync_lock:
            try:
                serving = {tid: run.tenant.key for tid, run in self.running.items()}
                tenants, refused = read_tenants(self.settings, serving=serving)
            except ConfigError as exc:
                log.error("tenants: %s", exc)
                return
            for problem in refused:
                if self.refused.get(problem.id) != problem:
                    log.error("tenants: commune %s refusée : %s", problem.id, problem.reason)
            self.refused = {problem.id: problem for problem in refused}
            wanted = {tenant.id: tenant for tenant in tenants}
            for tenant_id in list(self.running):
                current = self.running[tenant_id].tenant
                # a commune whose edited file is refused goes on as it was until it is fixed
                if tenant_id not in wanted and tenant_id not in self.refused:
                    await self._stop(tenant_id, "fichier supprimé")
                elif tenant_id in wanted and wanted[tenant_id] != current:
                    await self._stop(tenant_id, "fichier modifié")
            reloads = [self._reload_if_edited(running) for running in self.running.values()]
            slots = asyncio.Semaphore(PARALLEL_STARTS)

            async def start(tenant: Tenant) -> None:
                async with slots:
                    await self._start(tenant)

            new = [t for t in tenants if t.id not in self.running]
            await self._migrate(new)
            await asyncio.gather(*reloads, *(start(t) for t in new))

    async def _migrate(self, tenants: list[Tenant]) -> None:
        """Bring the new communes' stores up to date in one child process (Alembic is
        imported once, not once per commune); a failure is left to each commune's start."""
        targets = [(t.settings.storage_url(), t.settings.storage.schema_name) for t in tenants]
        try:
            await migrate_many_in_child(targets)
        except StoreError as exc:
            log.warning("tenants: migration groupée impossible (%s) ; commune par commune", exc)

    async def _reload_if_edited(self, running: _Running) -> None:
        """A pack edited on disk (the commune's or the intercommunality's it inherits) is
        loaded again; a broken edit is logged and the previous knowledge kept."""
        stamp = pack_stamp(running.app)
        if stamp == running.pack_stamp:
            return
        running.pack_stamp = stamp
        try:
            # loaded beside the event loop: the other communes keep answering meanwhile
            await asyncio.to_thread(running.app.reload)
        except PackError as exc:
            log.error("tenants: pack de %s non rechargé : %s", running.tenant.id, exc)
            return
        running.pack_stamp = pack_stamp(running.app)  # the inherited folders may have changed
        log.info("tenants: pack de %s rechargé", running.tenant.id)

    async def _start(self, tenant: Tenant) -> None:
        try:
            app = await self._factory(tenant)
            await app.start()
        except Exception as exc:  # a broken pack or store must not take the others down
            log.error("tenants: commune %s non démarrée : %s", tenant.id, exc)
            self.refused[tenant.id] = RefusedTenant(tenant.id, tenant.source, str(exc))
            return
        await self.routes.mount(tenant.key, app.web_app())
        self.running[tenant.id] = _Running(tenant, app, pack_stamp(app))
        log.info("tenants: commune %s servie sous /t/%s/", tenant.id, tenant.key)

    async def _stop(self, tenant_id: str, why: str) -> None:
        running = self.running.pop(tenant_id)
        await self.routes.unmount(running.tenant.key)
        await running.app.stop()
        log.info("tenants: commune %s arrêtée (%s)", tenant_id, why)

    async def stop(self) -> None:
        """Stop every commune, finishing their in-flight sends."""
        async with self._sync_lock:
            for tenant_id in list(self.running):
                await self._stop(tenant_id, "arrêt du serveur")

    async def run(self, on_ready: Callable[[str], None] | None = None) -> None:
        """Serve every commune until SIGINT or SIGTERM; re-read the folder as it changes."""
        from bot.app import serve

        await self.sync()
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        loop.add_signal_handler(signal.SIGHUP, wake.set)
        watcher = asyncio.create_task(self._watch(wake))
        try:
            await serve(self.web_app(), self.settings.web, on_ready)
        finally:
            loop.remove_signal_handler(signal.SIGHUP)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
            await self.stop()

    async def _watch(self, wake: asyncio.Event) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), self.settings.tenants.poll_seconds)
            wake.clear()
            await self.sync()

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status": "ok",
                "tenants": {tid: r.tenant.key for tid, r in sorted(self.running.items())},
                "refused": {tid: p.reason for tid, p in sorted(self.refused.items())},
            }
        )

    async def _readyz(self, request: web.Request) -> web.Response:
        ready = bool(self.running)
        return web.json_response(
            {"status": "ok" if ready else "indisponible", "tenants": len(self.running)},
            status=200 if ready else 503,
        )


async def _app_for(tenant: Tenant) -> App:
    """A commune's App, its pack read and indexed beside the event loop (a few hundred
    milliseconds for a large pack, during which the other communes keep answering)."""
    pack = editable_pack(tenant.settings)
    knowledge = await asyncio.to_thread(Knowledge.load, pack)
    return App(tenant.settings, tenant=tenant.id, knowledge=knowledge)


@web.middleware
async def _json_not_found(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """An unknown commune (or address) gets a JSON 404, like the rest of the API."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.match_info.apps and len(request.match_info.apps) > 1:
            raise  # a commune's own 404, already in its words
        return web.json_response({"error": "adresse ou commune inconnue"}, status=404)
