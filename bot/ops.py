"""Operations endpoints: `/readyz` (store reachable, channels' states) and `/metrics`.

Metrics use Prometheus' text format, written by hand: a handful of counters do not need a
client library. No resident's text ever appears in them.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Sequence

from aiohttp import web
from sqlalchemy import func, select, text

from bot.delivery import DeliveryWorker
from bot.messages import Answer, Inbound, InboundHandler
from bot.store import Store
from bot.store.schema import deliveries

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)


class Metrics:
    """Counts messages, answers and answer latency, per channel."""

    def __init__(self) -> None:
        self.messages: Counter[tuple[str, bool]] = Counter()  # (channel, answered)
        self.latency_buckets = [0] * (len(BUCKETS) + 1)
        self.latency_sum = 0.0
        self.latency_count = 0

    def measured(self, handle: InboundHandler) -> InboundHandler:
        """`handle`, counted and timed."""

        async def handler(inbound: Inbound) -> Answer:
            began = time.perf_counter()
            answer = await handle(inbound)
            elapsed = time.perf_counter() - began
            self.messages[inbound.address.channel, answer.source is not None] += 1
            self.latency_buckets[bisect_left(BUCKETS, elapsed)] += 1
            self.latency_sum += elapsed
            self.latency_count += 1
            return answer

        return handler


def ops_routes(
    store: Callable[[], Store | None],
    health: Callable[[], dict[str, object]],
    metrics: Metrics,
    workers: Callable[[], Sequence[DeliveryWorker]],
) -> list[web.RouteDef]:
    """The `/readyz` and `/metrics` routes of one running Crieur."""

    async def readyz(request: web.Request) -> web.Response:
        current = store()
        reachable = False
        if current is not None:
            try:
                async with asyncio.timeout(2):
                    async with current.connect() as connection:
                        await connection.execute(text("SELECT 1"))
                reachable = True
            except Exception:  # whatever the store says, it is not ready
                reachable = False
        body = {"status": "ok" if reachable else "indisponible", "store": reachable,
                "channels": health()}  # fmt: skip
        return web.json_response(body, status=200 if reachable else 503)

    async def scrape(request: web.Request) -> web.Response:
        lines = [
            "# HELP crieur_messages_total Resident messages answered, by channel and outcome.",
            "# TYPE crieur_messages_total counter",
        ]
        for (channel, answered), count in sorted(metrics.messages.items()):
            outcome = "answered" if answered else "fallback"
            lines.append(
                f'crieur_messages_total{{channel="{channel}",outcome="{outcome}"}} {count}'
            )
        lines += ["# HELP crieur_answer_seconds Time to answer one message.",
                  "# TYPE crieur_answer_seconds histogram"]  # fmt: skip
        cumulative = 0
        for bound, count in zip((*BUCKETS, float("inf")), metrics.latency_buckets, strict=True):
            cumulative += count
            label = "+Inf" if bound == float("inf") else repr(bound)
            lines.append(f'crieur_answer_seconds_bucket{{le="{label}"}} {cumulative}')
        lines += [f"crieur_answer_seconds_sum {metrics.latency_sum:.6f}",
                  f"crieur_answer_seconds_count {metrics.latency_count}"]  # fmt: skip
        lines += ["# HELP crieur_outbox_sent_total Notices delivered by this process.",
                  "# TYPE crieur_outbox_sent_total counter"]  # fmt: skip
        for worker in workers():
            lines.append(
                f'crieur_outbox_sent_total{{channel="{worker.channel.name}"}} {worker.sent}'
            )
        lines += ["# HELP crieur_outbox_failed_total Deliveries parked or gone, this process.",
                  "# TYPE crieur_outbox_failed_total counter"]  # fmt: skip
        for worker in workers():
            lines.append(
                f'crieur_outbox_failed_total{{channel="{worker.channel.name}"}} {worker.failed}'
            )
        lines += ["# HELP crieur_outbox_pending Delivery rows waiting, by channel.",
                  "# TYPE crieur_outbox_pending gauge"]  # fmt: skip
        current = store()
        if current is not None:
            async with current.connect() as connection:
                rows = await connection.execute(
                    select(deliveries.c.channel, func.count())
                    .where(deliveries.c.status.in_(("pending", "sending")))
                    .group_by(deliveries.c.channel)
                )
                for channel, count in rows:
                    lines.append(f'crieur_outbox_pending{{channel="{channel}"}} {count}')
        return web.Response(text="\n".join(lines) + "\n", content_type="text/plain",
                            headers={"X-Content-Type-Options": "nosniff"})  # fmt: skip

    return [web.get("/readyz", readyz), web.get("/metrics", scrape)]
