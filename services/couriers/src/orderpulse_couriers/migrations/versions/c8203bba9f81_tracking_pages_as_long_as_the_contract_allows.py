"""A parcel's tracking page as long as the contract lets it be: text, not at most 2000 characters.

`shipments.v1` sets no limit on a tracking url (only the record's size does) and percent-encodes
what is not ASCII; PostgreSQL refused a page longer than 2000 characters, so a valid dispatch
with one was dead-lettered and its parcel never followed. Going back, pages longer than 2000
characters are forgotten (the url is optional wherever the contract carries it).

Revision ID: c8203bba9f81
Revises: 2196d1f666ad
Create Date: 2026-12-03 13:03:06.671029
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c8203bba9f81"
down_revision: str | Sequence[str] | None = "2196d1f666ad"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.alter_column(
            "tracking_url",
            existing_type=sa.String(length=2000),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    op.execute("UPDATE couriers_parcels SET tracking_url = NULL WHERE length(tracking_url) > 2000")
    with op.batch_alter_table("couriers_parcels", schema=None) as batch_op:
        batch_op.alter_column(
            "tracking_url",
            existing_type=sa.Text(),
            type_=sa.String(length=2000),
            existing_nullable=True,
        )
