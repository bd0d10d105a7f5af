"""Benchmark: the Matrix channel against a real Synapse on loopback.

Run: .venv/bin/python -m benchmarks.matrix [--messages 200] [--down 60] [--cut] [--encrypted]

The Synapse is the one the Matrix tests use (`tests/matrix/conftest.py`: installed once in
`.cache/synapse-venv`), started here in a temporary directory. The bot (the real
`MatrixChannel` on the core `Dispatcher` with the example pack and a temporary SQLite store)
reaches Synapse through a counting TCP proxy on loopback; the resident (a nio client) talks
to Synapse directly. Printed:

- the time from the resident sending a message in a direct room to the bot's answer showing
  in the resident's sync, over `--messages` messages one after the other (p50, p99);
- the bot's requests per minute while Synapse is stopped for `--down` seconds (target ≤ 10),
  counted by the proxy over the whole window (not extrapolated when `--down` is 60). The proxy
  answers `502 Bad Gateway` meanwhile, as nginx does; with `--cut` it closes the connection
  without answering (aiohttp then resends each GET once, so a round is two requests);
- how long the bot took to be connected again after Synapse restarted, and the first answer.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.config import example_pack_path
from bot.dispatcher import Dispatcher
from bot.store import Store
from knowledge.snapshot import Knowledge
from tests.matrix.conftest import (
    SYNAPSE_VERSION,
    CountingProxy,
    Outage,
    Synapse,
    bot_options,
    launch_synapse,
    started,
)
from tests.matrix.resident import Resident

TARGET_PER_MINUTE = 10.0


def _rounds(times: list[float], within: float = 0.25) -> list[float]:
    """The starts of bursts of requests (requests less than `within` s apart are one)."""
    starts = times[:1]
    for earlier, later in itertools.pairwise(times):
        if later - earlier > within:
            starts.append(later)
    return starts


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


async def _latencies(
    resident: Resident, room: str, questions: list[str], count: int
) -> list[float]:
    """Ask `count` questions one after the other; the seconds each answer took."""
    took: list[float] = []
    for question in itertools.islice(itertools.cycle(questions), count):
        began = time.perf_counter()
        await resident.ask(room, question)
        took.append(time.perf_counter() - began)
    return took


async def _measure(synapse: Synapse, folder: Path, args: argparse.Namespace) -> bool:
    knowledge = Knowledge.load(example_pack_path())
    questions = [entry.question for entry in knowledge.pack.faq]
    store = await Store.open(f"sqlite:///{folder / 'crieur.db'}")
    dispatcher = Dispatcher(lambda: knowledge)
    resident = Resident(synapse.url, synapse.resident, folder / "resident")
    outage = Outage(synapse)
    async with CountingProxy(synapse.port, bad_gateway=not args.cut) as proxy:
        options = bot_options(synapse, folder, homeserver=proxy.url)
        channel = await started(store, options, dispatcher)
        try:
            await resident.login()
            room = await resident.room([synapse.bot.user_id], encrypted=args.encrypted)
            await resident.ask(room, "bonjour")  # warm-up: keys, caches
            took = await _latencies(resident, room, questions, args.messages)
            answered = len(resident.received[room]) - 1
            cuts = statistics.quantiles(took, n=100, method="inclusive")
            kind = "encrypted" if args.encrypted else "unencrypted"
            print(
                f"answer latency, {args.messages} messages in a DM ({kind}): "
                f"p50 {_ms(statistics.median(took))}, p99 {_ms(cuts[98])}, "
                f"max {_ms(max(took))}, mean {_ms(statistics.fmean(took))} "
                f"({answered} answers for {args.messages} messages)"
            )

            await outage.stop()
            down_at = time.monotonic()
            await asyncio.sleep(args.down)
            seen = proxy.since(down_at)
            state = channel.health()["state"]
            per_minute = len(seen) / (args.down / 60)
            rounds = _rounds([at for at, _ in seen])
            offsets = ", ".join(f"{at - down_at:.1f}" for at in rounds)
            mode = "cut without an answer" if args.cut else "502 from the proxy"
            print(
                f"homeserver down {args.down:.0f} s ({mode}): {len(seen)} requests in "
                f"{len(rounds)} rounds = {per_minute:.1f} requests/min (target ≤ "
                f"{TARGET_PER_MINUTE:.0f}); rounds at +{offsets} s; state: {state}"
            )

            restarting = time.monotonic()
            await outage.restart()
            synapse_up = time.monotonic() - restarting
            async with asyncio.timeout(MAX_WAIT):
                await channel.wait_ready()
            reconnected = time.monotonic() - restarting
            began = time.perf_counter()
            reply = await resident.ask(room, "Comment faire un passeport ?")
            print(
                f"after restart: Synapse up in {synapse_up:.1f} s, bot connected "
                f"{reconnected:.1f} s after the restart began, next answer in "
                f"{_ms(time.perf_counter() - began)} ({reply.body[:40]!r}…)"
            )
        finally:
            await outage.restart()
            await resident.close()
            await channel.stop()
            await store.close()
    return answered == args.messages and per_minute <= TARGET_PER_MINUTE


MAX_WAIT = 90.0  # the bot's backoff tops out at 60 s


async def run(args: argparse.Namespace) -> bool:
    with tempfile.TemporaryDirectory(prefix="crieur-matrix-bench-") as name:
        folder = Path(name)
        began = time.monotonic()
        synapse = await asyncio.to_thread(launch_synapse, folder / "synapse")
        try:
            print(
                f"Synapse {SYNAPSE_VERSION} on {synapse.url} (ready in "
                f"{time.monotonic() - began:.1f} s); bot behind a counting proxy, example pack"
            )
            return await _measure(synapse, folder, args)
        finally:
            await asyncio.to_thread(synapse.stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--down", type=float, default=60.0, help="seconds Synapse is down")
    parser.add_argument("--cut", action="store_true", help="cut connections instead of 502")
    parser.add_argument("--encrypted", action="store_true", help="an encrypted DM")
    ok = asyncio.run(run(parser.parse_args()))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
