"""Kept requests' customer emails stored as their match key, so an erasure finds them in any
case.

An erasure matches `customer_email` by `email_key` of its address (lower-cased, the domain
IDNA-normalised), and the code now writes the column that way; requests kept before this
revision get their key here, so they match too. Only the match column changes: the address as
the customer wrote it stays in the request, which the messages use.

Revision ID: cf17c11faba1
Revises: c3d7a91e5b20
Create Date: 2026-12-03 02:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from orderpulse_kit.erasure import email_key

revision: str = "cf17c11faba1"
down_revision: str | Sequence[str] | None = "c3d7a91e5b20"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

deliveries = sa.table(
    "notifier_deliveries",
    sa.column("delivery_id", sa.String),
    sa.column("customer_email", sa.String),
)
PAGE = 1000
"""Rows read at a time, in key order: a large table is never held whole."""


def upgrade() -> None:
    conn = op.get_bind()
    select = (
        sa.select(deliveries.c.delivery_id, deliveries.c.customer_email)
        .where(deliveries.c.customer_email.is_not(None))
        .order_by(deliveries.c.delivery_id)
        .limit(PAGE)
    )
    rekey = (
        deliveries.update()
        .where(deliveries.c.delivery_id == sa.bindparam("old_delivery_id"))
        .values(customer_email=sa.bindparam("new_email"))
    )
    page = conn.execute(select).all()
    while page:
        changed = [
            {"old_delivery_id": row.delivery_id, "new_email": email_key(row.customer_email)}
            for row in page
            if email_key(row.customer_email) != row.customer_email
        ]
        if changed:
            conn.execute(rekey, changed)
        if len(page) < PAGE:
            break
        page = conn.execute(select.where(deliveries.c.delivery_id > page[-1].delivery_id)).all()


def downgrade() -> None:
    """A no-op, on purpose: the keys stay as they are. The earlier code matches the column
    exactly, so there a key is found by its address in lower case (as most are written), and a
    row it writes again gets the address as given; the address as written is in the request."""
