"""Composition root: the tracker's Kafka consumers, timer loop and HTTP routes, from settings."""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable
from typing import Annotated

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import REGISTRY
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores, consumer
from orderpulse_kit.database import connect
from orderpulse_kit.dead_letters import dead_lettering
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import NotificationDelivered, NotificationFailed, NotificationSent
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATION_OUTCOMES, ORDERS, SHIPMENTS
from orderpulse_status_tracker import http
from orderpulse_status_tracker.clock import Clock, SystemClock
from orderpulse_status_tracker.facts import EventFacts
from orderpulse_status_tracker.messages import Outgoing, Topics
from orderpulse_status_tracker.migrate import MIGRATIONS
from orderpulse_status_tracker.service import Tracker
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.shops import load_policies
from orderpulse_status_tracker.store import SqlTrackerStore
from orderpulse_status_tracker.timeline import Timeline

log = logging.getLogger(__name__)

NotificationOutcome = NotificationSent | NotificationFailed | NotificationDelivered
# One consumer reads all four topics: one group member, fewer rebalances, and the facts of an
# order are applied one at a time in the order they arrive.
TrackerInput = Annotated[
    EventFacts | ErasureRequested | NotificationSent | NotificationFailed | NotificationDelivered,
    Field(discriminator="type"),
]


def build_app(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> AsgiFastStream:
    """The tracker: order and courier facts in; status changes and notification requests out."""
    engine = engine or connect(settings.database_url.get_secret_value())
    store, timeline = SqlTrackerStore(engine), Timeline(engine)
    contracts = {
        settings.orders_topic: ORDERS.events,
        settings.shipments_topic: SHIPMENTS.events,
        settings.erasure_topic: ERASURE_REQUESTS.events,
        settings.outcomes_topic: NOTIFICATION_OUTCOMES.events,
    }
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        logger=log,  # FastStream's own loggers do not propagate to the JSON handler
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[
            KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="orderpulse"),
            dead_lettering(contracts, group=settings.group_id),
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

    async def publish(message: Outgoing) -> Awaitable[object]:
        publisher = publishers[message.topic]
        return await publisher.publish(message.value, key=message.key.encode(), no_confirm=True)

    tracker = Tracker(
        store,
        topics=Topics(settings.order_status_topic, settings.notifications_topic),
        policies=load_policies(settings.shops_file),
        publish=publish,
        clock=clock or SystemClock(),
    )

    @broker.subscriber(
        settings.orders_topic,
        settings.shipments_topic,
        settings.erasure_topic,
        settings.outcomes_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
    )
    async def on_event(event: TrackerInput) -> None:
        """Apply a fact, forget a customer or note an outcome; the offset is committed after."""
        if isinstance(event, ErasureRequested):
            erased = await tracker.erase(event)
            log.info("erasure request %s: %d order(s) erased", event.id, erased)
        elif isinstance(event, NotificationOutcome):
            await timeline.record_outcome(event)
        else:
            await tracker.handle(event)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await MIGRATIONS.at_start(engine, migrate=settings.migrate_on_start)
        yield
        await engine.dispose()

    app = AsgiFastStream(
        broker,
        logger=log,
        asgi_routes=http.routes(
            consuming=lambda: consumer.consuming(broker),
            broker_ping=broker.ping,
            engine=engine,
            timeline=timeline,
            token=settings.support_token,
        ),
        lifespan=lifespan,
        specification=AsyncAPI(title="orderpulse status-tracker"),
    )
    app.after_startup(tracker.flush_all)
    chores.every(app, settings.timer_interval_seconds, tracker.fire_due_timers, "firing timers")
    consumer.report_lag(app, broker)
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
