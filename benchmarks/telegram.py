"""Benchmark: a broadcast to 10,000 Telegram chats through the fake Bot API at 30 messages/s.

Run: .venv/bin/python -m benchmarks.telegram [--chats 10000] [--rate 30]
The fake answers 429 beyond `rate` messages in any second, as Telegram's flood control does.
Crieur's outbox delivers through the real python-telegram-bot; printed: achieved rate (target
within 5 % of the limit), 429 answers provoked (target 0), duplicates (target 0).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert, select

from bot.delivery import DeliverySettings, DeliveryWorker
from bot.outbox import Outbox, OutgoingNotice
from bot.store import Store
from bot.store.schema import subscribers, subscriptions
from channels.telegram import TelegramChannel, TelegramOptions
from tests.fakes.telegram_api import FakeTelegramAPI


async def _subscribe(store: Store, chats: int) -> None:
    now = datetime.now(UTC)
    async with store.begin() as connection:
        await connection.execute(
            insert(subscribers),
            [{"channel": "telegram", "chat_id": str(100_000 + n), "created_at": now,
              "last_seen_at": now, "active": True} for n in range(chats)],
        )  # fmt: skip
        ids = (await connection.execute(select(subscribers.c.id))).scalars().all()
        await connection.execute(
            insert(subscriptions),
            [{"subscriber_id": i, "topic": "alertes", "zone": "", "created_at": now} for i in ids],
        )


async def run(chats: int, rate: int) -> None:
    async with FakeTelegramAPI() as api:
        api.limit_per_second(rate)
        with tempfile.TemporaryDirectory() as folder:
            store = await Store.open(f"sqlite:///{Path(folder) / 'crieur.db'}")
            await _subscribe(store, chats)
            outbox = Outbox(store)
            published = await outbox.publish(
                OutgoingNotice(
                    "annonce:bench",
                    "annonce",
                    ("alertes",),
                    None,
                    "Alerte météo : vents violents cette nuit.",
                    datetime.now(UTC),
                    urgent=True,
                )
            )
            channel = TelegramChannel(
                TelegramOptions(api.token, f"http://127.0.0.1:{api.port}", rate_per_second=rate)
            )

            async def nothing(inbound: object) -> object:
                raise AssertionError

            await channel.start(nothing)  # type: ignore[arg-type]
            async with asyncio.timeout(10):
                await channel.wait_ready()
            worker = DeliveryWorker(outbox, channel, DeliverySettings(batch=100))
            began = time.perf_counter()
            while not (await outbox.progress(published.notice_id)).done:
                await worker.deliver_batch()
            elapsed = time.perf_counter() - began
            await channel.stop()
            await store.close()
    per_chat = Counter(message.chat_id for message in api.sent)
    duplicates = sum(count - 1 for count in per_chat.values())
    achieved = len(api.sent) / elapsed
    print(
        f"telegram broadcast: {published.audience} recipients, {len(api.sent)} sent in "
        f"{elapsed:.1f} s = {achieved:.2f} msg/s for a limit of {rate}/s "
        f"({100 * achieved / rate:.1f} %); 429 answers provoked: {api.count_429}; "
        f"duplicates: {duplicates}; chats missed: {chats - len(per_chat)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--chats", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(run(args.chats, args.rate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
