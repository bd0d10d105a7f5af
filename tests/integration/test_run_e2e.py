"""End to end: `crieur run` as a real process on a free port, chatting over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from knowledge.snapshot import Knowledge


def _post(url: str, body: object) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_crieur_run_serves_the_chat(tmp_path: Path, example_knowledge: Knowledge) -> None:
    config = tmp_path / "crieur.toml"
    config.write_text('[web]\nhost = "127.0.0.1"\nport = 0\n', encoding="utf-8")
    env = {**os.environ, "CRIEUR_DATA_DIR": str(tmp_path / "data")}
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 30
        url = ""
        while time.monotonic() < deadline and not url:
            line = process.stdout.readline()
            if not line:
                break
            if "http://" in line:
                url = line.strip().split()[-1]
        assert url.startswith("http://127.0.0.1:"), process.stderr.read() if process.stderr else ""

        entry = example_knowledge.pack.faq[1]
        status, body = _post(url + "/api/chat", {"session": "e2e", "text": entry.question})
        assert status == 200 and body["entry"] == entry.id
        status, body = _post(url + "/api/chat", {"session": "e2e"})
        assert status == 400 and "text" in str(body["error"])
        with urllib.request.urlopen(url + "/", timeout=10) as response:
            assert example_knowledge.pack.commune.name in response.read().decode()
        zone = (
            example_knowledge.pack.collecte.zones[0].id if example_knowledge.pack.collecte else ""
        )
        with urllib.request.urlopen(f"{url}/readyz", timeout=10) as response:
            ready = json.loads(response.read())
        assert ready["store"] is True and ready["status"] == "ok"
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
            metrics = response.read().decode()
        assert 'crieur_messages_total{channel="web",outcome="answered"} 1' in metrics
        assert "crieur_answer_seconds_count" in metrics
        assert entry.question not in metrics  # never the resident's text
        with urllib.request.urlopen(f"{url}/calendrier/{zone}.ics", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/calendar")
            assert b"BEGIN:VEVENT" in response.read()
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
