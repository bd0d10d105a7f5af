"""Benchmark: the outbox, from fan-out to delivery through a kill -9, and a month of notices.

Run: .venv/bin/python -m benchmarks.outbox [--backend sqlite|postgresql|both]
                                           [--subscribers 100000] [--rate 1000]
PostgreSQL is the CI's server (`CRIEUR_TEST_POSTGRES`, by default
postgresql://postgres@127.0.0.1:5432/test); a database `crieur_bench_…` is created and dropped.

For each backend, in a fresh store:

1. fan-out: N subscribers of topic `alertes` on channel `inprocess`, one broadcast
   published (one `deliveries` row each), timed;
2. delivery: a worker subprocess (`--worker`) delivers through an `InProcessChannel` that
   journals every push to a file; at about half of N (mid-batch) it is killed with SIGKILL,
   and once its lease expired a second worker finishes. Printed: the rate achieved before
   the kill (target >= 95 % of the limit), journal lines, distinct keys, duplicates and how
   many of them were in doubt at the kill (pushed, outcome not yet written), rows sent;
3. planning: the same subscribers spread over the example pack's zones, subscribed to
   collecte (with their zone), cantine and agenda; December 2026 planned with
   `plan_notices` and every notice's audience counted (target <= 10 s), once with the
   statistics the bulk load left and once after ANALYZE; then every notice published (all
   its delivery rows created), timed separately.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import case, func, insert, literal, select, text

from bot.config import example_pack_path
from bot.delivery import DeliverySettings, DeliveryWorker
from bot.outbox import Outbox, OutgoingNotice, utcnow
from bot.scheduler import outgoing
from bot.store import Store
from bot.store.schema import deliveries, subscribers, subscriptions
from channels.inprocess import InProcessChannel
from knowledge.notices import NoticeTimes, PlannedNotice, plan_notices
from knowledge.snapshot import Knowledge
from tests.postgres import create_database, drop_database

CHANNEL = "inprocess"
ALERT_KEY = "bench:alerte"
LEASE_SECONDS = 5.0
IDLE_EXIT_SECONDS = 2.0  # a worker exits once nothing is pending or sending for this long
POLL_SECONDS = 0.02  # how often the parent counts the journal's lines
STEADY_AFTER_SECONDS = 5.0  # the steady rate leaves out the limiter's first burst
MONTH = (date(2026, 12, 1), date(2026, 12, 31))
INSERT_CHUNK = 10_000
KILL_OFFSET = 111  # see kill_at


# --------------------------------------------------------------------------- stores


@contextlib.asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """The URL of an empty database of `backend`, dropped (or deleted) afterwards."""
    if backend == "sqlite":  # the file goes with `folder`
        yield f"sqlite:///{folder / 'bench.db'}"
        return
    url = await asyncio.to_thread(create_database)  # the tests' helper: CI's PostgreSQL
    try:
        yield url
    finally:
        await asyncio.to_thread(drop_database, url)


async def add_subscribers(store: Store, count: int) -> None:
    """`count` active subscribers on the in-process channel, each subscribed to `alertes`."""
    now = utcnow()
    rows = [
        {"channel": CHANNEL, "chat_id": f"c{number}", "created_at": now, "last_seen_at": now,
         "active": True}
        for number in range(count)
    ]  # fmt: skip
    async with store.begin() as connection:
        for start in range(0, count, INSERT_CHUNK):
            await connection.execute(insert(subscribers), rows[start : start + INSERT_CHUNK])
    await subscribe_all(store, "alertes", literal(""))


async def subscribe_all(store: Store, topic: str, zone: Any) -> None:
    """Subscribe every subscriber to `topic` in `zone` (a SQL expression), in one statement."""
    now = literal(utcnow(), type_=subscriptions.c.created_at.type)
    rows = select(subscribers.c.id, literal(topic), zone, now)
    async with store.begin() as connection:
        await connection.execute(
            insert(subscriptions).from_select(
                ["subscriber_id", "topic", "zone", "created_at"], rows
            )
        )


async def status_counts(store: Store) -> dict[str, int]:
    async with store.connect() as connection:
        rows = await connection.execute(
            select(deliveries.c.status, func.count()).group_by(deliveries.c.status)
        )
        return {status: int(count) for status, count in rows}


async def unsent_subscribers(store: Store, notice_id: int) -> set[int]:
    """Recipients of the notice whose row is not recorded as sent (pending or sending)."""
    async with store.connect() as connection:
        rows = await connection.execute(
            select(deliveries.c.subscriber_id)
            .where(deliveries.c.notice_id == notice_id)
            .where(deliveries.c.status != "sent")
        )
        return {int(row[0]) for row in rows}


# --------------------------------------------------------------------------- worker


async def run_worker(url: str, journal: Path, rate: float) -> int:
    """One delivery worker, until nothing is pending or sending for a while."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    store = await Store.open(url)
    channel = InProcessChannel(rate_per_second=rate, journal=journal)
    worker = DeliveryWorker(
        Outbox(store), channel, DeliverySettings(rate_per_second=rate, lease_seconds=LEASE_SECONDS)
    )
    stop = asyncio.Event()
    watcher = asyncio.create_task(stop_when_idle(store, stop))
    try:
        await worker.run(stop)
    finally:
        watcher.cancel()
        await channel.stop()
        await store.close()
    return 0


