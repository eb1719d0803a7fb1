"""Claims name their owner, and owners say they are alive: a dead notifier's claims are taken
over as soon as it falls silent, not when their lease runs out.

Revision ID: c3d7a91e5b20
Revises: eb980cd05182
Create Date: 2026-12-03 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c3d7a91e5b20"
down_revision: str | Sequence[str] | None = "eb980cd05182"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifier_owners",
        sa.Column("owner", sa.String(length=64), primary_key=True),
        sa.Column("alive_until", sa.DateTime(timezone=True), nullable=False),
    )
    # Claims made before this revision have no owner: their lease still frees them.
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("notifier_deliveries", schema=None) as batch_op:
        batch_op.drop_column("owner")
    op.drop_table("notifier_owners")
