"""Review-request timers: when to ask each order's customer for a review (issue 16).

Revision ID: b7d2e4f19a30
Revises: e5a8b3c6d170
Create Date: 2026-12-03 07:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7d2e4f19a30"
down_revision: str | Sequence[str] | None = "e5a8b3c6d170"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("returns_orders") as table:
        table.add_column(sa.Column("review_at", sa.DateTime(timezone=True), nullable=True))
        table.create_index("ix_returns_orders_review_at", ["review_at"])


def downgrade() -> None:
    with op.batch_alter_table("returns_orders") as table:
        table.drop_index("ix_returns_orders_review_at")
        table.drop_column("review_at")
