"""Delivery state in SQL: a channel of a notification is claimed before sending, finished after."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_notifier.ports import Delivery, DeliveryStatus

metadata = sa.MetaData()

deliveries = sa.Table(
    "notifier_deliveries",
    metadata,
    sa.Column("delivery_id", sa.String(200), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(32)),
    sa.Column("provider_message_id", sa.String(300)),
    sa.Column("reason", sa.String(1000)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)


class SqlDeliveryStore:
    """Deliveries in a database the notifier owns. Holds no personal data."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_schema(self) -> None:
        """Create the table if missing (migrations come with deployment)."""
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def claim(self, delivery_id: str) -> Delivery:
        """The delivery as recorded, recording it as pending when it is new."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    deliveries.insert().values(
                        delivery_id=delivery_id,
                        status=DeliveryStatus.PENDING.value,
                        updated_at=datetime.now(UTC),
                    )
                )
            return Delivery(DeliveryStatus.PENDING)
        except IntegrityError:
            pass
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(deliveries).where(deliveries.c.delivery_id == delivery_id)
                )
            ).one()
        return Delivery(
            DeliveryStatus(row.status), row.provider, row.provider_message_id, row.reason
        )

    async def finish(self, delivery_id: str, delivery: Delivery) -> None:
        """Record how the delivery ended."""
        async with self._engine.begin() as conn:
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.delivery_id == delivery_id)
                .values(
                    status=delivery.status.value,
                    provider=delivery.provider,
                    provider_message_id=delivery.provider_message_id,
                    reason=delivery.reason,
                    updated_at=datetime.now(UTC),
                )
            )
