"""Parcels polled on a durable schedule: when to ask the carrier next, the backoff, the age.

Parcels followed before this (none finished) are due at once, so a carrier that is polled starts
with them.

Revision ID: bcebb998e5da
Revises: e47daa43e21d
Create Date: 2026-12-03 11:58:49.810123
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "bcebb998e5da"
down_revision: str | Sequence[str] | None = "e47daa43e21d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_poll_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("unchanged_polls", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "followed_at",
                sa.DateTime(timezone=True),
                server_default=sa.func.now(),
                nullable=False,
            )
        )
        batch_op.create_index("ix_couriers_parcels_due", ["carrier", "next_poll_at"], unique=False)
    op.execute(
        "UPDATE couriers_parcels SET next_poll_at = followed_at "
        "WHERE last IS NULL OR last NOT IN ('delivered', 'picked_up', 'returned_to_sender')"
    )


def downgrade() -> None:
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.drop_index("ix_couriers_parcels_due")
        batch_op.drop_column("followed_at")
        batch_op.drop_column("unchanged_polls")
        batch_op.drop_column("next_poll_at")
