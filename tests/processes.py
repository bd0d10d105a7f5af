"""`crieur run` in a child process, as an operator starts it: for end-to-end tests and
benchmarks that need the real server (its own event loop, signals and shutdown)."""

from __future__ import annotations

import asyncio
import os
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


def telegram_deployment(
    data_dir: Path, database: str, api_port: int, token: str, rate_per_second: int
) -> tuple[Path, dict[str, str]]:
    """The config file and environment of a Crieur on `database` that delivers through a
    fake Telegram API on `api_port`, Web Push off: what the scale-out runs share."""
    config = data_dir / "crieur.toml"
    config.write_text(
        f'[web]\nport = 0\n[storage]\nurl = "{database}"\n[webpush]\nenabled = false\n'
        f'[telegram]\nbase_url = "http://127.0.0.1:{api_port}"\n'
        f"rate_per_second = {rate_per_second}\n",
        encoding="utf-8",
    )
    return config, {**os.environ, "CRIEUR_DATA_DIR": str(data_dir), "CRIEUR_TELEGRAM_TOKEN": token}
