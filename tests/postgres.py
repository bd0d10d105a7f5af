"""The CI's PostgreSQL (127.0.0.1:5432, trust auth, database `test`): one fresh database per test.

`CRIEUR_TEST_POSTGRES` points elsewhere. When the server does not answer, the local cluster
is started if this machine has one; a missing server fails the tests, it never skips them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy.engine import make_url

ADMIN_URL = os.environ.get("CRIEUR_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(statement: str) -> None:
    url = make_url(ADMIN_URL)
    connection = await asyncpg.connect(
        host=url.host, port=url.port or 5432, user=url.username, database=url.database,
        password=url.password, timeout=10,
    )  # fmt: skip
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _start_local_cluster() -> None:
    if shutil.which("pg_ctlcluster") is None or not Path("/etc/postgresql").is_dir():
        return
    for version in sorted(p.name for p in Path("/etc/postgresql").iterdir()):
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
            check=False, capture_output=True, timeout=60,
        )  # fmt: skip


def create_database() -> str:
    """A new, empty database; returns its URL."""
    name = f"crieur_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError):
        _start_local_cluster()
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    name = make_url(url).database
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
