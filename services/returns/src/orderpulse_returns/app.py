"""Composition root: the returns service's Kafka app, wired from settings."""

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_returns.database import connect
from orderpulse_returns.settings import Settings
from orderpulse_returns.store import SqlReturnsStore
from orderpulse_schemas.dead_letters import dead_lettering
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ORDER_STATUS, RETURNS


def build_app(settings: Settings, *, engine: AsyncEngine | None = None) -> FastStream:
    """The returns service: follows order statuses and returns."""
    engine = engine or connect(settings.database_url)
    store = SqlReturnsStore(engine)
    contracts = {
        settings.order_status_topic: ORDER_STATUS.events,
        settings.returns_topic: RETURNS.events,
    }
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[dead_lettering(contracts, group=settings.group_id)],
    )

    @broker.subscriber(
        settings.order_status_topic, group_id=settings.group_id, auto_offset_reset="earliest"
    )
    async def on_order_status_changed(event: OrderStatusChanged) -> None:
        """Remember where the order is: a delivery starts the withdrawal period."""
        await store.record_order_status(
            event.shopid, event.id, event.subject, event.data.status.value, event.time
        )

    @broker.subscriber(
        settings.returns_topic, group_id=settings.group_id, auto_offset_reset="earliest"
    )
    async def on_return_event(event: ReturnEvent) -> None:
        """Remember the return's step."""
        await store.record_return_step(
            event.shopid, event.id, event.data.return_id, event.subject, event.type, event.time
        )

    app = FastStream(broker, specification=AsyncAPI(title="orderpulse returns"))
    app.on_startup(store.create_schema)
    app.after_shutdown(engine.dispose)
    return app


def create_app() -> FastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
