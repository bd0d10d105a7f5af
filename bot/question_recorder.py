"""Records residents' questions for the agents (unanswered ones, top questions, figures).

Writes are buffered and flushed in one statement every second or every 200 questions, so a
busy chat costs one database round trip per batch rather than one per question. The text is
stored for the agents' back-office and never written to the logs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any

from bot.store import Store
from bot.store.database import to_completion
from bot.store.schema import questions

log = logging.getLogger(__name__)
MAX_TEXT = 1_000
FLUSH_EVERY = 200
FLUSH_SECONDS = 1.0
MAX_PENDING = 10_000  # if the store is down, older rows are dropped rather than memory grown


def question_row(
    asked_at: datetime, channel: str, text: str, answered: bool, entry: str | None, score: float
) -> dict[str, Any]:
    """One row of the `questions` table, cut to the columns' sizes."""
    return {"asked_at": asked_at, "channel": channel[:32], "text": text[:MAX_TEXT],
            "answered": answered, "entry": entry[:120] if entry else None,
            "score": float(score)}  # fmt: skip


class QuestionRecorder:
    """Buffers question rows and writes them in batches."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[dict[str, Any]] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    def record(
        self,
        asked_at: datetime,
        channel: str,
        text: str,
        answered: bool,
        entry: str | None,
        score: float,
    ) -> None:
        """Queue one question (never blocks the answer)."""
        self._pending.append(question_row(asked_at, channel, text, answered, entry, score))
        if len(self._pending) > MAX_PENDING:
            del self._pending[: len(self._pending) - MAX_PENDING]
        if len(self._pending) >= FLUSH_EVERY:
            self._wake.set()

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="question-recorder")

    async def stop(self) -> None:
        """Write every question recorded, then stop.

        The batch being written is finished, not cancelled: a write cut by a cancellation
        would lose its rows, and on SQLite leave the database locked for a while.
        """
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            task, self._task = self._task, None
            await task
        await self.flush()

    async def flush(self) -> int:
        """Write what is buffered; returns the number of rows written."""
        rows, self._pending = self._pending, []
        if not rows:
            return 0
        return await to_completion(self._write(rows))

    async def _write(self, rows: list[dict[str, Any]]) -> int:
        try:
            async with self.store.begin() as connection:
                await connection.execute(questions.insert(), rows)
        except Exception:
            log.exception("questions log: %d rows could not be written, kept for later", len(rows))
            self._pending = rows + self._pending
            return 0
        return len(rows)

    async def _run(self) -> None:
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), FLUSH_SECONDS)
            self._wake.clear()
            await self.flush()
