"""Conversations shared by the processes of one deployment (street given, question waiting).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 08:45:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.schema

# revision identifiers, used by Alembic.
revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "conversations",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("chat_id", sa.String(length=255), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=True),
        sa.Column("zone", sa.String(length=64), nullable=True),
        sa.Column("pending_question", sa.Text(), nullable=True),
        sa.Column("seen_at", bot.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("channel", "chat_id", name=op.f("pk_conversations")),
    )
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversations_seen_at"), ["seen_at"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversations_seen_at"))
    op.drop_table("conversations")
