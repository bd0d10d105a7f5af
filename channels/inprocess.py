"""An in-process channel: pushes land in memory (or a file), for tests and benchmarks.

It is a real `Channel` for the outbox, with a configurable rate and failure injection, so
delivery can be checked end to end without a messaging service. With `journal` set, every
push is appended to that file as it happens (one line: the delivery key), which survives a
killed process: the benchmarks count deliveries and duplicates from it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path

from bot.channel import Capabilities, Push
from bot.messages import InboundHandler

Failure = Callable[[Push], Exception | None]


class InProcessChannel:
    """Records every push; `fail` may return an exception to raise for a given push."""

    def __init__(
        self,
        name: str = "inprocess",
        rate_per_second: float = 1_000.0,
        fail: Failure | None = None,
        journal: Path | None = None,
        concurrency: int = 1,
    ) -> None:
        self.name = name
        self.capabilities = Capabilities(
            can_push=True, rate_per_second=rate_per_second, concurrency=concurrency
        )
        self.pushes: list[Push] = []
        self.fail = fail
        self.handler: InboundHandler | None = None
        self.received = asyncio.Event()
        self._journal = (
            os.open(journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT) if journal else None
        )
        # What the "service" received, by delivery key: it answers `delivered` from this,
        # the way a messaging service with idempotency keys knows a send it already took.
        self._received: set[str] = set()
        if journal is not None and journal.exists():
            self._received = set(journal.read_text(encoding="utf-8").split())

    def health(self) -> dict[str, object]:
        return {"state": "ok", "pushed": len(self.pushes)}

    async def start(self, handler: InboundHandler) -> None:
        self.handler = handler

    async def stop(self) -> None:
        if self._journal is not None:
            os.close(self._journal)
            self._journal = None

    async def push(self, push: Push) -> None:
        if self.fail is not None:
            error = self.fail(push)
            if error is not None:
                raise error
        if self._journal is not None:
            os.write(self._journal, (push.key + "\n").encode())
        else:
            self.pushes.append(push)
        self._received.add(push.key)
        self.received.set()

    async def delivered(self, key: str) -> bool | None:
        """Whether a push with this delivery key was already received."""
        return key in self._received
