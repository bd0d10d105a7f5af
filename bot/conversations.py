"""What Crieur remembers of each conversation: the resident's street, and a question left
waiting for it. In memory, bounded and short-lived; the store of a later version keeps the
street for subscribers."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from bot.messages import Address
from knowledge.reply import Context, Reply

MAX_CONVERSATIONS = 10_000
IDLE_AFTER = timedelta(hours=12)


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

    def context(self, address: Address, now: datetime) -> Context:
        state = self._states.get(address)
        if state is None or now - state.seen > self._idle_after:
            return Context()
        return state.context

    def update(self, address: Address, question: str, reply: Reply, now: datetime) -> None:
        """Remember the street the reply used, or the question waiting for a street."""
        context = self.context(address, now)
        if reply.awaiting_street:
            context = replace(context, pending_question=context.pending_question or question)
        else:
            context = Context(place=reply.place or context.place)
        self._states[address] = _State(context, now)
        self._states.move_to_end(address)
        while len(self._states) > self._limit:
            self._states.popitem(last=False)
