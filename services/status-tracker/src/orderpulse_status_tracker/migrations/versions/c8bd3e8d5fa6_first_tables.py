"""The first tables: orders, processed events, early facts, timers, the outbox and the timeline.

Revision ID: c8bd3e8d5fa6
Revises:
Create Date: 2026-11-23 15:25:42.542367
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8bd3e8d5fa6"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "tracker_notification_outcomes",
        sa.Column("notification_id", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id", "channel", "outcome"),
    )
    op.create_table(
        "tracker_notifications",
        sa.Column("notification_id", sa.String(length=100), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("notification_id"),
    )
    with op.batch_alter_table("tracker_notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tracker_notifications_order", ["shop_id", "order_id"], unique=False
        )

    op.create_table(
        "tracker_orders",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("customer", sa.JSON(), nullable=True),
        sa.Column("customer_email", sa.String(length=320), nullable=True),
        sa.Column("customer_phone", sa.String(length=20), nullable=True),
        sa.PrimaryKeyConstraint("shop_id", "order_id"),
    )
    with op.batch_alter_table("tracker_orders", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_tracker_orders_customer_email"), ["customer_email"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_tracker_orders_customer_phone"), ["customer_phone"], unique=False
        )

    op.create_table(
        "tracker_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("message", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracker_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_tracker_outbox_order", ["shop_id", "order_id"], unique=False)

    op.create_table(
        "tracker_pending_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("event", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracker_pending_events", schema=None) as batch_op:
        batch_op.create_index("ix_tracker_pending_order", ["shop_id", "order_id"], unique=False)

    op.create_table(
        "tracker_processed_events",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "event_id"),
    )
    op.create_table(
        "tracker_status_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cause_id", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("tracker_status_history", schema=None) as batch_op:
        batch_op.create_index("ix_tracker_history_order", ["shop_id", "order_id"], unique=False)

    op.create_table(
        "tracker_timers",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "order_id", "kind"),
    )
    with op.batch_alter_table("tracker_timers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracker_timers_due_at"), ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracker_timers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracker_timers_due_at"))

    op.drop_table("tracker_timers")
    with op.batch_alter_table("tracker_status_history", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_history_order")

    op.drop_table("tracker_status_history")
    op.drop_table("tracker_processed_events")
    with op.batch_alter_table("tracker_pending_events", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_pending_order")

    op.drop_table("tracker_pending_events")
    with op.batch_alter_table("tracker_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_outbox_order")

    op.drop_table("tracker_outbox")
    with op.batch_alter_table("tracker_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracker_orders_customer_phone"))
        batch_op.drop_index(batch_op.f("ix_tracker_orders_customer_email"))

    op.drop_table("tracker_orders")
    with op.batch_alter_table("tracker_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_tracker_notifications_order")

    op.drop_table("tracker_notifications")
    op.drop_table("tracker_notification_outcomes")
