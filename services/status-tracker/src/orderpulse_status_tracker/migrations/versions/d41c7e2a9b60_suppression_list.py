"""The suppression list: erasures remembered as hashes, so a customer's data that arrives after
their erasure (sent before it) is not stored or sent again.

Revision ID: d41c7e2a9b60
Revises: 8fe51821a5b1
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

from alembic import op

from orderpulse_kit.erasure import erasure_columns

revision: str = "d41c7e2a9b60"
down_revision: str | Sequence[str] | None = "8fe51821a5b1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("tracker_erasures", *erasure_columns())


def downgrade() -> None:
    op.drop_table("tracker_erasures")
