"""The questions log, read for the agents: what residents ask and what the bot could not answer.

Why: agents improve the FAQ from real questions. Unanswered and low-confidence questions are
grouped by similarity (rapidfuzz `token_set_ratio` on folded text without stop-words), so
twenty spellings of "la piscine est ouverte ?" are one line to act on. Grouping stays
frugal: only the most recent rows are read, identical folded texts are merged before any
comparison, and each text is compared with one representative per group. Daily counts are
summed per hour in SQL, so a month is at most 720 rows whatever the traffic.

`QuestionLog.record` writes one row at once (the dispatcher's `QuestionRecorder` batches the
same rows on the hot path).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any

from rapidfuzz import fuzz, process
from sqlalchemy import case, func, or_, select

from bot.question_recorder import question_row
from bot.store import Store
from bot.store.schema import questions
from knowledge.lexicon import builtin_lexicon
from knowledge.text import words

LOW_CONFIDENCE = 0.5  # answered, but with a score under this: worth an agent's look
SIMILARITY = 80  # token_set_ratio at or above which two questions are one group
SAME_WORDS = 70  # ratio at or above which the words that differ are the same words misspelt
MAX_GROUPED_ROWS = 2_000  # the most recent matching rows read for grouping
MAX_EXAMPLES = 3


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """One row of the log, as the grouping reads it."""

    asked_at: datetime
    text: str
    answered: bool
    entry: str | None
    score: float


@dataclass(slots=True)
class QuestionGroup:
    """Similar questions: how many, a few distinct wordings, when last asked."""

    text: str  # the most recent wording
    count: int = 0
    examples: list[str] = field(default_factory=list)
    last_asked: datetime | None = None
    unanswered: int = 0
    entries: Counter[str] = field(default_factory=Counter)  # entries that (weakly) answered

    @property
    def entry(self) -> str | None:
        """The entry most often given to these questions, if any."""
        return self.entries.most_common(1)[0][0] if self.entries else None


@dataclass(frozen=True, slots=True)
class DayCount:
    day: date
    total: int
    answered: int


@dataclass(frozen=True, slots=True)
class Totals:
    total: int
    answered: int

    @property
    def share(self) -> float:
        """Share of questions answered, 0..1 (0 when there were none)."""
        return self.answered / self.total if self.total else 0.0


def folded(text: str) -> str:
    """The words that carry the subject: "la piscine est ouverte ?" -> "piscine ouverte".

    Without the stop-words, two questions sharing only "la … est ouverte" are not one group.
    """
    found = words(text)
    stop = builtin_lexicon().stopwords
    return " ".join(w for w in found if w not in stop) or " ".join(found)


def same_subject(first: str, second: str) -> bool:
    """Whether the words one question has and the other lacks are only typos of each other.

    `token_set_ratio` alone scores "mairie ouverte dimanche" and "dechetterie ouverte
    dimanche" 82: the shared words hide that the subjects differ.
    """
    a, b = set(first.split()), set(second.split())
    only_a, only_b = a - b, b - a
    if not only_a or not only_b:  # one says more than the other, nothing contradicts
        return True
    return fuzz.ratio(" ".join(sorted(only_a)), " ".join(sorted(only_b))) >= SAME_WORDS


def group_questions(
    rows: Iterable[LoggedQuestion], threshold: int = SIMILARITY
) -> list[QuestionGroup]:
    """Groups of similar questions, largest first; `rows` newest first."""
    by_text: dict[str, QuestionGroup] = {}  # folded text -> its group
    groups: list[QuestionGroup] = []
    keys: list[str] = []  # one representative folded text per group, aligned with `groups`
    for row in rows:
        key = folded(row.text)
        if not key:
            continue
        group = by_text.get(key)
        if group is None:
            found = process.extract(
                key, keys, scorer=fuzz.token_set_ratio, score_cutoff=threshold, limit=5
            )
            index = next((i for _, _, i in found if same_subject(key, keys[i])), None)
            if index is not None:
                group = groups[index]
            else:
                group = QuestionGroup(row.text)
                groups.append(group)
                keys.append(key)
            by_text[key] = group
        group.count += 1
        if group.last_asked is None or row.asked_at > group.last_asked:
            group.last_asked = row.asked_at
        if len(group.examples) < MAX_EXAMPLES and row.text not in group.examples:
            group.examples.append(row.text)
        if not row.answered:
            group.unanswered += 1
        elif row.entry:
            group.entries[row.entry] += 1
    groups.sort(
        key=lambda g: (-g.count, -(g.last_asked or datetime.min.replace(tzinfo=UTC)).timestamp())
    )
    return groups


class QuestionLog:
    """Writes and reads the `questions` table."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utcnow) -> None:
        self.store = store
        self.clock = clock

    async def record(
        self,
        asked_at: datetime,
        channel: str,
        text: str,
        answered: bool,
        entry: str | None,
        score: float,
    ) -> None:
        """Log one resident question at once (the dispatcher batches them: QuestionRecorder)."""
        row = question_row(asked_at, channel, text, answered, entry, score)
        async with self.store.begin() as connection:
            await connection.execute(questions.insert().values(**row))

    async def _rows(self, since: datetime, only_weak: bool, low: float) -> list[LoggedQuestion]:
        query = (
            select(
                questions.c.asked_at,
                questions.c.text,
                questions.c.answered,
                questions.c.entry,
                questions.c.score,
            )
            .where(questions.c.asked_at >= since)
            .order_by(questions.c.asked_at.desc(), questions.c.id.desc())
            .limit(MAX_GROUPED_ROWS)
        )
        if only_weak:
            query = query.where(or_(questions.c.answered.is_(False), questions.c.score < low))
        async with self.store.connect() as connection:
            result = await connection.execute(query)
            return [LoggedQuestion(r[0], r[1], bool(r[2]), r[3], float(r[4])) for r in result]

    async def weak_groups(
        self, since: datetime, low_confidence: float = LOW_CONFIDENCE
    ) -> list[QuestionGroup]:
        """Unanswered and low-confidence questions since `since`, grouped by similarity."""
        return group_questions(await self._rows(since, True, low_confidence))

    async def top_questions(self, since: datetime, limit: int = 10) -> list[QuestionGroup]:
        """The most asked questions since `since` (similar wordings counted together)."""
        return group_questions(await self._rows(since, False, 0.0))[:limit]

    async def totals(self, since: datetime) -> Totals:
        async with self.store.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        func.count(),
                        func.coalesce(func.sum(_answered()), 0),
                    ).where(questions.c.asked_at >= since)
                )
            ).one()
        return Totals(int(row[0] or 0), int(row[1] or 0))

    async def daily(self, days: int, tz: tzinfo, today: date | None = None) -> list[DayCount]:
        """Questions and answered ones per local day, the last `days` days up to `today`."""
        now = self.clock()
        today = today or now.astimezone(tz).date()
        first = today - timedelta(days=days - 1)
        start = datetime.combine(first, datetime.min.time(), tz).astimezone(UTC)
        totals: dict[date, list[int]] = {first + timedelta(days=n): [0, 0] for n in range(days)}
        for hour, total, answered in await self._hourly(start):
            day = hour.astimezone(tz).date()
            if day in totals:
                totals[day][0] += total
                totals[day][1] += answered
        return [DayCount(day, counts[0], counts[1]) for day, counts in sorted(totals.items())]

    async def _hourly(self, start: datetime) -> Sequence[tuple[datetime, int, int]]:
        """(UTC hour, questions, answered) since `start`, summed by the database."""
        if self.store.dialect == "postgresql":
            bucket = func.to_char(questions.c.asked_at, "YYYY-MM-DD HH24")
        else:
            bucket = func.strftime("%Y-%m-%d %H", questions.c.asked_at)
        query = (
            select(bucket, func.count(), func.sum(_answered()))
            .where(questions.c.asked_at >= start)
            .group_by(bucket)
        )
        async with self.store.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [
            (
                datetime.strptime(str(r[0]), "%Y-%m-%d %H").replace(tzinfo=UTC),
                int(r[1]),
                int(r[2] or 0),
            )
            for r in rows
        ]


def _answered() -> Any:
    """1 for an answered question, else 0 (booleans do not sum alike everywhere)."""
    return case((questions.c.answered.is_(True), 1), else_=0)


__all__ = [
    "LOW_CONFIDENCE",
    "DayCount",
    "LoggedQuestion",
    "QuestionGroup",
    "QuestionLog",
    "Totals",
    "group_questions",
]
