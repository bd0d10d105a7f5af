"""The types that cross the boundary between channels and the core.

Every channel converts its native events into `Inbound` and renders `Answer`; nothing
channel-specific goes further in, nothing untyped comes back out.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Address:
    """Where a conversation lives: a channel name and an opaque, channel-specific chat id."""

    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Inbound:
    """One resident message, normalised by the adapter that received it."""

    address: Address
    text: str
    received_at: datetime
    choice: str | None = None  # payload of a tapped suggestion button, if any

    def __post_init__(self) -> None:
        if self.received_at.tzinfo is None:
            raise ValueError("Inbound.received_at must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Choice:
    """A suggestion the resident can tap; `payload` comes back as `Inbound.choice`."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class Answer:
    """The in-band reply to one inbound message.

    `source` is the knowledge entry id, or a kind such as "collecte", or None exactly
    when the answer is the fallback ("I don't know, ask the mairie").
    """

    text: str
    source: str | None
    score: float = 0.0
    choices: tuple[Choice, ...] = ()
    links: tuple[str, ...] = field(default=())


InboundHandler = Callable[[Inbound], Awaitable[Answer]]
"""What a channel calls for each resident message: the core's `Dispatcher.handle`."""