async def stop_when_idle(store: Store, stop: asyncio.Event) -> None:
    """Set `stop` once no row is pending or sending for a while (a cheap probe, so as not to
    slow the worker down)."""
    idle_since: float | None = None
    unfinished = (
        select(deliveries.c.id)
        .where(deliveries.c.channel == CHANNEL)
        .where(deliveries.c.status.in_(("pending", "sending")))
        .limit(1)
    )
    while not stop.is_set():
        async with store.connect() as connection:
            left = await connection.scalar(unfinished)
        if left is not None:
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since >= IDLE_EXIT_SECONDS:
            stop.set()
        await asyncio.sleep(0.5)


# --------------------------------------------------------------------------- parent side


class Journal:
    """Counts the lines of the channel's journal as the worker appends them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = 0
        self._offset = 0

    def poll(self) -> int:
        if self.path.exists():
            with self.path.open("rb") as handle:
                handle.seek(self._offset)
                chunk = handle.read()
            self._offset += len(chunk)
            self.lines += chunk.count(b"\n")
        return self.lines

    def keys(self) -> list[str]:
        return self.path.read_text(encoding="utf-8").splitlines() if self.path.exists() else []


@dataclass(slots=True)
class Run:
    """One worker's run as seen from its journal."""

    first_seen: float | None = None
    first_lines: int = 0
    steady_at: float | None = None
    steady_lines: int = 0
    last_growth: float | None = None
    ended: float = 0.0
    lines: int = 0

    def observe(self, now: float, before: int, lines: int) -> None:
        if lines > before:
            if self.first_seen is None:
                self.first_seen, self.first_lines = now, lines
            elif self.steady_at is None and now - self.first_seen >= STEADY_AFTER_SECONDS:
                self.steady_at, self.steady_lines = now, lines
            self.last_growth = now
        self.lines = lines

    def rate(self, start: float | None, lines_then: int) -> float:
        if start is None or self.ended <= start:
            return float("nan")
        return (self.lines - lines_then) / (self.ended - start)


class Workers:
    """Starts worker subprocesses; any still running is killed on exit."""

    def __init__(self, url: str, journal: Path, rate: float, log: IO[bytes]) -> None:
        self.arguments = ["--worker", "--url", url, "--journal", str(journal), "--rate", str(rate)]
        self.log = log
        self.running: list[asyncio.subprocess.Process] = []

    async def start(self) -> asyncio.subprocess.Process:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.outbox", *self.arguments,
            stdout=self.log, stderr=self.log,
        )  # fmt: skip
        self.running.append(process)
        return process

    async def kill(self, process: asyncio.subprocess.Process) -> None:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
            await process.wait()

    async def close(self) -> None:
        for process in self.running:
            await self.kill(process)


async def watch(
    process: asyncio.subprocess.Process, journal: Journal, until: int | None, patience: float
) -> Run:
    """Follow the journal until it holds `until` lines, the process exits, or `patience` s pass."""
    run = Run(lines=journal.lines)
    deadline = time.monotonic() + patience
    while process.returncode is None and time.monotonic() < deadline:
        before = journal.lines
        lines = journal.poll()
        run.observe(time.monotonic(), before, lines)
        if until is not None and lines >= until:
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), POLL_SECONDS)
    run.ended = time.monotonic()
    run.observe(run.ended, journal.lines, journal.poll())  # what came before an exit
    return run


# --------------------------------------------------------------------------- figures


def percent(part: float, whole: float) -> str:
    return f"{100 * part / whole:.1f} %" if whole else "n/a"


