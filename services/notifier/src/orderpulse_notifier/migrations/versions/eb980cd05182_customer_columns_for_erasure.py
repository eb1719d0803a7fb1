"""Kept requests' customer email and phone in columns, so an erasure finds them by either.

Revision ID: eb980cd05182
Revises: 6a61007f9e71
Create Date: 2026-11-23 15:47:48.912560
"""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "eb980cd05182"
down_revision: str | Sequence[str] | None = "6a61007f9e71"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

deliveries = sa.table(
    "notifier_deliveries",
    sa.column("delivery_id", sa.String),
    sa.column("request", sa.Text),
    sa.column("customer_email", sa.String),
    sa.column("customer_phone", sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("customer_email", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("customer_phone", sa.String(length=20), nullable=True))
        batch_op.create_index(
            "notifier_deliveries_email", ["shop_id", "customer_email"], unique=False
        )
        batch_op.create_index(
            "notifier_deliveries_phone", ["shop_id", "customer_phone"], unique=False
        )
    # Requests kept before this revision (deferred, or awaiting a receipt) get their contacts too.
    conn = op.get_bind()
    kept = conn.execute(
        sa.select(deliveries.c.delivery_id, deliveries.c.request).where(
            deliveries.c.request.is_not(None)
        )
    ).all()
    for delivery_id, request in kept:
        customer = json.loads(request)["data"]["customer"]
        conn.execute(
            deliveries.update()
            .where(deliveries.c.delivery_id == delivery_id)
            .values(customer_email=customer.get("email"), customer_phone=customer.get("phone"))
        )


def downgrade() -> None:
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.drop_index("notifier_deliveries_phone")
        batch_op.drop_index("notifier_deliveries_email")
        batch_op.drop_column("customer_phone")
        batch_op.drop_column("customer_email")
