"""The suppression list: erasures remembered as hashes, so a customer's data that arrives after
their erasure (sent before it) is not stored or sent again.

Revision ID: e5a8b3c6d170
Revises: 79ef93aea64d
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

from alembic import op

from orderpulse_kit.erasure import erasure_columns

revision: str = "e5a8b3c6d170"
down_revision: str | Sequence[str] | None = "79ef93aea64d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("returns_erasures", *erasure_columns())


def downgrade() -> None:
    op.drop_table("returns_erasures")
