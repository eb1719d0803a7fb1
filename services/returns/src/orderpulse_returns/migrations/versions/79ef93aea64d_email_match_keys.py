"""Orders' customer emails stored as their match key, so an erasure finds them in any case.

An erasure matches `customer_email` by `email_key` of its address (lower-cased, the domain
IDNA-normalised), and the code now writes the column that way; orders written before this
revision get their key here, so they match too. Only the match column changes: the address as
the customer wrote it stays in `customer`, which the messages use.

Revision ID: 79ef93aea64d
Revises: 8c77c0b505fb
Create Date: 2026-12-03 02:50:00
"""

from collections.abc import Sequence

from alembic import op

from orderpulse_kit.erasure import rekey_emails

revision: str = "79ef93aea64d"
down_revision: str | Sequence[str] | None = "8c77c0b505fb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    rekey_emails(op.get_bind(), "returns_orders", ["shop_id", "order_id"])


def downgrade() -> None:
    """A no-op, on purpose: the keys stay as they are. The earlier code matches the column
    exactly, so there a key is found by its address in lower case (as most are written), and a
    row it writes again gets the address as given; the address as written is in `customer`."""
