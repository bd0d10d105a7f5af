"""Benchmark: two `crieur run` processes on one PostgreSQL: delivered rate against one process.

Run: .venv/bin/python -m benchmarks.scale_out [--recipients 20000] [--processes 1,2]
       [--rate 1000] [--timeout 120]
PostgreSQL is the CI's server (`CRIEUR_TEST_POSTGRES`, by default
postgresql://postgres@127.0.0.1:5432/test). For each process count, in a fresh database:
`--recipients` Telegram subscribers of topic `alertes` are inserted, the fake Bot API
(tests/fakes/telegram_api.py) listens on loopback in this process, that many `crieur run`
share the database (`[telegram] rate_per_second = --rate`, each), and
`crieur broadcast --topic alertes --yes --no-wait --urgent` publishes one notice. Printed per
run: seconds from the broadcast command to the first and to the last of the N messages the
fake received, delivered/s (end to end, and from first to last message), each process's share
(`crieur_outbox_sent_total` of its /metrics), which one polls Telegram, and exactly-once
(chats reached, duplicates). Then the ratio of the rates against one process.

Everything runs on the same machine: the fake API (this process, one core at most), the
crieur processes and PostgreSQL share its cores. Their CPU time over the delivery is printed
as cores used, so a ceiling set by the fake or by the machine shows as such.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from sqlalchemy import insert, select

from bot.store import Store
from bot.store.schema import subscribers, subscriptions
from tests.fakes.telegram_api import FakeTelegramAPI
from tests.postgres import create_database, drop_database
from tests.processes import start_crieur, telegram_deployment

INSERT_CHUNK = 5_000
TICKS = os.sysconf("SC_CLK_TCK")
SETTLE_SECONDS = 2.0  # after the last message, how long late duplicates are waited for


@dataclass
class Result:
    processes: int
    cli_seconds: float  # the broadcast command, spawn to exit (fan-out included)
    first_seconds: float  # broadcast spawn to the first message received
    all_seconds: float  # broadcast spawn to the N-th distinct chat reached
    received: int
    distinct: int
    shares: list[int]
    polling: list[object]

    def end_to_end(self, recipients: int) -> float:
        return recipients / self.all_seconds

    def delivery(self, recipients: int) -> float:
        return recipients / max(self.all_seconds - self.first_seconds, 1e-9)


async def _residents(url: str, count: int) -> None:
    store = await Store.open(url)
    now = datetime.now(UTC)
    async with store.begin() as connection:
        for start in range(0, count, INSERT_CHUNK):
            await connection.execute(insert(subscribers), [
                {"channel": "telegram", "chat_id": str(100_000 + n), "created_at": now,
                 "last_seen_at": now, "active": True}
                for n in range(start, min(count, start + INSERT_CHUNK))])  # fmt: skip
        ids = (await connection.execute(select(subscribers.c.id))).scalars().all()
        for start in range(0, len(ids), INSERT_CHUNK):
            await connection.execute(insert(subscriptions), [
                {"subscriber_id": i, "topic": "alertes", "zone": "", "created_at": now}
                for i in ids[start : start + INSERT_CHUNK]])  # fmt: skip
    await store.close()


async def _get(session: aiohttp.ClientSession, url: str) -> str:
    async with session.get(url) as response:
        return await response.text()


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process used so far; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def _postgres_cpu() -> float:
    """CPU seconds of every PostgreSQL process of this machine (server and backends)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        if "(postgres)" in text.split(" ", 2)[1]:
            total += _cpu_of(int(stat.parent.name))
    return total


