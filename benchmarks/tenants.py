"""Benchmark: 50 communes of 200 FAQ entries each in one process: RSS, load time, answer p99.

Run: .venv/bin/python -m benchmarks.tenants [--communes 50] [--entries 200] [--questions 2000]
Generates one pack per commune (`benchmarks.answers.generated_pack`, a seed each) and one
`<commune>.toml` per commune in a `[tenants] dir`, then starts `crieur run` (SQLite stores,
rate limits lifted) and prints: the time from spawn to ready (the "http://" line) and the
communes /healthz lists, RSS after start and peak RSS (VmHWM), CPU while idle, then the
latency p50/p99 of `--questions` sequential `POST /t/<key>/api/chat` over one keep-alive
connection, each a typo'd question or variant of a random commune's own pack. The same
process with a single commune is measured first, for reference: (RSS with N - RSS with 1) /
(N - 1) is the cost of one more commune. Last, for comparison, the in-process answer latency
of one pack (`Knowledge.answer`, no HTTP). Each configuration is started twice: a first start
(fresh data folder: every commune's SQLite store is created and migrated), then a restart on
the same data folder.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

from benchmarks.answers import NOW, generated_pack, typo
from knowledge.pack import load_pack
from knowledge.snapshot import Knowledge

START_TIMEOUT = 300.0
IDLE_SECONDS = 3.0


def _status(pid: int, field: str) -> float:
    """A /proc/<pid>/status field in kB, as MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) the process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * fraction))]


def _communes(root: Path, count: int, entries: int) -> dict[str, list[str]]:
    """`count` packs and tenant files under `root`; each commune's widget key → questions."""
    rng = random.Random(11)
    (root / "communes").mkdir()
    questions: dict[str, list[str]] = {}
    for number in range(count):
        name = f"commune-{number:02d}"
        pack = root / "packs" / name
        pack.mkdir(parents=True)
        generated_pack(pack, entries, seed=1_000 + number)
        key = f"cle-{number:02d}"
        (root / "communes" / f"{name}.toml").write_text(
            f'[pack]\npath = "../packs/{name}"\n[web]\nwidget_key = "{key}"\n', encoding="utf-8"
        )
        faq = load_pack(pack).faq
        questions[key] = [typo(q, rng) for e in faq for q in (e.question, *e.variants)]
    return questions


def _config(root: Path, data_dir: Path, communes: str) -> Path:
    config = root / f"crieur-{communes}.toml"
    config.write_text(
        f'data_dir = "{data_dir}"\n[web]\nport = 0\n[webpush]\nenabled = false\n'
        f'[tenants]\ndir = "{communes}"\npoll_seconds = 3600\n',
        encoding="utf-8",
    )
    return config


def _start(config: Path) -> tuple[subprocess.Popen[str], str, float]:
    """`crieur run --config`: the process, its URL, and the seconds until it served."""
    env = {
        **os.environ,
        "CRIEUR_WEB_SESSION_RATE_PER_MINUTE": "100000",
        "CRIEUR_WEB_IP_RATE_PER_MINUTE": "1000000",
    }
    began = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    assert process.stdout is not None
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "http://" in line:
            return process, line.split()[-1], time.perf_counter() - began
        if not line:
            break
    process.kill()
    process.wait()
    raise SystemExit(f"crieur run did not start ({config.name})")


def _stop(process: subprocess.Popen[str]) -> float:
    """SIGTERM, and the seconds the process took to exit."""
    began = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    return time.perf_counter() - began


def _health(url: str) -> dict[str, dict[str, str]]:
    with urllib.request.urlopen(url + "/healthz", timeout=10) as response:
        health: dict[str, dict[str, str]] = json.loads(response.read())
    return health


async def _ask(
    url: str, questions: dict[str, list[str]], count: int, seed: int
) -> tuple[list[float], int]:
    """`count` sequential questions to random communes; latencies (s) and answers with an
    entry."""
    rng = random.Random(seed)
    keys = sorted(questions)
    latencies: list[float] = []
    matched = 0
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        for number in range(count):
            key = rng.choice(keys)
            body = {"session": f"bench{number % 200}", "text": rng.choice(questions[key])}
            began = time.perf_counter()
            async with session.post(f"{url}/t/{key}/api/chat", json=body) as response:
                payload = await response.read()
                if response.status != 200:
                    raise SystemExit(f"HTTP {response.status} from /t/{key}/api/chat: {payload!r}")
            latencies.append(time.perf_counter() - began)
            if json.loads(payload).get("entry"):
                matched += 1
    return latencies, matched


