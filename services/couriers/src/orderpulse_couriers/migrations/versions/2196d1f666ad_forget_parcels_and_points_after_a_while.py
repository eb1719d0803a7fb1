"""Forget parcels and points after a while: when each point was kept, and indexes on both times.

Revision ID: 2196d1f666ad
Revises: bcebb998e5da
Create Date: 2026-12-03 12:10:41.501370
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2196d1f666ad"
down_revision: str | Sequence[str] | None = "bcebb998e5da"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.create_index("ix_couriers_parcels_followed_at", ["followed_at"], unique=False)

    with op.batch_alter_table("couriers_pickup_points", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "kept_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.now(),
                nullable=False,
            )
        )
        batch_op.create_index("ix_couriers_pickup_points_kept_at", ["kept_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("couriers_pickup_points", schema=None) as batch_op:
        batch_op.drop_index("ix_couriers_pickup_points_kept_at")
        batch_op.drop_column("kept_at")

    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.drop_index("ix_couriers_parcels_followed_at")
