"""Conversations kept in the store, for a deployment of several processes on PostgreSQL.

Behind a reverse proxy, a resident's next message may reach another process than the one
that asked "which street?"; the context (the street given, the question waiting for it)
must therefore live where every process reads it. Only conversations with something to
remember have a row; it is forgotten after `IDLE_AFTER`, purged every night, and erased
with the resident's other data (`/stop`, `crieur gdpr erase`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select

from bot.conversations import IDLE_AFTER, next_context
from bot.messages import Address
from bot.store import Store, insert_for
from bot.store.schema import conversations, of_address
from knowledge.places import Place
from knowledge.reply import Context, Reply


class StoredConversations:
    """The `ConversationMemory` of processes sharing one store."""

    def __init__(self, store: Store, idle_after: timedelta = IDLE_AFTER) -> None:
        self.store = store
        self._idle_after = idle_after

    async def context(self, address: Address, now: datetime) -> Context:
        async with self.store.connect() as connection:
            row = (
                await connection.execute(
                    select(conversations).where(of_address(conversations, address))
                )
            ).first()
        if row is None or now - row.seen_at > self._idle_after:
            return Context()
        place = Place(row.street, row.zone) if row.street is not None else None
        return Context(place=place, pending_question=row.pending_question)

    async def update(
        self, address: Address, context: Context, question: str, reply: Reply, now: datetime
    ) -> None:
        after = next_context(context, question, reply)
        if after == Context() and context == Context():
            return  # nothing to remember, nothing stored: most questions
        async with self.store.begin() as connection:
            if after == Context():
                await connection.execute(
                    delete(conversations).where(of_address(conversations, address))
                )
                return
            values = {
                "street": after.place.name if after.place else None,
                "zone": after.place.zone if after.place else None,
                "pending_question": after.pending_question,
                "seen_at": now,
            }
            statement = insert_for(connection, conversations).values(
                channel=address.channel, chat_id=address.chat_id, **values
            )
            await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[conversations.c.channel, conversations.c.chat_id],
                    set_=values,
                )
            )
