"""Composition root: the returns service's Kafka consumer, reminder loop and HTTP routes."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import REGISTRY
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores, consumer
from orderpulse_kit.database import connect
from orderpulse_kit.dead_letters import dead_letter, dead_lettering
from orderpulse_returns import http
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.service import NoReturnsPolicy, Returns
from orderpulse_returns.settings import Settings
from orderpulse_returns.shops import load_policies
from orderpulse_returns.store import SqlReturnsStore
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.returns import (
    ReturnLabelIssued,
    ReturnReceived,
    ReturnRefunded,
    ReturnRejected,
    ReturnRequested,
)
from orderpulse_schemas.status import OrderStatusChanged
from orderpulse_schemas.topics import ERASURE_REQUESTS, ORDER_STATUS, RETURNS

log = logging.getLogger(__name__)

# One consumer reads the three topics: one group member, fewer rebalances.
ReturnsInput = Annotated[
    OrderStatusChanged
    | ReturnRequested
    | ReturnLabelIssued
    | ReturnReceived
    | ReturnRefunded
    | ReturnRejected
    | ErasureRequested,
    Field(discriminator="type"),
]


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    now: Callable[[], datetime] | None = None,
) -> AsgiFastStream:
    """The returns service: arrivals and return steps in; notification requests out."""
    engine = engine or connect(settings.database_url.get_secret_value())
    store = SqlReturnsStore(engine)
    contracts = {
        settings.order_status_topic: ORDER_STATUS.events,
        settings.returns_topic: RETURNS.events,
        settings.erasure_topic: ERASURE_REQUESTS.events,
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
    notifications = broker.publisher(settings.notifications_topic, schema=NotificationRequested)

    async def publish(request: NotificationRequested) -> None:
        value = request.model_dump(mode="json", exclude_none=True)
        await notifications.publish(value, key=request.subject.encode())

    service = Returns(
        store,
        policies=load_policies(settings.shops_file),
        publish=publish,
        now=now or (lambda: datetime.now(UTC)),
    )

    @broker.subscriber(
        settings.order_status_topic,
        settings.returns_topic,
        settings.erasure_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
    )
    async def on_event(event: ReturnsInput, message: KafkaMessage) -> None:
        """Start a withdrawal period, announce a return's step or forget a customer; then commit.

        A return of a shop without a returns policy is dead-lettered, to replay once it has one.
        """
        if isinstance(event, OrderStatusChanged):
            await service.on_status(event)
        elif isinstance(event, ErasureRequested):
            erased = await service.erase(event)
            log.info("erasure request %s: %d order(s) erased", event.id, erased)
        else:
            try:
                await service.on_return(event)
            except NoReturnsPolicy as error:
                await dead_letter(broker, message.raw_message, str(error), group=settings.group_id)

    app = AsgiFastStream(
        broker,
        logger=log,
        asgi_routes=http.routes(
            consuming=lambda: consumer.consuming(broker), broker_ping=broker.ping, engine=engine
        ),
        specification=AsyncAPI(title="orderpulse returns"),
    )

    @app.on_startup
    async def schema() -> None:
        await MIGRATIONS.at_start(engine, migrate=settings.migrate_on_start)

    chores.every(app, settings.reminder_interval_seconds, service.remind_due, "sending reminders")
    app.after_shutdown(engine.dispose)
    consumer.report_lag(app, broker)
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
