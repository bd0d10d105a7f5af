"""A real Synapse for the Matrix tests: installed in its own virtual environment, run on
loopback for the session, with a bot, two residents and an admin registered.

Synapse is not a dependency of Crieur (it pins its own Twisted and friends), so it lives in
`.cache/synapse-venv` (ignored by git through `.cache/.gitignore`), installed from PyPI the
first time (about 30 s) and reused afterwards. A Synapse that cannot be installed or started
fails the tests: it never skips them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.dispatcher import Dispatcher
from bot.store import Store
from bot.subscriptions import Subscriptions
from channels.matrix import MatrixChannel, MatrixOptions
from knowledge.snapshot import Knowledge
from tests.matrix.resident import Resident

SYNAPSE_VERSION = "1.163.2"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache"
VENV = CACHE / "synapse-venv"
SERVER_NAME = "localhost"
BOT_NAME = "Crieur"
START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Account:
    """A user registered on the test homeserver."""

    user_id: str
    password: str
    access_token: str


@dataclass
class Synapse:
    """The running homeserver: its URL, its accounts, and its process (by id)."""

    python: Path
    directory: Path
    port: int
    secret: str
    process: subprocess.Popen[bytes] | None = None
    accounts: dict[str, Account] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bot(self) -> Account:
        return self.accounts["crieur"]

    @property
    def resident(self) -> Account:
        return self.accounts["resident"]

    @property
    def neighbour(self) -> Account:
        return self.accounts["voisin"]

    def start(self) -> None:
        log = (self.directory / "synapse.log").open("ab")
        self.process = subprocess.Popen(
            [str(self.python), "-m", "synapse.app.homeserver", "-c", "homeserver.yaml"],
            cwd=self.directory, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"Synapse stopped at start-up:\n{self.log_tail()}")
            with contextlib.suppress(OSError, ValueError):
                if self.request("GET", "/_matrix/client/versions").get("versions"):
                    return
            time.sleep(0.1)
        pytest.fail(f"Synapse did not answer within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """Stop the homeserver by its process id (SIGTERM, then SIGKILL)."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(5)

    def log_tail(self, lines: int = 40) -> str:
        path = self.directory / "synapse.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str = ""
    ) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read() or b"{}")
        return answer

    def register(self, localpart: str, display_name: str, admin: bool = False) -> Account:
        """Register through the shared-secret admin API (HMAC-SHA1 over a nonce)."""
        password = secrets.token_urlsafe(12)
        nonce = self.request("GET", "/_synapse/admin/v1/register")["nonce"]
        signed = "\x00".join((nonce, localpart, password, "admin" if admin else "notadmin"))
        mac = hmac.new(self.secret.encode(), signed.encode(), hashlib.sha1)
        answer = self.request(
            "POST",
            "/_synapse/admin/v1/register",
            {"nonce": nonce, "username": localpart, "password": password,
             "displayname": display_name, "admin": admin, "mac": mac.hexdigest()},
        )  # fmt: skip
        account = Account(answer["user_id"], password, answer["access_token"])
        self.accounts[localpart] = account
        return account

    def override_rate_limit(self, user_id: str, per_second: int, burst: int) -> None:
        """Give one user its own message rate limit (0/0 removes the limit)."""
        self.request(
            "POST",
            f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            {"messages_per_second": per_second, "burst_count": burst},
            token=self.accounts["admin"].access_token,
        )

    def remove_rate_limit_override(self, user_id: str) -> None:
        self.request(
            "DELETE",
            f"/_synapse/admin/v1/users/{user_id}/override_ratelimit",
            token=self.accounts["admin"].access_token,
        )


def synapse_python() -> Path:
    """The Python of `.cache/synapse-venv`, installing Synapse there if needed (locked, so
    that two test runs in one checkout do not install at once)."""
    CACHE.mkdir(exist_ok=True)
    ignore = CACHE / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# test caches (the Matrix tests' Synapse): never committed\n*\n")
    python = VENV / "bin" / "python"
    with (CACHE / "synapse-venv.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _installed_version(python) == SYNAPSE_VERSION:
            return python
        try:
            subprocess.run(
                [sys.executable, "-m", "venv", "--clear", str(VENV)],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet",
                 f"matrix-synapse=={SYNAPSE_VERSION}"],
                check=True, capture_output=True, timeout=900,
            )  # fmt: skip
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            output = getattr(exc, "stderr", b"") or b""
            pytest.fail(f"could not install Synapse {SYNAPSE_VERSION}: {exc}\n{output.decode()}")
        if _installed_version(python) != SYNAPSE_VERSION:
            pytest.fail(f"Synapse {SYNAPSE_VERSION} is not importable in {VENV}")
    return python


