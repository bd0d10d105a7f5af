"""Benchmark: `/api/chat` throughput and latency of `crieur run`, and the widget's size.

Run: .venv/bin/python -m benchmarks.web [--seconds 10] [--connections 8]
Starts the real server (example pack, SQLite) with its rate limits lifted, then a load
generator in another process on loopback keeps `--connections` keep-alive connections busy
with residents' questions. Prints requests/s and latency p50/p99 (targets: ≥ 1,000
requests/s, p99 ≤ 20 ms on 2 cores), then the gzipped size of `/widget.js` (target ≤ 30 KB).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import time

import aiohttp

from bot.config import example_pack_path
from knowledge.pack import load_pack


def _start_server(data_dir: str) -> tuple[subprocess.Popen[str], str]:
    env = {
        **os.environ,
        "CRIEUR_DATA_DIR": data_dir,
        "CRIEUR_WEB_PORT": "0",
        "CRIEUR_WEB_SESSION_RATE_PER_MINUTE": "100000",
        "CRIEUR_WEB_IP_RATE_PER_MINUTE": "1000000",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "http://" in line:
            return process, line.split()[-1]
        if not line:
            break
    process.kill()
    raise SystemExit("crieur run did not start")


async def _client(url: str, questions: list[str], seconds: float, number: int) -> list[float]:
    latencies: list[float] = []
    end = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        index = number
        while time.perf_counter() < end:
            body = {"session": f"bench{index % 500}", "text": questions[index % len(questions)]}
            began = time.perf_counter()
            async with session.post(url + "/api/chat", json=body) as response:
                await response.read()
                if response.status != 200:
                    raise SystemExit(f"HTTP {response.status}")
            latencies.append(time.perf_counter() - began)
            index += 17
    return latencies


async def _load(url: str, seconds: float, connections: int) -> tuple[list[float], float]:
    """Every request's latency, and the seconds the measured load lasted."""
    pack = load_pack(example_pack_path())
    questions = [q for entry in pack.faq for q in (entry.question, *entry.variants)]
    await _client(url, questions, 1.0, 0)  # warm-up
    began = time.perf_counter()
    runs = await asyncio.gather(*(_client(url, questions, seconds, n) for n in range(connections)))
    return [latency for run in runs for latency in run], time.perf_counter() - began


def _widget_size(url: str) -> str:
    import urllib.request

    try:
        with urllib.request.urlopen(url + "/widget.js", timeout=10) as response:
            body = response.read()
    except OSError as exc:
        return f"widget.js not served ({exc})"
    return (
        f"widget.js: {len(body) / 1024:.1f} KB, {len(gzip.compress(body, 9)) / 1024:.1f} KB gzipped"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data_dir:
        process, url = _start_server(data_dir)
        try:
            latencies, elapsed = asyncio.run(_load(url, args.seconds, args.connections))
            latencies.sort()
            p50 = latencies[len(latencies) // 2] * 1000
            p99 = latencies[int(len(latencies) * 0.99)] * 1000
            print(
                f"/api/chat: {len(latencies)} requests in {elapsed:.1f} s = "
                f"{len(latencies) / elapsed:.0f} requests/s with {args.connections} connections; "
                f"latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
            )
            print(_widget_size(url))
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=20)
    print(json.dumps({"cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
