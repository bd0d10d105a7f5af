"""Back-office agents: argon2-hashed passwords, lock-out after repeated failures, sessions.

Why this shape:
- Passwords are hashed with argon2id at OWASP's frugal setting (19 MiB, 2 passes, one lane),
  in a worker thread, so a login costs neither the event loop nor much memory.
- Five wrong passwords lock a username for 15 minutes. Unknown usernames are counted the
  same way, in memory, so the answers never tell whether an account exists.
- A session is a random token kept only in the agent's cookie; the store holds its SHA-256
  (a stolen database opens no session) with the CSRF token of its forms. Sessions last
  8 hours after the last request (the expiry is pushed back at most every 5 minutes, so
  reading pages does not write to the store on every click).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update

from bot.store import Store
from bot.store.schema import agent_sessions, agents

ROLES = ("agent", "admin")
MIN_PASSWORD = 10
MAX_PASSWORD = 1_024  # longer inputs are refused before hashing
MAX_USERNAME = 80
MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=8)
SESSION_REFRESH = timedelta(minutes=5)
MAX_TOKEN = 128
MAX_GHOSTS = 10_000  # unknown usernames remembered for the lock-out, oldest forgotten first
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,79}$")


def utcnow() -> datetime:
    return datetime.now(UTC)


def default_hasher() -> PasswordHasher:
    """argon2id with OWASP's minimum recommended cost: m=19 MiB, t=2, p=1."""
    return PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)


class AgentError(ValueError):
    """An agent cannot be created or changed; the message says why, in French."""


class LoginError(Exception):
    """Wrong username or password, or too many attempts; never says which username exists."""

    def __init__(self, locked: bool) -> None:
        super().__init__("locked" if locked else "refused")
        self.locked = locked


@dataclass(frozen=True, slots=True)
class Agent:
    """One back-office account (never carries its password hash)."""

    id: int
    username: str
    role: str
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class Session:
    """A logged-in agent, with the CSRF token every form of the session must carry."""

    agent: Agent
    csrf: str
    expires_at: datetime


def normalise_username(username: str) -> str:
    return username.strip().lower()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_password(password: str) -> None:
    """Refuse passwords too short (or absurdly long) with a French message."""
    if len(password) < MIN_PASSWORD:
        raise AgentError(f"mot de passe trop court : {MIN_PASSWORD} caractères au moins")
    if len(password) > MAX_PASSWORD:
        raise AgentError(f"mot de passe trop long : {MAX_PASSWORD} caractères au plus")


def check_username(username: str) -> str:
    name = normalise_username(username)
    if not _USERNAME.match(name):
        raise AgentError(
            "identifiant invalide : de 2 à 80 caractères, lettres minuscules, chiffres, "
            "points, tirets, @ ou _, commençant par une lettre ou un chiffre"
        )
    return name


_COLUMNS = (
    agents.c.id,
    agents.c.username,
    agents.c.role,
    agents.c.created_at,
    agents.c.last_login_at,
    agents.c.locked_until,
)


def _agent(row: Any) -> Agent:
    return Agent(int(row[0]), row[1], row[2], row[3], row[4], row[5])


