"""Statuses of sent messages reported by messaging services; WhatsApp contacts' 24 h window.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 06:01:49.795645

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.store.schema

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "sent_messages",
        sa.Column("provider_id", sa.String(length=128), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("delivery_key", sa.String(length=250), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("updated_at", bot.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_sent_messages")),
    )
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sent_messages_delivery_key"), ["delivery_key"], unique=False
        )

    op.create_table(
        "whatsapp_contacts",
        sa.Column("wa_id", sa.String(length=32), nullable=False),
        sa.Column("last_inbound_at", bot.store.schema.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("wa_id", name=op.f("pk_whatsapp_contacts")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("whatsapp_contacts")
    with op.batch_alter_table("sent_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sent_messages_delivery_key"))

    op.drop_table("sent_messages")
