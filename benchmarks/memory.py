"""Benchmark: peak resident memory of `crieur run` serving the example pack.

Run: .venv/bin/python -m benchmarks.memory
Starts the real server on a free loopback port, asks it 500 questions over HTTP, and prints
its peak RSS (VmHWM) and current RSS. The target is a peak of 60 MB or less.

The server is started twice on the same data directory: the first start creates what a
fresh installation creates once (the SQLite file, the Web Push VAPID key), the second is the
case that matters in production, a restart; both are printed, the restart last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bot.config import example_pack_path
from knowledge.pack import load_pack


def _status(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    pack = load_pack(example_pack_path())
    questions = [q for e in pack.faq for q in (e.question, *e.variants)]
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "crieur.toml"
        config.write_text("[web]\nport = 0\n", encoding="utf-8")
        env = {
            **os.environ,
            "CRIEUR_DATA_DIR": tmp,
            "CRIEUR_WEB_SESSION_RATE_PER_MINUTE": "100000",  # 500 questions from 20 sessions
            "CRIEUR_WEB_IP_RATE_PER_MINUTE": "1000000",
        }
        for label in ("first start, fresh data dir", "restart, same data dir"):
            if not _measure(label, config, env, questions):
                return 1
    return 0


def _measure(label: str, config: Path, env: dict[str, str], questions: list[str]) -> bool:
    """Start `crieur run`, ask it 500 questions, print its RSS; False if it did not start."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = process.stdout.readline()
            if "http://" in line:
                url = line.split()[-1]
        if not url:
            print(f"crieur run did not start ({label})")
            return False
        started_rss = _status(process.pid, "VmRSS")
        began = time.perf_counter()
        for number in range(500):
            body = json.dumps(
                {"session": f"s{number % 20}", "text": questions[number % len(questions)]}
            )
            request = urllib.request.Request(
                url + "/api/chat", body.encode(), {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        elapsed = time.perf_counter() - began
        print(
            f"crieur run (example pack, {label}): RSS after start {started_rss:.1f} MB, "
            f"peak {_status(process.pid, 'VmHWM'):.1f} MB after 500 questions "
            f"({500 / elapsed:.0f} requests/s, sequential)"
        )
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    return True


if __name__ == "__main__":
    sys.exit(main())
