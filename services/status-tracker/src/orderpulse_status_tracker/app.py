"""Composition root: the tracker's Kafka consumers, timer loop and HTTP routes, from settings."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import DefaultSubscriber
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_schemas.dead_letters import dead_lettering
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.orders import OrderEvent
from orderpulse_schemas.outcomes import NotificationOutcome
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.shipments import ShipmentEvent
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATION_OUTCOMES, ORDERS, SHIPMENTS
from orderpulse_status_tracker import http
from orderpulse_status_tracker.clock import Clock, SystemClock
from orderpulse_status_tracker.database import connect
from orderpulse_status_tracker.messages import Outgoing, Topics
from orderpulse_status_tracker.service import Tracker
from orderpulse_status_tracker.settings import Settings
from orderpulse_status_tracker.shops import load_policies
from orderpulse_status_tracker.store import SqlTrackerStore
from orderpulse_status_tracker.timeline import Timeline

log = logging.getLogger(__name__)


def build_app(
    settings: Settings, *, engine: AsyncEngine | None = None, clock: Clock | None = None
) -> AsgiFastStream:
    """The tracker: order and courier facts in; status changes and notification requests out."""
    engine = engine or connect(settings.database_url)
    store, timeline = SqlTrackerStore(engine), Timeline(engine)
    contracts = {
        settings.orders_topic: ORDERS.events,
        settings.shipments_topic: SHIPMENTS.events,
        settings.erasure_topic: ERASURE_REQUESTS.events,
        settings.outcomes_topic: NOTIFICATION_OUTCOMES.events,
    }
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[dead_lettering(contracts, group=settings.group_id)],
    )
    publishers = {
        settings.order_status_topic: broker.publisher(
            settings.order_status_topic, schema=OrderStatusChanged
        ),
        settings.notifications_topic: broker.publisher(
            settings.notifications_topic, schema=NotificationRequested
        ),
    }

    async def publish(message: Outgoing) -> None:
        await publishers[message.topic].publish(message.value, key=message.key.encode())

    tracker = Tracker(
        store,
        topics=Topics(settings.order_status_topic, settings.notifications_topic),
        policies=load_policies(settings.shops_file),
        publish=publish,
        clock=clock or SystemClock(),
    )

    def subscriber(topic: str) -> DefaultSubscriber:
        return broker.subscriber(topic, group_id=settings.group_id, auto_offset_reset="earliest")

    @subscriber(settings.orders_topic)
    async def on_order_event(event: OrderEvent) -> None:
        """Apply the shop's fact; the offset is committed after its effects are published."""
        await tracker.handle(event)

    @subscriber(settings.shipments_topic)
    async def on_shipment_event(event: ShipmentEvent) -> None:
        """Apply the courier's fact."""
        await tracker.handle(event)

    @subscriber(settings.erasure_topic)
    async def on_erasure_requested(request: ErasureRequested) -> None:
        """Forget the customer's personal data."""
        erased = await tracker.erase(request)
        log.info("erasure request %s: %d order(s) erased", request.id, erased)

    @subscriber(settings.outcomes_topic)
    async def on_notification_outcome(outcome: NotificationOutcome) -> None:
        """Remember what became of a notification, for the timeline."""
        await timeline.record_outcome(outcome)

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await store.create_schema()
        yield
        await engine.dispose()

    app = AsgiFastStream(
        broker,
        asgi_routes=http.routes(
            broker_ping=broker.ping, engine=engine, timeline=timeline, token=settings.support_token
        ),
        lifespan=lifespan,
        specification=AsyncAPI(title="orderpulse status-tracker"),
    )
    timer_loop = _TimerLoop(tracker, settings.timer_interval_seconds)
    app.after_startup(tracker.flush_all)
    app.after_startup(timer_loop.start)
    app.on_shutdown(timer_loop.stop)
    return app


class _TimerLoop:
    """Fires due timers every few seconds while the app runs."""

    def __init__(self, tracker: Tracker, interval: float) -> None:
        self._tracker, self._interval = tracker, interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._tracker.fire_due_timers()
            except Exception:
                log.exception("firing timers failed; trying again in %s s", self._interval)
            await asyncio.sleep(self._interval)


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
