"""Opens the store: an async SQLAlchemy engine on SQLite (default) or PostgreSQL, migrated.

The configuration speaks plain SQLAlchemy URLs (`sqlite:////var/lib/crieur/crieur.db`,
`postgresql://crieur@db/crieur`); the async drivers (aiosqlite, asyncpg) are chosen here.
Alembic brings the schema to its latest revision at every start, under a lock on
PostgreSQL so that several processes starting together migrate once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError

from bot.store.engine import AsyncConnection, AsyncEngine, create_async_engine
from bot.store.schema import SCHEMA_REVISION

_MIGRATION_LOCK = 0x6372_6965_7572  # "crieur": the PostgreSQL advisory lock taken to migrate
_ASYNC_DRIVERS = {"sqlite": "sqlite+aiosqlite", "postgresql": "postgresql+asyncpg"}
T = TypeVar("T")


class StoreError(Exception):
    """The store cannot be opened: a bad URL, an unreachable server, a failed migration."""


def async_url(url: str) -> str:
    """The URL with the async driver Crieur uses for its backend."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"URL de stockage invalide : {url!r}") from exc
    backend = parsed.get_backend_name()
    if backend not in _ASYNC_DRIVERS:
        raise StoreError(f"base non prise en charge : {backend} (sqlite ou postgresql)")
    return parsed.set(drivername=_ASYNC_DRIVERS[backend]).render_as_string(hide_password=False)


class Store:
    """The database every part of the core shares (one engine per process)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name

    @classmethod
    async def open(cls, url: str, migrate: bool = True, schema: str | None = None) -> Store:
        """Connect, and bring the schema up to date unless `migrate` is False.

        `schema` (PostgreSQL only) keeps every table in that schema, created if needed: one
        database then holds several communes' stores side by side, none seeing the others.
        """
        full = async_url(url)
        options: dict[str, Any] = {}
        if full.startswith("sqlite"):
            database = make_url(full).database
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 30}
        else:
            options.update(pool_size=5, max_overflow=5, pool_pre_ping=True)
            if schema:
                options["connect_args"] = {"server_settings": {"search_path": schema}}
        engine = create_async_engine(full, **options)
        if engine.dialect.name == "sqlite":
            event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(engine.sync_engine, "invalidate", _sqlite_rollback)
        store = cls(engine)
        try:
            if schema and store.dialect == "postgresql":
                async with engine.begin() as connection:
                    await connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
            if migrate:
                await store.migrate()
            else:
                async with engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except OSError as exc:
            await engine.dispose()
            raise StoreError(f"base injoignable : {exc}") from exc
        return store

    async def migrate(self) -> None:
        """Apply every Alembic revision not applied yet (Alembic is only imported then)."""
        if await self.revision() == SCHEMA_REVISION:
            return
        async with self.engine.begin() as connection:
            if self.dialect == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                )
            await connection.run_sync(_upgrade)

    async def revision(self) -> str | None:
        """The schema revision the database is at, or None before the first migration."""
        async with self.engine.connect() as connection:
            exists = await connection.run_sync(
                lambda sync: inspect(sync).has_table("alembic_version")
            )
            if not exists:
                return None
            found = await connection.scalar(text("SELECT version_num FROM alembic_version"))
        return str(found) if found is not None else None

    def connect(self) -> Any:
        """An async connection context (`async with store.connect() as c`), autocommit off."""
        return self.engine.connect()

    def begin(self) -> Any:
        """A transaction context (`async with store.begin() as c`), committed on exit."""
        return self.engine.begin()

    async def close(self) -> None:
        await self.engine.dispose()


async def to_completion(operation: Awaitable[T]) -> T:
    """Await a store operation that a cancellation of the caller must not cut short.

    An operation cancelled mid-statement loses its work, and SQLAlchemy, taking the
    cancellation for a lost connection, throws the connection away (on SQLite, rolled back
    first by `_sqlite_rollback`). Here the operation runs in a task of its own and always
    ends with its commit or rollback; a cancellation of the caller is raised once it has.
    """
    task = asyncio.ensure_future(operation)
    cancelled = False
    while not task.done():
        try:
            await asyncio.wait((task,))
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        failure = None if task.cancelled() else task.exception()
        raise asyncio.CancelledError from failure
    return task.result()


def insert_for(connection: AsyncConnection, table: Any) -> Any:
    """An INSERT with the dialect's ON CONFLICT support (SQLite and PostgreSQL spell it alike)."""
    # Only the dialect in use is imported: PostgreSQL's costs ~2 MB to a SQLite Crieur.
    if connection.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(table)


def _upgrade(connection: Connection) -> None:
    from alembic import command  # only needed at start
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", "bot.store:migrations")
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _sqlite_rollback(dbapi_connection: Any, _record: Any, _exception: BaseException | None) -> None:
    """Roll back a SQLite connection about to be closed as invalid (a task cancelled mid-query).

    Closing is not enough: a connection closed while a cursor still holds one of its
    statements (the cancelled query's cursor lives on in the cancellation's traceback until the
    garbage collector runs) stays open as a "zombie", transaction and write lock included.
    """
    try:
        dbapi_connection.rollback()  # queued after the interrupted statement, in its thread
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.cancel()  # raised again at the close that follows, which then closes at once
    except Exception:
        pass  # already closed, or closed by the garbage collector (no event loop to wait on)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the delivery worker
    cursor.execute("PRAGMA synchronous=NORMAL")  # durable against a killed process
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
