"""`crieur run` in a child process, as an operator starts it: for end-to-end tests and
benchmarks that need the real server (its own event loop, signals and shutdown)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Mapping
from pathlib import Path

STARTUP_SECONDS = 60


async def start_crieur(
    config: Path, env: Mapping[str, str]
) -> tuple[asyncio.subprocess.Process, str]:
    """Start `python -m bot run --config CONFIG`; return it and the URL it serves once it
    says so. Raises RuntimeError if it stops first."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL, env=dict(env),
    )  # fmt: skip
    assert process.stdout is not None
    async with asyncio.timeout(STARTUP_SECONDS):
        while True:
            line = (await process.stdout.readline()).decode()
            if "http://" in line:
                return process, line.strip().split()[-1]
            if not line:
                raise RuntimeError("crieur run stopped before serving")
