"""The tracker's state in SQL (SQLite by default, PostgreSQL in production).

Each processed event is recorded with the messages it caused in the same transaction as the
order's new state, so a redelivered event changes nothing and re-publishes exactly those messages.
"""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_schemas.status import OrderStatus
from orderpulse_schemas.values import Customer
from orderpulse_status_tracker.lifecycle import Decision, TrackedOrder
from orderpulse_status_tracker.messages import Outgoing

metadata = sa.MetaData()

orders = sa.Table(
    "tracker_orders",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("order_number", sa.String(40), nullable=False),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("customer", sa.JSON, nullable=False),
)

processed = sa.Table(
    "tracker_processed_events",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
    sa.Column("outgoing", sa.JSON, nullable=False),
)


class SqlTrackerStore:
    """Orders and processed events in one database the tracker owns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_schema(self) -> None:
        """Create the tables if missing (migrations come with deployment)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def outgoing_of(self, shop_id: str, event_id: str) -> list[Outgoing] | None:
        """The messages an already processed event caused, or None if it is new."""
        async with self._engine.connect() as conn:
            row = await conn.scalar(
                sa.select(processed.c.outgoing).where(
                    processed.c.shop_id == shop_id, processed.c.event_id == event_id
                )
            )
        return None if row is None else [Outgoing(**item) for item in row]

    async def order(self, shop_id: str, order_id: str) -> TrackedOrder | None:
        """The order as last recorded."""
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(orders).where(
                        orders.c.shop_id == shop_id, orders.c.order_id == order_id
                    )
                )
            ).one_or_none()
        if row is None:
            return None
        return TrackedOrder(
            shop_id=row.shop_id,
            order_id=row.order_id,
            order_number=row.order_number,
            status=OrderStatus(row.status),
            customer=Customer.model_validate(row.customer),
        )

    async def record(self, shop_id: str, event_id: str, decision: Decision) -> bool:
        """Store the event's decision atomically; False when the event was recorded already."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    processed.insert().values(
                        shop_id=shop_id,
                        event_id=event_id,
                        outgoing=[vars(item) for item in decision.outgoing],
                    )
                )
                if decision.order is not None:
                    await _upsert_order(conn, decision.order)
        except IntegrityError:
            return False
        return True


async def _upsert_order(conn: AsyncConnection, order: TrackedOrder) -> None:
    values: dict[str, Any] = {
        "order_number": order.order_number,
        "status": order.status.value,
        "customer": order.customer.model_dump(mode="json"),
    }
    updated = await conn.execute(
        orders.update()
        .where(orders.c.shop_id == order.shop_id, orders.c.order_id == order.order_id)
        .values(**values)
    )
    if updated.rowcount == 0:
        await conn.execute(
            orders.insert().values(shop_id=order.shop_id, order_id=order.order_id, **values)
        )
