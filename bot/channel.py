"""The contract between the outbox and a channel: what a push carries and how it can fail.

A channel adapter maps its SDK's errors to the four exceptions below at its boundary, so the
outbox decides retries, pauses and unsubscriptions without knowing any SDK.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.messages import Address, InboundHandler

if TYPE_CHECKING:
    from aiohttp import web


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a channel can do, and the delivery rate it documents."""

    can_push: bool = True
    max_text: int = 4096
    rate_per_second: float = 30.0  # default outbox rate limit for this channel
    concurrency: int = 1  # pushes in flight at once (for services with slow answers)
    # a session bound to one process (Matrix: its end-to-end keys are on local disk): with
    # several processes on PostgreSQL, only the one holding its lock runs the channel
    one_process: bool = False


@dataclass(frozen=True, slots=True)
class Push:
    """One notice for one recipient, as the outbox hands it to `Channel.push`.

    `key` identifies this delivery (notice key and recipient): a channel whose service
    accepts an idempotency key passes it on, so that a send retried after a crash is not
    shown twice.
    """

    key: str
    to: Address
    topic: str
    kind: str
    text: str
    urgent: bool = False


class DeliveryError(Exception):
    """A push failed; the subclass says what the outbox should do about it."""


class RateLimited(DeliveryError):
    """The service asks to slow down: retry after `retry_after` seconds."""

    def __init__(self, retry_after: float, detail: str = "") -> None:
        super().__init__(detail or f"limite de débit, réessayer dans {retry_after:.1f} s")
        self.retry_after = retry_after


class RecipientGone(DeliveryError):
    """The recipient blocked the bot or no longer exists: stop writing to them."""


class PushNotAllowed(DeliveryError):
    """The channel may not write first to this recipient now (e.g. no template configured)."""


class Rejected(DeliveryError):
    """The service refused this message for good (malformed, unknown chat type…): park it."""


class TransientError(DeliveryError):
    """A failure worth retrying later: network error, 5xx, garbage answer."""


class Channel(Protocol):
    """A messaging channel as the core sees it."""

    name: str
    capabilities: Capabilities

    def health(self) -> dict[str, object]:
        """The channel's state for the health endpoint (e.g. {"state": "connecté"})."""
        ...

    async def start(self, handler: InboundHandler) -> None: ...

    async def stop(self) -> None: ...

    async def push(self, push: Push) -> None:
        """Deliver one notice out of band; raise a `DeliveryError` subclass on failure."""
        ...


@runtime_checkable
class WebhookChannel(Protocol):
    """A channel that receives its updates on Crieur's web server."""

    def routes(self) -> list[web.RouteDef]:
        """The aiohttp routes to add (empty when the channel does not use a webhook)."""
        ...


@runtime_checkable
class IdempotentChannel(Protocol):
    """A channel whose service can tell whether a delivery key was already received."""

    async def delivered(self, key: str) -> bool | None:
        """True if received, False if not, None if the service cannot say."""
        ...
