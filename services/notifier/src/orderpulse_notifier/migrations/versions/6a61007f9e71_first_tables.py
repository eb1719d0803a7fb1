"""The first table: deliveries, claimed before sending and finished after.

Revision ID: 6a61007f9e71
Revises:
Create Date: 2026-11-23 15:25:44.086358
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "6a61007f9e71"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_deliveries",
        sa.Column("delivery_id", sa.String(length=220), nullable=False),
        sa.Column("notification_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("shop_id", sa.String(length=100), nullable=False),
        sa.Column("order_id", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider", sa.String(length=32), nullable=True),
        sa.Column("provider_message_id", sa.String(length=300), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("delivery_id"),
    )
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.create_index("notifier_deliveries_due", ["status", "due_at"], unique=False)
        batch_op.create_index("notifier_deliveries_order", ["shop_id", "order_id"], unique=False)
        batch_op.create_index(
            "notifier_deliveries_receipt", ["provider", "provider_message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.drop_index("notifier_deliveries_receipt")
        batch_op.drop_index("notifier_deliveries_order")
        batch_op.drop_index("notifier_deliveries_due")

    op.drop_table("notifier_deliveries")
