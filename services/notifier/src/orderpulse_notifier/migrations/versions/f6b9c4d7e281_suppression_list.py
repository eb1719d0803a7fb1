"""The suppression list: erasures remembered as hashes, so a customer's data that arrives after
their erasure (sent before it) is not stored or sent again.

Revision ID: f6b9c4d7e281
Revises: cf17c11faba1
Create Date: 2026-12-03 05:00:00
"""

from collections.abc import Sequence

from alembic import op

from orderpulse_kit.erasure import erasure_columns

revision: str = "f6b9c4d7e281"
down_revision: str | Sequence[str] | None = "cf17c11faba1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("notifier_erasures", *erasure_columns())


def downgrade() -> None:
    op.drop_table("notifier_erasures")
