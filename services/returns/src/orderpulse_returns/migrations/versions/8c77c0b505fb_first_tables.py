"""The first tables: received orders, seen events, events waiting for their order.

Revision ID: 8c77c0b505fb
Revises:
Create Date: 2026-11-23 15:21:08.771170
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "8c77c0b505fb"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "returns_orders",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("customer", sa.JSON(), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("customer_phone", sa.String(length=20), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("shop_id", "order_id"),
    )
    with op.batch_alter_table("returns_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_returns_orders_customer_email"), ["customer_email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_returns_orders_customer_phone"), ["customer_phone"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_returns_orders_remind_at"), ["remind_at"], unique=False
        )

    op.create_table(
        "returns_seen_events",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "event_id"),
    )
    op.create_table(
        "returns_waiting_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("returns_waiting_events", schema=None) as batch_op:
        batch_op.create_index("ix_returns_waiting_order", ["shop_id", "order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("returns_waiting_events", schema=None) as batch_op:
        batch_op.drop_index("ix_returns_waiting_order")

    op.drop_table("returns_waiting_events")
    op.drop_table("returns_seen_events")
    with op.batch_alter_table("returns_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_orders_remind_at"))
        batch_op.drop_index(batch_op.f("ix_returns_orders_customer_phone"))
        batch_op.drop_index(batch_op.f("ix_returns_orders_customer_email"))

    op.drop_table("returns_orders")
