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
    server = launch_synapse(tmp_path_factory.mktemp("synapse"))
    try:
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


# ---------------------------------------------------------------- outages and a counting proxy
# Added for the lifecycle tests and `benchmarks.matrix`: stop and restart the session's
# Synapse, and see every request the bot makes through a proxy in front of it.

HTTP_METHODS = frozenset((b"GET", b"POST", b"PUT", b"DELETE", b"OPTIONS", b"HEAD", b"PATCH"))


def request_lines(chunk: bytes) -> list[str]:
    """The HTTP request lines ("METHOD /path") in what a client wrote (heads are written
    whole by aiohttp, and JSON bodies hold no CRLF, so a chunk never splits one)."""
    found = []
    for line in chunk.split(b"\r\n"):
        parts = line.split(b" ")
        if len(parts) == 3 and parts[0] in HTTP_METHODS and parts[2].startswith(b"HTTP/1."):
            found.append(f"{parts[0].decode()} {parts[1].decode(errors='replace')}")
    return found


class CountingProxy:
    """A TCP proxy on loopback in front of the homeserver, counting the HTTP requests it sees.

    While the homeserver is down, each connection's request is read, counted, and either
    answered `502 Bad Gateway` (what nginx or Caddy say in front of a stopped Synapse) or cut
    without an answer (`bad_gateway=False`: what a bare stopped server looks like once the
    socket was accepted). `requests` holds `(monotonic time, "METHOD /path")` in order.
    """

    def __init__(self, upstream_port: int, bad_gateway: bool = True) -> None:
        self.upstream_port = upstream_port
        self.bad_gateway = bad_gateway
        self.requests: list[tuple[float, str]] = []
        self.connections = 0
        self.refused = 0  # connections the homeserver was not there for
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def since(self, moment: float) -> list[tuple[float, str]]:
        """The requests seen at or after `moment` (a `time.monotonic()` value)."""
        return [request for request in self.requests if request[0] >= moment]

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> CountingProxy:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    def _count(self, chunk: bytes) -> None:
        now = time.monotonic()
        self.requests.extend((now, line) for line in request_lines(chunk))

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(writer)
        try:
            try:
                upstream = await asyncio.open_connection("127.0.0.1", self.upstream_port)
            except OSError:
                await self._down(reader, writer)
                return
            up_reader, up_writer = upstream
            self._writers.add(up_writer)
            try:
                await asyncio.gather(
                    self._pipe(reader, up_writer, count=True), self._pipe(up_reader, writer)
                )
            finally:
                self._writers.discard(up_writer)
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _down(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.refused += 1
        try:
            async with asyncio.timeout(10):
                head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError, TimeoutError):
            return
        self._count(head)
        if self.bad_gateway:
            body = b"<html><body>502 Bad Gateway</body></html>"
            writer.write(
                b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
            with contextlib.suppress(OSError):
                await writer.drain()

    async def _pipe(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, count: bool = False
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if count:
                    self._count(chunk)
                writer.write(chunk)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()


class Outage:
    """Stops the session's Synapse and starts it again (same config, same port), off the
    event loop so that the bot and a proxy keep running meanwhile."""

    def __init__(self, synapse: Synapse) -> None:
        self.synapse = synapse

    async def stop(self) -> None:
        """SIGTERM by process id, and wait until it exited."""
        await asyncio.to_thread(self.synapse.stop)

    async def restart(self) -> None:
        """Start again and wait until `/_matrix/client/versions` answers."""
        if self.synapse.process is None:
            await asyncio.to_thread(self.synapse.start)


@pytest.fixture
async def outage(synapse: Synapse) -> AsyncIterator[Outage]:
    """Stop and restart the session's Synapse; it is running again after the test, whatever
    happened (and the session fixture still stops the last process at the end)."""
    control = Outage(synapse)
    try:
        yield control
    finally:
        await control.restart()


def launch_synapse(directory: Path) -> Synapse:
    """A Synapse in `directory`, started, with the tests' four accounts (the `synapse`
    fixture, and `benchmarks.matrix`). Stop it with `.stop()`."""
    python = synapse_python()
    directory.mkdir(parents=True, exist_ok=True)
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
    except BaseException:
        server.stop()
        raise
    return server
