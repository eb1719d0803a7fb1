"""Composition root: the tracker's Kafka consumer, timer loop and HTTP routes, from settings."""

import logging
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import batch, chores
from orderpulse_kit.app import new_app, new_broker
from orderpulse_kit.database import connect
from orderpulse_kit.producer import KafkaProducer, ProducerFor
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATION_OUTCOMES, ORDERS, SHIPMENTS
from orderpulse_status_tracker import http
from orderpulse_status_tracker.clock import Clock, SystemClock
from orderpulse_status_tracker.messages import Topics
from orderpulse_status_tracker.migrate import MIGRATIONS
from orderpulse_status_tracker.service import Tracker, TrackerEvent
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.shops import load_policies
from orderpulse_status_tracker.store import SqlTrackerStore
from orderpulse_status_tracker.timeline import Timeline

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    clock: Clock | None = None,
    producer: ProducerFor | None = None,
) -> AsgiFastStream:
    """The tracker: order and courier facts in; status changes and notification requests out."""
    engine = engine or connect(settings.database_url.get_secret_value())
    broker = new_broker(settings.kafka_bootstrap_servers, log)
    # What the tracker publishes, for the AsyncAPI document; it produces through `producer`.
    broker.publisher(settings.order_status_topic, schema=OrderStatusChanged)
    broker.publisher(settings.notifications_topic, schema=NotificationRequested)
    producing = (producer or (lambda _: KafkaProducer(settings.kafka_bootstrap_servers)))(broker)
    tracker = Tracker(
        SqlTrackerStore(engine),
        topics=Topics(settings.order_status_topic, settings.notifications_topic),
        policies=load_policies(settings.shops_file),
        publish=producing.produce,
        clock=clock or SystemClock(),
    )
    # One consumer reads all four topics: one group member, fewer rebalances, and the facts of
    # an order are applied in the order they arrive.
    batch.subscribe(
        broker,
        {
            settings.orders_topic: ORDERS.events,
            settings.shipments_topic: SHIPMENTS.events,
            settings.erasure_topic: ERASURE_REQUESTS.events,
            settings.outcomes_topic: NOTIFICATION_OUTCOMES.events,
        },
        tracker.handle,
        group_id=settings.group_id,
        poll=settings.poll,
        documented=Annotated[TrackerEvent, Field(discriminator="type")],
        name="on_events",
    )
    app = new_app(
        broker,
        engine,
        title="orderpulse status-tracker",
        log=log,
        migrations=MIGRATIONS,
        migrate_on_start=settings.migrate_on_start,
        producer=producing,
        routes=http.routes(timeline=Timeline(engine), token=settings.support_token),
    )
    app.after_startup(tracker.flush_all)
    chores.every(app, settings.timer_interval_seconds, tracker.fire_due_timers, "firing timers")
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
