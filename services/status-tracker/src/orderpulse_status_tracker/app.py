"""Composition root: the tracker's Kafka app, wired from settings."""

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_schemas.dead_letters import dead_lettering
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.orders import OrderEvent
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ORDERS
from orderpulse_status_tracker.database import connect
from orderpulse_status_tracker.lifecycle import Topics
from orderpulse_status_tracker.service import Tracker
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.store import SqlTrackerStore


def build_app(settings: Settings, *, engine: AsyncEngine | None = None) -> FastStream:
    """The tracker: consumes order facts, publishes status changes and notification requests."""
    engine = engine or connect(settings.database_url)
    store = SqlTrackerStore(engine)
    tracker = Tracker(store, Topics(settings.order_status_topic, settings.notifications_topic))
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[
            dead_lettering({settings.orders_topic: ORDERS.events}, group=settings.group_id)
        ],
    )

    publishers = {
        settings.order_status_topic: broker.publisher(
            settings.order_status_topic, schema=OrderStatusChanged
        ),
        settings.notifications_topic: broker.publisher(
            settings.notifications_topic, schema=NotificationRequested
        ),
    }

    @broker.subscriber(
        settings.orders_topic, group_id=settings.group_id, auto_offset_reset="earliest"
    )
    async def on_order_event(event: OrderEvent) -> None:
        """Record the fact, then publish what it causes; the offset is committed after."""
        for message in await tracker.handle(event):
            await publishers[message.topic].publish(message.value, key=message.key.encode())

    app = FastStream(broker, specification=AsyncAPI(title="orderpulse status-tracker"))
    app.on_startup(store.create_schema)
    app.after_shutdown(engine.dispose)
    return app


def create_app() -> FastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
