"""The few values the Matrix channel must keep across restarts, in the store's `state` table.

The sync token is what makes a restart safe: without it, the next start would either see the
room history again (and answer old questions) or miss what arrived while Crieur was down.
The device id keeps the same encryption identity (nio's key store is per device), and the
access token obtained by a password login avoids creating a new device at every start.
Keys are namespaced by the bot's user id, so pointing Crieur at another account starts clean.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from bot.store import Store, insert_for
from bot.store.schema import state

SINCE = "since"
DEVICE_ID = "device_id"
ACCESS_TOKEN = "access_token"


class ChannelState:
    """Small string values under `matrix:<user id>:<name>`."""

    def __init__(self, store: Store, user_id: str) -> None:
        self.store = store
        self.prefix = f"matrix:{user_id}:"

    async def get(self, name: str) -> str | None:
        async with self.store.connect() as connection:
            value = await connection.scalar(
                select(state.c.value).where(state.c.key == self.prefix + name)
            )
        return None if value is None else str(value)

    async def set(self, name: str, value: str) -> None:
        async with self.store.begin() as connection:
            statement = insert_for(connection, state).values(key=self.prefix + name, value=value)
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=["key"], set_={"value": statement.excluded.value}
                )
            )

    async def forget(self, name: str) -> None:
        async with self.store.begin() as connection:
            await connection.execute(delete(state).where(state.c.key == self.prefix + name))
