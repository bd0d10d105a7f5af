"""One process among several does a job that must run once (Telegram long polling).

On PostgreSQL, the leader holds a session-level advisory lock on a connection of its own;
if the process dies, PostgreSQL releases the lock and another process takes over. On SQLite
there is only one process, which always leads.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import text

from bot.store import Store


class Leadership:
    """`await leadership()` is True when this process holds (or just took) the role."""

    def __init__(self, store: Store, role: str) -> None:
        self.store = store
        self.key = int.from_bytes(hashlib.sha256(role.encode()).digest()[:8], "big", signed=True)
        self._connection: Any = None

    async def __call__(self) -> bool:
        if self.store.dialect != "postgresql":
            return True
        if self._connection is not None:
            return True
        connection = await self.store.engine.connect()
        held = await connection.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key})
        if held:
            self._connection = connection  # kept open: the lock lives as long as it does
            return True
        await connection.close()
        return False

    async def release(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
