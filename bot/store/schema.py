"""The store's tables, in SQLAlchemy Core: subscribers, consents, notices, the outbox, broadcasts.

Core rather than the ORM: every hot path (fan-out to 100,000 rows, claiming a batch of
deliveries) is one set-based statement, and rows stay plain tuples. Times are stored in UTC
and always come back timezone-aware, on SQLite as on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    from sqlalchemy.sql.elements import ColumnElement

    from bot.messages import Address

SCHEMA_REVISION = "0004"  # the latest Alembic revision in migrations/versions (a test checks it)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# SQLite only auto-increments an INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit key.
Key = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as naive UTC (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]


subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("channel", String(32), nullable=False),
    Column("chat_id", String(255), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
    UniqueConstraint("channel", "chat_id"),
)

subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        Key,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("topic", String(40), nullable=False),
    Column("zone", String(64), nullable=False, default=""),  # "" = every zone
    Column("street", String(200), nullable=True),  # as the resident named it, for display
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("subscriber_id", "topic", "zone"),
    Index(None, "topic", "zone"),
)

consents = Table(
    "consents",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column(
        "subscriber_id",
        Key,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("at", UTCDateTime(), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("action", String(16), nullable=False),  # "subscribe" | "unsubscribe"
    Column("topic", String(40), nullable=False),
    Column("zone", String(64), nullable=False, default=""),
    Column("words", Text, nullable=False),  # what the resident typed or tapped
)

notices = Table(
    "notices",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("topics", String(400), nullable=False),  # space-separated topic names
    Column("zone", String(64), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("not_before", UTCDateTime(), nullable=False),
    Column("not_after", UTCDateTime(), nullable=True),
    Column("audience", Integer, nullable=False, default=0),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("notice_id", Key, ForeignKey("notices.id", ondelete="CASCADE"), nullable=False),
    Column(
        "subscriber_id",
        Key,
        ForeignKey("subscribers.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("channel", String(32), nullable=False),
    Column("chat_id", String(255), nullable=False),
    # pending -> sending -> sent | failed | gone | expired
    Column("status", String(16), nullable=False, default="pending"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=True),
    Column("claimed_by", String(64), nullable=True),
    Column("sent_at", UTCDateTime(), nullable=True),
    Column("last_error", String(500), nullable=True),
    UniqueConstraint("notice_id", "subscriber_id"),
    Index(None, "channel", "status", "due_at"),
)

broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("author", String(120), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("topic", String(40), nullable=False),
    Column("zone", String(64), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("urgent", Boolean, nullable=False, default=False),
    # scheduled -> published | cancelled
    Column("status", String(16), nullable=False, default="scheduled"),
    Column("audience", Integer, nullable=False, default=0),
    Column("notice_id", Key, ForeignKey("notices.id", ondelete="SET NULL"), nullable=True),
)

state = Table(
    "state",
    metadata,
    Column("key", String(120), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- revision 0002: agents of the back-office, the questions log, Web Push subscriptions ---

agents = Table(
    "agents",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("username", String(80), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),  # argon2
    Column("role", String(16), nullable=False, default="agent"),  # "agent" | "admin"
    Column("created_at", UTCDateTime(), nullable=False),
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", UTCDateTime(), nullable=True),
    Column("last_login_at", UTCDateTime(), nullable=True),
)

agent_sessions = Table(
    "agent_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's token
    Column(
        "agent_id", Key, ForeignKey("agents.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
)

questions = Table(
    "questions",
    metadata,
    Column("id", Key, primary_key=True, autoincrement=True),
    Column("asked_at", UTCDateTime(), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("text", Text, nullable=False),  # the question, for agents; never logged
    Column("answered", Boolean, nullable=False),
    Column("entry", String(120), nullable=True),  # the FAQ entry or kind that answered
    Column("score", Float, nullable=False, default=0.0),
)

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("chat_id", String(64), primary_key=True),  # the "webpush" address: endpoint's hash
    Column("endpoint", Text, nullable=False),
    Column("p256dh", String(200), nullable=False),
    Column("auth", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# --- revision 0003: what messaging services say about sent messages, WhatsApp's 24 h window ---

sent_messages = Table(
    "sent_messages",
    metadata,
    Column("provider_id", String(128), primary_key=True),  # e.g. WhatsApp's "wamid.…"
    Column("channel", String(32), nullable=False),
    Column("delivery_key", String(250), nullable=True, index=True),  # the outbox row's key
    Column("status", String(16), nullable=False),  # sent | delivered | read | failed
    Column("error", String(500), nullable=True),
    Column("updated_at", UTCDateTime(), nullable=False),
)

whatsapp_contacts = Table(
    "whatsapp_contacts",
    metadata,
    Column("wa_id", String(32), primary_key=True),
    Column("last_inbound_at", UTCDateTime(), nullable=False),  # opens the 24 h free-text window
)

# --- revision 0004: conversations shared by the processes of one deployment ---

conversations = Table(
    "conversations",
    metadata,
    Column("channel", String(32), primary_key=True),
    Column("chat_id", String(255), primary_key=True),
    Column("street", String(200), nullable=True),  # the street the resident gave
    Column("zone", String(64), nullable=True),
    Column("pending_question", Text, nullable=True),  # asked before the bot asked the street
    Column("seen_at", UTCDateTime(), nullable=False, index=True),
)


def of_address(table: Table, address: Address) -> ColumnElement[bool]:
    """The rows of `table` that belong to one resident's address (channel and chat id)."""
    return (table.c.channel == address.channel) & (table.c.chat_id == address.chat_id)