class Agents:
    """Accounts, authentication and sessions of the back-office, in the store."""

    def __init__(
        self,
        store: Store,
        clock: Callable[[], datetime] = utcnow,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.hasher = hasher or default_hasher()
        self._dummy_hash: str | None = None
        self._ghosts: dict[str, tuple[int, datetime | None]] = {}

    # ------------------------------------------------------------------ accounts

    async def create(self, username: str, password: str, role: str = "agent") -> Agent:
        name = check_username(username)
        check_password(password)
        if role not in ROLES:
            raise AgentError(f"rôle inconnu « {role} » (agent ou admin)")
        if await self.by_username(name) is not None:
            raise AgentError(f"l'identifiant « {name} » existe déjà")
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        async with self.store.begin() as connection:
            new_id = await connection.scalar(
                agents.insert()
                .values(
                    username=name,
                    password_hash=hashed,
                    role=role,
                    created_at=self.clock(),
                    failed_attempts=0,
                )
                .returning(agents.c.id)
            )
        created = await self.get(int(new_id or 0))
        assert created is not None
        return created

    async def get(self, agent_id: int) -> Agent | None:
        async with self.store.connect() as connection:
            row = (
                await connection.execute(select(*_COLUMNS).where(agents.c.id == agent_id))
            ).first()
        return _agent(row) if row is not None else None

    async def by_username(self, username: str) -> Agent | None:
        name = normalise_username(username)
        async with self.store.connect() as connection:
            row = (
                await connection.execute(select(*_COLUMNS).where(agents.c.username == name))
            ).first()
        return _agent(row) if row is not None else None

    async def all(self) -> list[Agent]:
        async with self.store.connect() as connection:
            rows = await connection.execute(select(*_COLUMNS).order_by(agents.c.username))
            return [_agent(row) for row in rows]

    async def delete(self, agent_id: int, by: Agent) -> None:
        """Delete an account (and its sessions); an admin cannot delete themselves."""
        target = await self.get(agent_id)
        if target is None:
            raise AgentError("cet agent n'existe pas (ou plus)")
        if target.id == by.id:
            raise AgentError("vous ne pouvez pas supprimer votre propre compte")
        async with self.store.begin() as connection:
            if target.is_admin:
                admins = await connection.scalar(
                    select(func.count()).select_from(agents).where(agents.c.role == "admin")
                )
                if int(admins or 0) <= 1:
                    raise AgentError("impossible de supprimer le dernier administrateur")
            await connection.execute(
                delete(agent_sessions).where(agent_sessions.c.agent_id == agent_id)
            )
            await connection.execute(delete(agents).where(agents.c.id == agent_id))

    async def set_password(self, agent_id: int, password: str) -> None:
        """New password: clears the lock-out and closes the agent's open sessions."""
        check_password(password)
        hashed = await asyncio.to_thread(self.hasher.hash, password)
        async with self.store.begin() as connection:
            result = await connection.execute(
                update(agents)
                .where(agents.c.id == agent_id)
                .values(password_hash=hashed, failed_attempts=0, locked_until=None)
            )
            if not result.rowcount:
                raise AgentError("cet agent n'existe pas (ou plus)")
            await connection.execute(
                delete(agent_sessions).where(agent_sessions.c.agent_id == agent_id)
            )

    # ------------------------------------------------------------- authentication

    async def authenticate(self, username: str, password: str) -> Agent:
        """The agent, or `LoginError` (wrong credentials, or locked) — the same for all."""
        now = self.clock()
        name = normalise_username(username)[: MAX_USERNAME + 1]
        async with self.store.connect() as connection:
            row = (
                await connection.execute(
                    select(
                        agents.c.id,
                        agents.c.password_hash,
                        agents.c.failed_attempts,
                        agents.c.locked_until,
                    ).where(agents.c.username == name)
                )
            ).first()
        if row is None:
            return await self._ghost_attempt(name, password, now)
        agent_id, stored, failures, locked_until = row
        if locked_until is not None and locked_until > now:
            raise LoginError(locked=True)
        if len(password) > MAX_PASSWORD or not await self._verify(stored, password):
            if locked_until is not None:  # the previous lock is over: count afresh
                failures = 0
            failures = int(failures) + 1
            locked = failures >= MAX_FAILURES
            async with self.store.begin() as connection:
                await connection.execute(
                    update(agents)
                    .where(agents.c.id == agent_id)
                    .values(
                        failed_attempts=0 if locked else failures,
                        locked_until=now + LOCK_DURATION if locked else None,
                    )
                )
            raise LoginError(locked=locked)
        values: dict[str, Any] = {"failed_attempts": 0, "locked_until": None, "last_login_at": now}
        if self.hasher.check_needs_rehash(stored):
            values["password_hash"] = await asyncio.to_thread(self.hasher.hash, password)
        async with self.store.begin() as connection:
            await connection.execute(update(agents).where(agents.c.id == agent_id).values(**values))
        agent = await self.get(int(agent_id))
        if agent is None:  # deleted in between
            raise LoginError(locked=False)
        return agent

    async def _verify(self, stored: str, password: str) -> bool:
        try:
            return await asyncio.to_thread(self.hasher.verify, stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    async def _ghost_attempt(self, name: str, password: str, now: datetime) -> Agent:
        """An unknown username: same work, same answers, same lock-out as a real one."""
        failures, locked_until = self._ghosts.get(name, (0, None))
        if locked_until is not None and locked_until > now:
            raise LoginError(locked=True)
        if self._dummy_hash is None:
            self._dummy_hash = await asyncio.to_thread(self.hasher.hash, secrets.token_hex(16))
        await self._verify(self._dummy_hash, password[:MAX_PASSWORD])
        if locked_until is not None:
            failures = 0
        failures += 1
        locked = failures >= MAX_FAILURES
        self._ghosts.pop(name, None)
        self._ghosts[name] = (0, now + LOCK_DURATION) if locked else (failures, None)
        while len(self._ghosts) > MAX_GHOSTS:
            self._ghosts.pop(next(iter(self._ghosts)))
        raise LoginError(locked=locked)

    # ------------------------------------------------------------------- sessions

    async def open_session(self, agent: Agent) -> tuple[str, Session]:
        """A new session: returns the cookie's token (kept nowhere else) and the session."""
        now = self.clock()
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + SESSION_LIFETIME
        async with self.store.begin() as connection:
            await connection.execute(
                delete(agent_sessions).where(agent_sessions.c.expires_at <= now)
            )
            await connection.execute(
                agent_sessions.insert().values(
                    token_hash=token_hash(token),
                    agent_id=agent.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=expires,
                )
            )
        return token, Session(agent, csrf, expires)

    async def session(self, token: str | None) -> Session | None:
        """The live session of a cookie's token, its expiry pushed back; None if expired."""
        if not token or len(token) > MAX_TOKEN:
            return None
        now = self.clock()
        hashed = token_hash(token)
        async with self.store.connect() as connection:
            row = (
                await connection.execute(
                    select(agent_sessions.c.csrf_token, agent_sessions.c.expires_at, *_COLUMNS)
                    .join(agents, agents.c.id == agent_sessions.c.agent_id)
                    .where(agent_sessions.c.token_hash == hashed)
                )
            ).first()
        if row is None:
            return None
        csrf, expires = row[0], row[1]
        if expires <= now:
            await self._drop(hashed)
            return None
        if expires - now < SESSION_LIFETIME - SESSION_REFRESH:
            expires = now + SESSION_LIFETIME
            async with self.store.begin() as connection:
                await connection.execute(
                    update(agent_sessions)
                    .where(agent_sessions.c.token_hash == hashed)
                    .values(expires_at=expires)
                )
        return Session(_agent(row[2:]), csrf, expires)

    async def close_session(self, token: str | None) -> None:
        if token and len(token) <= MAX_TOKEN:
            await self._drop(token_hash(token))

    async def _drop(self, hashed: str) -> None:
        async with self.store.begin() as connection:
            await connection.execute(
                delete(agent_sessions).where(agent_sessions.c.token_hash == hashed)
            )


__all__ = [
    "MIN_PASSWORD",
    "ROLES",
    "Agent",
    "AgentError",
    "Agents",
    "LoginError",
    "Session",
    "check_password",
    "check_username",
]