def _serve(
    label: str, config: Path, questions: dict[str, list[str]], count: int
) -> tuple[float, float]:
    """Start, check /healthz, ask `count` questions, stop; print and return RSS (after start,
    after the questions)."""
    process, url, ready = _start(config)
    try:
        health = _health(url)
        served, refused = health["tenants"], health.get("refused", {})
        rss_start = _status(process.pid, "VmRSS")
        peak_start = _status(process.pid, "VmHWM")
        print(
            f"{label}: ready in {ready:.2f} s after spawn, /healthz lists {len(served)} "
            f"communes ({len(refused)} refused); RSS after start {rss_start:.1f} MB, "
            f"peak {peak_start:.1f} MB"
        )
        if refused:
            print(f"  refused: {refused}")
        expected = set(questions)
        if set(served.values()) != expected:
            print(f"  WARNING: /healthz keys differ from the files' ({len(expected)} expected)")
        cpu = _cpu_seconds(process.pid)
        time.sleep(IDLE_SECONDS)
        idle = (_cpu_seconds(process.pid) - cpu) / IDLE_SECONDS
        print(f"  CPU while idle: {idle * 100:.1f} % of a core over {IDLE_SECONDS:.0f} s")
        asyncio.run(_ask(url, questions, 50, seed=1))  # warm-up, as a running server would be
        latencies, matched = asyncio.run(_ask(url, questions, count, seed=2))
        elapsed = sum(latencies)
        latencies.sort()
        rss_after = _status(process.pid, "VmRSS")
        print(
            f"  {count} sequential /t/<key>/api/chat (keep-alive, random communes): "
            f"{count / elapsed:.0f} requests/s, p50 {statistics.median(latencies) * 1000:.2f} ms, "
            f"p99 {_percentile(latencies, 0.99) * 1000:.2f} ms, "
            f"max {latencies[-1] * 1000:.2f} ms; {matched}/{count} answered with an entry"
        )
        print(
            f"  RSS after the questions {rss_after:.1f} MB, "
            f"peak {_status(process.pid, 'VmHWM'):.1f} MB"
        )
    finally:
        stopped = _stop(process)
    print(f"  SIGTERM: exited in {stopped:.2f} s with code {process.returncode}")
    return rss_start, rss_after


def _in_process(folder: Path, questions: list[str]) -> None:
    began = time.perf_counter()
    knowledge = Knowledge.load(folder)
    load_ms = (time.perf_counter() - began) * 1000
    for question in questions[:50]:
        knowledge.answer(question, NOW)
    timings = []
    for question in questions:
        began_ns = time.perf_counter_ns()
        knowledge.answer(question, NOW)
        timings.append((time.perf_counter_ns() - began_ns) / 1e6)
    timings.sort()
    print(
        f"in-process Knowledge.answer, one {len(knowledge.pack.faq)}-entry pack: load "
        f"{load_ms:.0f} ms, {len(timings)} questions, p50 {statistics.median(timings):.3f} ms, "
        f"p99 {_percentile(timings, 0.99):.3f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--communes", type=int, default=50)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--questions", type=int, default=2_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        began = time.perf_counter()
        questions = _communes(root, args.communes, args.entries)
        print(
            f"{args.communes} communes × {args.entries} entries generated in "
            f"{time.perf_counter() - began:.1f} s "
            f"({sum(len(q) for q in questions.values())} distinct typo'd questions)"
        )
        (root / "one").mkdir()
        first = sorted(questions)[0]
        (root / "one" / "commune-00.toml").write_text(
            (root / "communes" / "commune-00.toml").read_text(encoding="utf-8"), encoding="utf-8"
        )
        one = _config(root, root / "data-one", "one")
        many = _config(root, root / "data-many", "communes")

        rss1, _ = _serve("1 commune, first start", one, {first: questions[first]}, args.questions)
        rss1, _ = _serve("1 commune, restart", one, {first: questions[first]}, args.questions)
        rss_n, _ = _serve(f"{args.communes} communes, first start", many, questions, args.questions)
        rss_n, _ = _serve(f"{args.communes} communes, restart", many, questions, args.questions)
        if args.communes > 1:
            print(
                f"per commune (restart, RSS after start): ({rss_n:.1f} - {rss1:.1f}) / "
                f"{args.communes - 1} = {(rss_n - rss1) / (args.communes - 1):.2f} MB"
            )
        _in_process(root / "packs" / "commune-00", questions[first] * 5)
    print(json.dumps({"cpus": os.cpu_count()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
