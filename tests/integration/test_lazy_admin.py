"""The back-office is built at an agent's first visit: residents' traffic never pays for it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    from aiohttp.test_utils import TestClient, TestServer
    from bot.app import App
    from bot.config import load_settings

    async def main() -> None:
        settings = load_settings(env={"CRIEUR_DATA_DIR": sys.argv[1],
                                      "CRIEUR_WEBPUSH_ENABLED": "false"})
        app = App(settings)
        await app.start()
        client = TestClient(TestServer(app.web_app(), host="127.0.0.1"))
        await client.start_server()
        try:
            chat = await client.post("/api/chat", json={"session": "s", "text": "horaires"})
            assert chat.status == 200
            heavy = sorted({"jinja2", "argon2", "channels.web.admin"} & set(sys.modules))
            print("before", heavy)
            page = await client.get("/admin/connexion")
            print("login", page.status, "jinja2" in sys.modules)
            again = await client.get("/admin", allow_redirects=False)
            print("bare", again.status, again.headers.get("Location"))
        finally:
            await client.close()
            await app.stop()

    asyncio.run(main())
    """
)


def test_the_back_office_is_imported_only_when_an_agent_comes(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "before []" in lines
    assert "login 200 True" in lines
    assert "bare 303 /admin/connexion?suivant=/admin" in lines  # its routes, as mounted