async def fan_out_and_deliver(url: str, folder: Path, count: int, rate: float) -> None:
    store = await Store.open(url)
    try:
        started = time.perf_counter()
        await add_subscribers(store, count)
        print(f"  {count} subscribers inserted in {time.perf_counter() - started:.2f} s")
        outbox = Outbox(store)
        started = time.perf_counter()
        published = await outbox.publish(
            OutgoingNotice(
                key=ALERT_KEY, kind="annonce", topics=("alertes",), zone=None,
                text="Alerte : coupure d'eau rue des Écoles de 9 h à 12 h.",
                not_before=utcnow() - timedelta(seconds=1), urgent=True,
            )
        )  # fmt: skip
        fan_out = time.perf_counter() - started
        print(
            f"  fan-out: 1 notice -> {published.audience} delivery rows in {fan_out:.2f} s "
            f"({published.audience / fan_out:,.0f} rows/s)"
        )
        await deliver_through_kill(store, published.notice_id, url, folder, count, rate)
    finally:
        await store.close()


async def deliver_through_kill(
    store: Store, notice_id: int, url: str, folder: Path, count: int, rate: float
) -> None:
    journal = Journal(folder / "journal.txt")
    log_path = folder / "workers.log"
    patience = count / rate * 3 + 120
    with log_path.open("wb") as log:
        workers = Workers(url, journal.path, rate, log)
        try:
            began = time.monotonic()
            first = await workers.start()
            before_kill = await watch(first, journal, kill_at(count), patience)
            killed = first.returncode is None
            await workers.kill(first)
            at_kill = journal.poll()
            before_kill.lines = at_kill
            in_doubt = doubtful(journal.keys(), await unsent_subscribers(store, notice_id))
            claimed = (await status_counts(store)).get("sending", 0)
            await asyncio.sleep(LEASE_SECONDS + 1)
            second = await workers.start()
            after_kill = await watch(second, journal, None, patience)
            finished = second.returncode is not None
            total = time.monotonic() - began
        finally:
            await workers.close()
    print_delivery(before_kill, after_kill, killed, at_kill, claimed, rate)
    print(f"    second worker {'exited' if finished else 'TIMED OUT and was killed'}")
    await print_outcome(store, journal, in_doubt, count, total)
    errors = log_path.read_text(encoding="utf-8", errors="replace").strip()
    if errors:
        print("  worker output (stderr/stdout):")
        for line in errors.splitlines()[-20:]:
            print(f"    | {line}")


