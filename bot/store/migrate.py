"""Brings a store's schema up to date in a child process:
`python -m bot.store.migrate URL [SCHEMA]`.

Alembic (and Mako) cost about 10 MB of memory once imported; a long-running `crieur run`
migrates through this short-lived child instead, and stays lean.
"""

from __future__ import annotations

import asyncio
import sys

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


async def _migrate(url: str, schema: str | None) -> None:
    store = await Store.open(url, migrate=True, schema=schema)
    await store.close()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (1, 2):
        print("usage : python -m bot.store.migrate URL [SCHEMA]", file=sys.stderr)
        return 2
    asyncio.run(_migrate(args[0], args[1] if len(args) == 2 else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
