"""Composition root: the tracker's Kafka consumer, timer loop and HTTP routes, from settings."""

import logging
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores
from orderpulse_kit.app import Runtime
from orderpulse_kit.dead_letters import dead_letter_kept
from orderpulse_kit.producer import ProducerFor
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATION_OUTCOMES, ORDERS, SHIPMENTS
from orderpulse_status_tracker import http
from orderpulse_status_tracker.clock import Clock, SystemClock
from orderpulse_status_tracker.facts import EventFacts
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
    runtime = Runtime(settings, log, engine=engine, producer=producer)
    runtime.publishes(settings.order_status_topic, OrderStatusChanged)
    runtime.publishes(settings.notifications_topic, NotificationRequested)

    async def set_aside(fact: EventFacts, reason: str) -> None:
        """A fact kept for its order, back to its topic's dead letters."""
        topic = (
            settings.orders_topic if fact.type.startswith("order.") else settings.shipments_topic
        )
        value = fact.model_dump_json(exclude_none=True).encode()
        await dead_letter_kept(
            runtime.broker, topic, fact.subject, value, reason, group=settings.group_id
        )

    tracker = Tracker(
        SqlTrackerStore(runtime.engine),
        topics=Topics(settings.order_status_topic, settings.notifications_topic),
        policies=load_policies(settings.shops_file),
        publish=runtime.producer.produce,
        dead_letter=runtime.dead_letter,
        set_aside=set_aside,
        clock=clock or SystemClock(),
    )
    # One consumer reads all four topics: one group member, fewer rebalances, and the facts of
    # an order are applied in the order they arrive.
    runtime.consume(
        {
            settings.orders_topic: ORDERS.events,
            settings.shipments_topic: SHIPMENTS.events,
            settings.erasure_topic: ERASURE_REQUESTS.events,
            settings.outcomes_topic: NOTIFICATION_OUTCOMES.events,
        },
        tracker.handle,
        documented=Annotated[TrackerEvent, Field(discriminator="type")],
        name="on_events",
    )
    app = runtime.app(
        title="orderpulse status-tracker",
        migrations=MIGRATIONS,
        routes=http.routes(
            timeline=Timeline(runtime.engine),
            token=settings.support_token,
            shop_tokens=settings.support_tokens,
        ),
    )
    app.after_startup(tracker.flush_all)
    chores.every(app, settings.timer_interval_seconds, tracker.fire_due_timers, "firing timers")
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
