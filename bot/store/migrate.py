"""Brings stores' schemas up to date in a child process:
`python -m bot.store.migrate URL [SCHEMA]`, or `python -m bot.store.migrate -` with a JSON
list of `[url, schema]` pairs on stdin (a process serving many communes migrates them all
in one child, paying Alembic's import once).

Alembic (and Mako) cost about 10 MB of memory once imported; a long-running `crieur run`
migrates through this short-lived child instead, and stays lean.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence

from bot.store.database import Store, StoreError


async def migrate_in_child(url: str, schema: str | None = None) -> None:
    """Run the migration in a child Python process; raise StoreError if it fails."""
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.store.migrate", url, *([schema] if schema else []),
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await child.communicate()
    if child.returncode != 0:
        detail = errors.decode(errors="replace").strip().splitlines()
        raise StoreError("migration impossible : " + (detail[-1] if detail else "erreur inconnue"))


async def migrate_many_in_child(targets: Sequence[tuple[str, str | None]]) -> None:
    """`migrate_in_child` for several stores at once."""
    if not targets:
        return
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.store.migrate", "-",
        stdin=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, errors = await child.communicate(json.dumps([list(t) for t in targets]).encode())
    if child.returncode != 0:
        detail = errors.decode(errors="replace").strip().splitlines()
        raise StoreError("migration impossible : " + (detail[-1] if detail else "erreur inconnue"))


async def _migrate(targets: Sequence[tuple[str, str | None]]) -> None:
    for url, schema in targets:
        store = await Store.open(url, migrate=True, schema=schema)
        await store.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["-"]:
        targets = [(str(url), schema) for url, schema in json.load(sys.stdin)]
    elif len(args) in (1, 2):
        targets = [(args[0], args[1] if len(args) == 2 else None)]
    else:
        print("usage : python -m bot.store.migrate URL [SCHEMA] | -", file=sys.stderr)
        return 2
    asyncio.run(_migrate(targets))
    return 0


if __name__ == "__main__":
    sys.exit(main())
