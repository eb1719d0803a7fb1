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

import sqlalchemy as sa
from alembic import op

from orderpulse_kit.erasure import email_key

revision: str = "79ef93aea64d"
down_revision: str | Sequence[str] | None = "8c77c0b505fb"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

orders = sa.table(
    "returns_orders",
    sa.column("shop_id", sa.String),
    sa.column("order_id", sa.String),
    sa.column("customer_email", sa.String),
)
PAGE = 1000
"""Rows read at a time, in key order: a large table is never held whole."""


def upgrade() -> None:
    conn = op.get_bind()
    key = sa.tuple_(orders.c.shop_id, orders.c.order_id)
    select = (
        sa.select(orders.c.shop_id, orders.c.order_id, orders.c.customer_email)
        .where(orders.c.customer_email.is_not(None))
        .order_by(orders.c.shop_id, orders.c.order_id)
        .limit(PAGE)
    )
    rekey = (
        orders.update()
        .where(orders.c.shop_id == sa.bindparam("old_shop_id"))
        .where(orders.c.order_id == sa.bindparam("old_order_id"))
        .values(customer_email=sa.bindparam("new_email"))
    )
    page = conn.execute(select).all()
    while page:
        changed = [
            {
                "old_shop_id": row.shop_id,
                "old_order_id": row.order_id,
                "new_email": email_key(row.customer_email),
            }
            for row in page
            if email_key(row.customer_email) != row.customer_email
        ]
        if changed:
            conn.execute(rekey, changed)
        if len(page) < PAGE:
            break
        last = sa.tuple_(page[-1].shop_id, page[-1].order_id)
        page = conn.execute(select.where(key > last)).all()


def downgrade() -> None:
    """A no-op, on purpose: the keys stay as they are. The earlier code matches the column
    exactly, so there a key is found by its address in lower case (as most are written), and a
    row it writes again gets the address as given; the address as written is in `customer`."""
