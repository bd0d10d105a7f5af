"""The store's asyncio engine works without loading SQLAlchemy's ORM, which Crieur does not
use, and code that wants the whole `sqlalchemy.ext.asyncio` package still gets it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys, tempfile
    from pathlib import Path

    from sqlalchemy import text

    from bot.store import Store

    async def use_store(folder):
        store = await Store.open(f"sqlite:///{folder}/crieur.db")
        try:
            async with store.engine.begin() as connection:
                return (await connection.execute(text("select 40 + 2"))).scalar_one()
        finally:
            await store.close()

    with tempfile.TemporaryDirectory() as folder:
        answer = asyncio.run(use_store(folder))
    orm_before = "sqlalchemy.orm" in sys.modules
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
    from bot.store.engine import create_async_engine as ours
    print(json.dumps({
        "answer": answer,
        "orm_before": orm_before,
        "session": AsyncSession.__name__,
        "orm_after": "sqlalchemy.orm" in sys.modules,
        "same_engine": create_async_engine is ours,
    }))
    """
)


def _run(script: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True, text=True, timeout=120, cwd=ROOT, check=True,
    )  # fmt: skip
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert isinstance(result, dict)
    return result


def test_the_store_runs_without_the_orm_and_the_package_stays_whole() -> None:
    result = _run(SCRIPT)
    assert result == {
        "answer": 42,
        "orm_before": False,
        "session": "AsyncSession",
        "orm_after": True,
        "same_engine": True,
    }
