"""The first tables: the parcels followed, and the pickup points orders chose.

Revision ID: e47daa43e21d
Revises:
Create Date: 2026-12-03 10:26:56.781013
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e47daa43e21d"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "couriers_parcels",
        sa.Column("carrier", sa.String(length=20), nullable=False),
        sa.Column("tracking_number", sa.String(length=60), nullable=False),
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("tracking_url", sa.String(length=2000), nullable=True),
        sa.Column("point", sa.JSON(), nullable=True),
        sa.Column("heard", sa.JSON(), nullable=False),
        sa.Column("last", sa.String(length=30), nullable=True),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("carrier", "tracking_number"),
    )
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.create_index("ix_couriers_parcels_order", ["shop_id", "order_id"], unique=False)

    op.create_table(
        "couriers_pickup_points",
        sa.Column("shop_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=100), nullable=False),
        sa.Column("point", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("shop_id", "order_id"),
    )


def downgrade() -> None:
    op.drop_table("couriers_pickup_points")
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.drop_index("ix_couriers_parcels_order")

    op.drop_table("couriers_parcels")
