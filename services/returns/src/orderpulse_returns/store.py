"""What the returns service keeps: received orders, their returns' steps, and events that wait.

Personal data lives only in `returns_orders.customer*`, and is erased on request.
"""

import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_returns.lifecycle import ReturnsOrder

metadata = sa.MetaData()
"""The tables as the code expects them; `migrations/` creates and changes them."""

orders = sa.Table(
    "returns_orders",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),  # the order without its customer
    sa.Column("customer", sa.JSON),
    sa.Column("customer_email", sa.String(320), index=True),
    sa.Column("customer_phone", sa.String(20), index=True),
    sa.Column("remind_at", sa.DateTime(timezone=True), index=True),
)

seen_events = sa.Table(
    "returns_seen_events",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
)

waiting = sa.Table(
    "returns_waiting_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shop_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(100), nullable=False),
    sa.Column("event", sa.JSON, nullable=False),
    sa.Index("ix_returns_waiting_order", "shop_id", "order_id"),
)
"""Return events heard before the order's arrival: without it there is no one to tell yet."""


class SqlReturnsStore:
    """Orders and events, in a database the returns service owns (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def seen(self, shop_id: str, event_id: str) -> bool:
        """Whether the event was handled before."""
        async with self._engine.connect() as conn:
            found = await conn.scalar(
                sa.select(sa.literal(1)).where(
                    seen_events.c.shop_id == shop_id, seen_events.c.event_id == event_id
                )
            )
        return found is not None

    async def load(self, shop_id: str, order_id: str) -> ReturnsOrder | None:
        """The order as last saved, or None before its arrival."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(orders.c.state, orders.c.customer, orders.c.remind_at).where(
                        orders.c.shop_id == shop_id, orders.c.order_id == order_id
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        remind_at = row.remind_at and _aware(row.remind_at)
        return ReturnsOrder.model_validate(
            {**row.state, "customer": row.customer, "remind_at": remind_at}
        )

    async def save(self, order: ReturnsOrder, event_id: str | None = None) -> None:
        """Keep `order`, note `event_id` as handled, and drop the events it has taken in."""
        customer = order.customer
        values = {
            "state": order.model_dump(mode="json", exclude={"customer", "remind_at"}),
            "customer": customer.model_dump(mode="json") if customer else None,
            "customer_email": customer.email if customer else None,
            "customer_phone": customer.phone if customer else None,
            "remind_at": order.remind_at and _utc(order.remind_at),
        }
        key = {"shop_id": order.shop_id, "order_id": order.order_id}
        async with _once(self._engine) as conn:
            if event_id is not None:
                await conn.execute(
                    seen_events.insert().values(shop_id=order.shop_id, event_id=event_id)
                )
            await _upsert(conn, key, values)
            await conn.execute(waiting.delete().where(*_of_order(waiting, **key)))

    async def keep_waiting(self, shop_id: str, order_id: str, event_id: str, event: Any) -> None:
        """Keep a return event until its order's arrival is heard."""
        async with _once(self._engine) as conn:
            await conn.execute(seen_events.insert().values(shop_id=shop_id, event_id=event_id))
            await conn.execute(
                waiting.insert().values(shop_id=shop_id, order_id=order_id, event=event)
            )

    async def waiting_events(self, shop_id: str, order_id: str) -> list[Any]:
        """The order's waiting return events, in the order they came."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(waiting.c.event)
                .where(*_of_order(waiting, shop_id, order_id))
                .order_by(waiting.c.id)
            )
            return [row.event for row in rows]

    async def due_reminders(self, now: datetime) -> list[tuple[str, str]]:
        """Orders whose reminder is due: (shop id, order id)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(orders.c.shop_id, orders.c.order_id).where(
                    orders.c.remind_at <= _utc(now)
                )
            )
            return [(row.shop_id, row.order_id) for row in rows]

    async def erase(
        self, shop_id: str, email: str | None, phone: str | None, order_ids: list[str]
    ) -> int:
        """Forget a customer on the matching orders (and what waits for them); how many orders."""
        match = sa.or_(
            orders.c.order_id.in_(order_ids),
            sa.and_(sa.literal(email is not None), orders.c.customer_email == email),
            sa.and_(sa.literal(phone is not None), orders.c.customer_phone == phone),
        )
        async with self._engine.begin() as conn:
            found = list(
                await conn.scalars(
                    sa.select(orders.c.order_id).where(orders.c.shop_id == shop_id, match)
                )
            )
            await conn.execute(
                orders.update()
                .where(orders.c.shop_id == shop_id, orders.c.order_id.in_(found))
                .values(customer=None, customer_email=None, customer_phone=None, remind_at=None)
            )
            gone = waiting.delete().where(
                waiting.c.shop_id == shop_id, waiting.c.order_id.in_([*found, *order_ids])
            )
            await conn.execute(gone)
        return len(found)


class AlreadySeen(Exception):
    """Another worker handled the event (or the order) meanwhile; its effects stand."""


@contextlib.asynccontextmanager
async def _once(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A transaction that fails with `AlreadySeen` when its event or order got in first."""
    try:
        async with engine.begin() as conn:
            yield conn
    except IntegrityError as error:
        raise AlreadySeen() from error


def _utc(moment: datetime) -> datetime:
    """Times are compared in UTC: SQLite keeps no offset."""
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _of_order(table: sa.Table, shop_id: str, order_id: str) -> tuple[Any, ...]:
    return (table.c.shop_id == shop_id, table.c.order_id == order_id)


async def _upsert(conn: AsyncConnection, key: dict[str, str], values: dict[str, Any]) -> None:
    match = _of_order(orders, **key)
    if (await conn.execute(orders.update().where(*match).values(**values))).rowcount == 0:
        await conn.execute(orders.insert().values(**key, **values))
