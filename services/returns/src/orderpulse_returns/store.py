"""What the returns service knows: each order's latest status and each return's latest step.

Walking-skeleton scope: the facts are recorded (once per event id); deadlines and the messages of
the return lifecycle build on them.
"""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

metadata = sa.MetaData()

seen_events = sa.Table(
    "returns_seen_events",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
)

orders = sa.Table(
    "returns_orders",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("status_at", sa.DateTime(timezone=True), nullable=False),
)

returns = sa.Table(
    "returns_returns",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("return_id", sa.String(60), primary_key=True),
    sa.Column("order_id", sa.String(100), nullable=False),
    sa.Column("step", sa.String(40), nullable=False),
    sa.Column("step_at", sa.DateTime(timezone=True), nullable=False),
)


class SqlReturnsStore:
    """Records facts once per event id, in a database the returns service owns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_schema(self) -> None:
        """Create the tables if missing (migrations come with deployment)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def record_order_status(
        self, shop_id: str, event_id: str, order_id: str, status: str, at: datetime
    ) -> bool:
        """Remember the order's status; False when this event was recorded before."""
        key = {"shop_id": shop_id, "order_id": order_id}
        return await self._once(shop_id, event_id, orders, key, {"status": status, "status_at": at})

    async def record_return_step(
        self, shop_id: str, event_id: str, return_id: str, order_id: str, step: str, at: datetime
    ) -> bool:
        """Remember the return's step; False when this event was recorded before."""
        key = {"shop_id": shop_id, "return_id": return_id}
        values = {"order_id": order_id, "step": step, "step_at": at}
        return await self._once(shop_id, event_id, returns, key, values)

    async def _once(
        self,
        shop_id: str,
        event_id: str,
        table: sa.Table,
        key: dict[str, str],
        values: dict[str, object],
    ) -> bool:
        try:
            async with self._engine.begin() as conn:
                await conn.execute(seen_events.insert().values(shop_id=shop_id, event_id=event_id))
                await _upsert(conn, table, key, values)
        except IntegrityError:
            return False
        return True


async def _upsert(
    conn: AsyncConnection, table: sa.Table, key: dict[str, str], values: dict[str, object]
) -> None:
    match = sa.and_(*(table.c[column] == value for column, value in key.items()))
    if (await conn.execute(table.update().where(match).values(**values))).rowcount == 0:
        await conn.execute(table.insert().values(**key, **values))