def _machine_cpu() -> float:
    """CPU seconds every core of the machine spent busy (not idle nor waiting on I/O)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / TICKS


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _run(count: int, recipients: int, rate: int, allowed: float) -> Result | None:
    url = await asyncio.to_thread(create_database)
    try:
        began = time.perf_counter()
        await _residents(url, recipients)
        print(f"{count} process(es): {recipients} subscribers inserted in a fresh database "
              f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
        with tempfile.TemporaryDirectory() as tmp:
            return await _deliver(Path(tmp), url, count, recipients, rate, allowed)
    finally:
        await asyncio.to_thread(drop_database, url)


async def _deliver(
    tmp: Path, url: str, count: int, recipients: int, rate: int, allowed: float
) -> Result | None:
    async with FakeTelegramAPI() as api, aiohttp.ClientSession() as session:
        config, env = telegram_deployment(tmp, url, api.port, api.token, rate)
        processes = [await start_crieur(config, env) for _ in range(count)]
        try:
            await asyncio.sleep(1.0)  # past the first long polls and leader elections
            cpu_before = (
                _own_cpu(),
                sum(_cpu_of(p.pid) for p, _ in processes),
                _postgres_cpu(),
                _machine_cpu(),
            )
            began = time.perf_counter()
            broadcast = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "broadcast", "--config", str(config), "--topic",
                "alertes", "--yes", "--no-wait", "--urgent", "Exercice de sécurité civile.",
                stdout=asyncio.subprocess.DEVNULL, env=env,
            )  # fmt: skip
            first_task = asyncio.create_task(api.wait_for(lambda f: bool(f.sent), allowed))
            if await broadcast.wait() != 0:
                raise SystemExit("crieur broadcast failed")
            cli_seconds = time.perf_counter() - began
            try:
                await first_task
                first_seconds = time.perf_counter() - began
                await api.wait_for(lambda f: len(f.sent) >= recipients, allowed)
                while len({m.chat_id for m in api.sent}) < recipients:  # duplicates came first
                    await asyncio.sleep(0.2)
                    if time.perf_counter() - began > allowed:
                        raise TimeoutError
                all_seconds = time.perf_counter() - began
            except TimeoutError:
                print(f"  TIMEOUT after {allowed:.0f} s: {len(api.sent)} messages received")
                return None
            cpu_after = (
                _own_cpu(),
                sum(_cpu_of(p.pid) for p, _ in processes),
                _postgres_cpu(),
                _machine_cpu(),
            )
            errors = Counter(int(error.status) for error in api.errors)  # before the shutdown
            await asyncio.sleep(SETTLE_SECONDS)  # late duplicates, if any, arrive now
            health = [json.loads(await _get(session, u + "/healthz")) for _, u in processes]
            metrics = [await _get(session, u + "/metrics") for _, u in processes]
        finally:
            for process, _ in processes:
                process.send_signal(signal.SIGTERM)
            for process, _ in processes:
                async with asyncio.timeout(30):
                    await process.wait()
        per_chat = Counter(message.chat_id for message in api.sent)
        shares = []
        for text in metrics:
            found = re.search(r'crieur_outbox_sent_total\{channel="telegram"\} (\d+)', text)
            shares.append(int(found.group(1)) if found else -1)
        polling = [h.get("channels", {}).get("telegram", {}).get("polling") for h in health]
        wall = all_seconds
        names = ("fake Bot API (this process)", "crieur run", "PostgreSQL", "whole machine")
        result = Result(count, cli_seconds, first_seconds, all_seconds, len(api.sent),
                        len(per_chat), shares, polling)  # fmt: skip
        print(
            f"  broadcast command {cli_seconds:.2f} s; first message at {first_seconds:.2f} s, "
            f"all {recipients} at {all_seconds:.2f} s: "
            f"{result.end_to_end(recipients):.0f} delivered/s end to end, "
            f"{result.delivery(recipients):.0f}/s first to last message"
        )
        print(
            f"  per process sent {shares}, polling {polling}; received {len(api.sent)}, "
            f"chats reached {len(per_chat)}/{recipients}, "
            f"duplicates {sum(n - 1 for n in per_chat.values())}; "
            f"fake API errors before shutdown {dict(errors) or 'none'}"
        )
        used = [
            (after - before) / wall for before, after in zip(cpu_before, cpu_after, strict=True)
        ]
        others = used[3] - sum(used[:3])
        cores = ", ".join(f"{name} {value:.2f}" for name, value in zip(names, used, strict=True))
        print(
            f"  cores used over the delivery (of {os.cpu_count()}): {cores} "
            f"(other processes, the broadcast command included: {max(others, 0.0):.2f})"
        )
        if used[0] >= 0.9:
            print("  NOTE: the fake Bot API used a whole core: it, not crieur, set the ceiling")
        elif used[3] >= 0.9 * (os.cpu_count() or 1):
            print("  NOTE: the machine's cores were busy: the rate is CPU-bound, not crieur's own")
        return result


async def _main(counts: list[int], recipients: int, rate: int, allowed: float) -> int:
    results = []
    for count in counts:
        result = await _run(count, recipients, rate, allowed)
        if result is None:
            return 1
        results.append(result)
    base = results[0]
    for result in results[1:]:
        print(
            f"{result.processes} processes against {base.processes}: "
            f"{result.end_to_end(recipients) / base.end_to_end(recipients):.2f}× end to end, "
            f"{result.delivery(recipients) / base.delivery(recipients):.2f}× first to last message"
        )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--processes", default="1,2", help="process counts to run, in order")
    parser.add_argument("--rate", type=int, default=1000, help="[telegram] rate_per_second")
    parser.add_argument("--timeout", type=float, default=120.0, help="per run, in seconds")
    args = parser.parse_args()
    counts = [int(n) for n in args.processes.split(",")]
    began = time.perf_counter()
    status = asyncio.run(_main(counts, args.recipients, args.rate, args.timeout))
    print(
        f"total {time.perf_counter() - began:.0f} s; the fake Bot API, the crieur processes "
        f"and PostgreSQL share this machine's {os.cpu_count()} cores"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())
