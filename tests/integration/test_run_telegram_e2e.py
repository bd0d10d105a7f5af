"""`crieur run` as a real process with Telegram on the fake Bot API, and `crieur broadcast`
from another process: subscribe in Telegram, broadcast, receive it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp

from tests.fakes.telegram_api import FakeTelegramAPI
from tests.processes import start_crieur

CHAT = 8123


async def test_crieur_run_answers_on_telegram_and_delivers_a_broadcast(tmp_path: Path) -> None:
    async with FakeTelegramAPI() as api:
        config = tmp_path / "crieur.toml"
        config.write_text(
            f'[web]\nport = 0\n[storage]\nurl = "sqlite:///{tmp_path / "crieur.db"}"\n'
            f'[telegram]\nbase_url = "http://127.0.0.1:{api.port}"\n',
            encoding="utf-8",
        )
        env = {**os.environ, "CRIEUR_DATA_DIR": str(tmp_path), "CRIEUR_TELEGRAM_TOKEN": api.token}
        process, url = await start_crieur(config, env)
        try:
            await api.wait_for(lambda fake: fake.commands, timeout=20)
            api.inject_message(CHAT, "/abonner alertes")
            await api.wait_for(lambda fake: fake.sent_to(CHAT), timeout=10)
            assert "abonné" in api.sent_to(CHAT)[-1].plain_text
            async with aiohttp.ClientSession() as session, session.get(url + "/healthz") as r:
                health = json.loads(await r.text())
            assert health["channels"]["telegram"]["state"] == "connecté"

            broadcast = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "broadcast", "--config", str(config),
                "--topic", "alertes", "--yes", "--urgent", "Coupure d'eau demain matin.",
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
            )  # fmt: skip
            async with asyncio.timeout(60):
                out, _ = await broadcast.communicate()
            assert broadcast.returncode == 0 and "1/1" in out.decode()
            assert api.sent_to(CHAT)[-1].plain_text == "Coupure d'eau demain matin."
        finally:
            process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(20):
                assert await process.wait() == 0