def _installed_version(python: Path) -> str | None:
    """The Synapse version the venv holds, from its metadata (importing Synapse takes
    seconds; a broken install shows at start-up, with Synapse's own log)."""
    if not python.exists():
        return None
    found = sorted(VENV.glob("lib/python*/site-packages/matrix_synapse-*.dist-info"))
    if len(found) != 1:
        return None
    return found[0].name.removeprefix("matrix_synapse-").removesuffix(".dist-info")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(directory: Path, port: int, secret: str) -> str:
    generous = {"per_second": 1000, "burst_count": 1000}
    config = {
        "server_name": SERVER_NAME,
        "pid_file": str(directory / "homeserver.pid"),
        "listeners": [  # the client API (and its admin API) only: no federation listener
            {"port": port, "bind_addresses": ["127.0.0.1"], "type": "http", "tls": False,
             "x_forwarded": False, "resources": [{"names": ["client"], "compress": False}]}
        ],
        "database": {"name": "sqlite3", "args": {"database": str(directory / "homeserver.db")}},
        "media_store_path": str(directory / "media"),
        "signing_key_path": str(directory / "signing.key"),
        "log_config": str(directory / "log.yaml"),
        "registration_shared_secret": secret,
        "enable_registration": False,
        "report_stats": False,
        "suppress_key_server_warning": True,
        "trusted_key_servers": [],
        "presence": {"enabled": False},
        "bcrypt_rounds": 4,  # fast logins: every test logs its clients in
        "rc_message": generous,
        "rc_registration": generous,
        "rc_login": {"address": generous, "account": generous, "failed_attempts": generous},
        "rc_joins": {"local": generous, "remote": generous},
        "rc_joins_per_room": generous,
        "rc_invites": {"per_room": generous, "per_user": generous, "per_issuer": generous},
        "rc_room_creation": generous,
        "rc_key_requests": generous,
    }  # fmt: skip
    return json.dumps(config, indent=2)  # JSON is YAML


_LOG_CONFIG = """\
version: 1
formatters:
  plain: {format: "%(asctime)s %(levelname)s %(name)s %(message)s"}
handlers:
  console: {class: logging.StreamHandler, formatter: plain}
root: {level: WARNING, handlers: [console]}
disable_existing_loggers: false
"""


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synapse]:
    python = synapse_python()
    directory = tmp_path_factory.mktemp("synapse")
    port, secret = _free_port(), secrets.token_hex(16)
    (directory / "homeserver.yaml").write_text(_config(directory, port, secret))
    (directory / "log.yaml").write_text(_LOG_CONFIG)
    # What `--generate-keys` writes (an ed25519 seed), without starting Python for it.
    seed = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    (directory / "signing.key").write_text(f"ed25519 a_test {seed}\n")
    server = Synapse(python, directory, port, secret)
    server.start()
    try:
        server.register("crieur", BOT_NAME)
        server.register("resident", "Léa Martin")
        server.register("voisin", "Paul Voisin")
        server.register("admin", "Admin", admin=True)
        yield server
    finally:
        server.stop()


@dataclass
class Crieur:
    """One running Matrix channel on the real core, and a resident to talk to it."""

    synapse: Synapse
    channel: MatrixChannel
    store: Store
    dispatcher: Dispatcher
    knowledge: Knowledge
    resident: Resident
    tmp_path: Path


def bot_options(synapse: Synapse, tmp_path: Path, **extra: Any) -> MatrixOptions:
    values: dict[str, Any] = {
        "homeserver": synapse.url,
        "user_id": synapse.bot.user_id,
        "password": synapse.bot.password,
        "store_path": tmp_path / "matrix-e2e",
        **extra,
    }
    return MatrixOptions(**values)


async def started(
    store: Store, options: MatrixOptions, dispatcher: Dispatcher, within: float = 20.0
) -> MatrixChannel:
    """A channel on the real core, started and synced once."""
    channel = MatrixChannel(store, options)
    await channel.start(dispatcher.handle)
    async with asyncio.timeout(within):
        await channel.wait_ready()
    return channel


@pytest.fixture
async def crieur(
    synapse: Synapse, example_knowledge: Knowledge, tmp_path: Path
) -> AsyncIterator[Crieur]:
    store = await Store.open(f"sqlite:///{tmp_path / 'crieur.db'}")
    dispatcher = Dispatcher(
        lambda: example_knowledge, subscriptions=Subscriptions(store), push_channels={"matrix"}
    )
    channel = await started(store, bot_options(synapse, tmp_path), dispatcher)
    resident = Resident(synapse.url, synapse.resident, tmp_path / "resident")
    await resident.login()
    crieur = Crieur(synapse, channel, store, dispatcher, example_knowledge, resident, tmp_path)
    try:
        yield crieur
    finally:
        await resident.close()
        await crieur.channel.stop()  # the test may have replaced it
        await store.close()
