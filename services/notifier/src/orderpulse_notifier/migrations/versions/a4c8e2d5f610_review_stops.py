"""The stop list of review requests: salted hashes of the customers who stopped them, per shop
(issue 16).

Revision ID: a4c8e2d5f610
Revises: f6b9c4d7e281
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a4c8e2d5f610"
down_revision: str | Sequence[str] | None = "f6b9c4d7e281"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_review_stops",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("customer_key", sa.String(length=64), nullable=False),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "customer_key"),
    )


def downgrade() -> None:
    op.drop_table("notifier_review_stops")
