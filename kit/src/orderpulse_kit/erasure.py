"""Erasure of a customer from a service's orders table, the same way in every service.

Each service keeps personal data only in its orders table's `customer`, `customer_email` and
`customer_phone` columns; an erasure request names the customer by email, phone or order ids.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection


def customer_columns() -> tuple["sa.Column[Any]", ...]:
    """The only columns of an orders table with personal data, as `forget_customer` clears them:
    the customer as JSON, and the email and phone it is found by."""
    return (
        sa.Column("customer", sa.JSON),
        sa.Column("customer_email", sa.String(320), index=True),
        sa.Column("customer_phone", sa.String(20), index=True),
    )


async def forget_customer(
    conn: AsyncConnection,
    orders: sa.Table,
    shop_id: str,
    email: str | None,
    phone: str | None,
    order_ids: list[str],
    **also: Any,
) -> list[str]:
    """Clear the customer (and the columns in `also`) of the shop's matching orders; their ids."""
    match = sa.or_(
        orders.c.order_id.in_(order_ids),
        sa.and_(sa.literal(email is not None), orders.c.customer_email == email),
        sa.and_(sa.literal(phone is not None), orders.c.customer_phone == phone),
    )
    found = list(
        await conn.scalars(sa.select(orders.c.order_id).where(orders.c.shop_id == shop_id, match))
    )
    if found:
        await conn.execute(
            orders.update()
            .where(orders.c.shop_id == shop_id, orders.c.order_id.in_(found))
            .values(customer=None, customer_email=None, customer_phone=None, **also)
        )
    return found