def kill_at(count: int) -> int:
    """About half of `count` pushes, but not on a batch boundary.

    Half of 100,000 is a multiple of the batch size, and at a boundary the worker spends its
    time claiming the next batch: a kill there would almost always leave nothing in doubt.
    A few more pushes land between two flushes, where a kill leaves pushes unrecorded.
    """
    return min(count // 2 + KILL_OFFSET, max(count - 1, 1))


def doubtful(keys: list[str], unsent: set[int]) -> set[str]:
    """Keys already pushed whose row is not recorded as sent: they will be pushed again."""
    return {key for key in keys if int(key.rsplit("/", 1)[1]) in unsent}


def print_delivery(
    before: Run, after: Run, killed: bool, at_kill: int, claimed: int, rate: float
) -> None:
    achieved = before.rate(before.first_seen, before.first_lines)
    steady = before.rate(before.steady_at, before.steady_lines)
    print(
        f"  first worker: {at_kill} pushes, "
        + ("then kill -9" if killed else "it EXITED before the kill")
        + f"; rows claimed (sending) at the kill: {claimed}"
    )
    print(
        f"    rate from first push to kill: {achieved:.1f}/s = {percent(achieved, rate)} of "
        f"the {rate:g}/s limit (target >= 95 %); steady after {STEADY_AFTER_SECONDS:g} s: "
        f"{steady:.1f}/s = {percent(steady, rate)}"
    )
    second_lines = after.lines - at_kill
    if after.first_seen is not None and after.last_growth is not None:
        span = after.last_growth - after.first_seen
        second_rate = (after.lines - after.first_lines) / span if span else 0.0
        print(
            f"  second worker: {second_lines} pushes in {span:.1f} s "
            f"({second_rate:.1f}/s = {percent(second_rate, rate)} of the limit)"
        )
    else:
        print(f"  second worker: {second_lines} pushes")


async def print_outcome(
    store: Store, journal: Journal, in_doubt: set[str], count: int, total: float
) -> None:
    keys = journal.keys()
    pushes = Counter(keys)
    twice = {key for key, times in pushes.items() if times > 1}
    duplicates = len(keys) - len(pushes)
    counts = await status_counts(store)
    sent = counts.get("sent", 0)
    others = {status: n for status, n in counts.items() if status != "sent"}
    print(f"  journal: {len(keys)} lines, {len(pushes)} distinct keys, {duplicates} duplicates")
    print(
        f"    in doubt at the kill (pushed, outcome not yet written): {len(in_doubt)}; "
        f"duplicated keys among them: {len(twice & in_doubt)}, "
        f"duplicated keys NOT in doubt: {len(twice - in_doubt)}"
    )
    print(
        f"  deliveries: {sent} sent (expected {count}) "
        + ("OK" if sent == count else "MISMATCH")
        + f"; not sent: {sum(others.values())} {others or ''}".rstrip()
    )
    print(f"  delivery with the kill, first worker start to second's exit: {total:.1f} s")


async def plan_month(store: Store, count: int) -> None:
    knowledge = Knowledge.load(example_pack_path())
    assert knowledge.pack.collecte is not None, "the example pack has a collection calendar"
    zones = [zone.id for zone in knowledge.pack.collecte.zones]
    started = time.perf_counter()
    by_rest = case(dict(enumerate(zones)), value=subscribers.c.id % len(zones))
    await subscribe_all(store, "collecte", by_rest)
    await subscribe_all(store, "cantine", literal(""))
    await subscribe_all(store, "agenda", literal(""))
    print(
        f"  planning: {count} subscribers over zones {', '.join(zones)}, subscribed to "
        f"collecte (their zone), cantine, agenda ({time.perf_counter() - started:.2f} s)"
    )
    outbox = Outbox(store)
    await time_month(outbox, knowledge, "statistics as the bulk load left them")
    await analyze(store)
    planned = await time_month(outbox, knowledge, "after ANALYZE")
    started = time.perf_counter()
    rows = 0
    for notice in planned:
        rows += (await outbox.publish(outgoing(notice))).audience
    elapsed = time.perf_counter() - started
    print(
        f"    publishing them all: {rows} delivery rows in {elapsed:.2f} s "
        f"({rows / elapsed:,.0f} rows/s)"
    )


async def time_month(outbox: Outbox, knowledge: Knowledge, label: str) -> list[PlannedNotice]:
    """Plan the month and count every notice's audience, timed (the target is 10 s)."""
    started = time.perf_counter()
    planned = plan_notices(knowledge, *MONTH, NoticeTimes())
    planning = time.perf_counter() - started
    audience = 0
    for notice in planned:
        audience += await outbox.audience_size(notice.topics, notice.zone)
    elapsed = time.perf_counter() - started
    print(
        f"    {MONTH[0]:%B %Y} ({label}): {len(planned)} notices, total audience {audience}, "
        f"{elapsed:.2f} s (plan {planning:.3f} s + audiences {elapsed - planning:.2f} s; "
        "target <= 10 s)"
    )
    return planned


async def analyze(store: Store) -> None:
    """Refresh the planner's statistics, as autovacuum (PostgreSQL) would after a while."""
    async with store.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def bench(backend: str, count: int, rate: float) -> None:
    print(f"{backend}: {count} subscribers, limit {rate:g} pushes/s")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crieur-bench-") as tmp:
        async with fresh_database(backend, Path(tmp)) as url:
            await fan_out_and_deliver(url, Path(tmp), count, rate)
            store = await Store.open(url)
            try:
                await plan_month(store, count)
            finally:
                await store.close()
    print(f"  {backend} total: {time.perf_counter() - began:.1f} s")


def parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.outbox",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--rate", type=float, default=1000.0, help="pushes per second")
    parser.add_argument("--worker", action="store_true", help="run one delivery worker")
    parser.add_argument("--url", help="store URL (worker)")
    parser.add_argument("--journal", type=Path, help="push journal (worker)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(argv)
    if args.worker:
        if not args.url or args.journal is None:
            print("--worker needs --url and --journal", file=sys.stderr)
            return 2
        return asyncio.run(run_worker(args.url, args.journal, args.rate))
    backends = ("sqlite", "postgresql") if args.backend == "both" else (args.backend,)
    for backend in backends:
        asyncio.run(bench(backend, args.subscribers, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
