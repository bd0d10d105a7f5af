"""What Crieur remembers of each conversation: the resident's street, and a question left
waiting for it. `Conversations` keeps it in memory, bounded and short-lived, for one process;
`bot.shared_conversations` keeps it in the store, for several processes on PostgreSQL."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from bot.messages import Address
from knowledge.reply import Context, Reply

MAX_CONVERSATIONS = 10_000
IDLE_AFTER = timedelta(hours=12)


class ConversationMemory(Protocol):
    """Where the dispatcher reads and writes a conversation's context."""

    async def context(self, address: Address, now: datetime) -> Context: ...

    async def update(
        self, address: Address, context: Context, question: str, reply: Reply, now: datetime
    ) -> None: ...


def next_context(context: Context, question: str, reply: Reply) -> Context:
    """The context after `reply`: the street it used, or the question waiting for a street."""
    if reply.awaiting_street:
        return replace(context, pending_question=context.pending_question or question)
    return Context(place=reply.place or context.place)


@dataclass(frozen=True, slots=True)
class _State:
    context: Context
    seen: datetime


class Conversations:
    """Per-address context, least recently used first out, forgotten after idling."""

    def __init__(self, limit: int = MAX_CONVERSATIONS, idle_after: timedelta = IDLE_AFTER) -> None:
        self._states: OrderedDict[Address, _State] = OrderedDict()
        self._limit = limit
        self._idle_after = idle_after

    async def context(self, address: Address, now: datetime) -> Context:
        state = self._states.get(address)
        if state is None or now - state.seen > self._idle_after:
            return Context()
        return state.context

    async def update(
        self, address: Address, context: Context, question: str, reply: Reply, now: datetime
    ) -> None:
        """Remember the street the reply used, or the question waiting for a street."""
        self._states[address] = _State(next_context(context, question, reply), now)
        self._states.move_to_end(address)
        while len(self._states) > self._limit:
            self._states.popitem(last=False)
