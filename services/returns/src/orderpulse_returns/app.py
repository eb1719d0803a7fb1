"""Composition root: the returns service's Kafka consumer, reminder loop and HTTP probes."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores
from orderpulse_kit.app import Runtime
from orderpulse_kit.producer import ProducerFor
from orderpulse_kit.shops import load_shops
from orderpulse_returns.migrate import MIGRATIONS
from orderpulse_returns.service import Returns, ReturnsInput
from orderpulse_returns.settings import Settings
from orderpulse_returns.shops import load_policies
from orderpulse_returns.store import SqlReturnsStore
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.topics import ERASURE_REQUESTS, ORDER_STATUS, RETURNS

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    now: Callable[[], datetime] | None = None,
    producer: ProducerFor | None = None,
) -> AsgiFastStream:
    """The returns service: arrivals and return steps in; notification requests out."""
    runtime = Runtime(settings, log, engine=engine, producer=producer)
    publish = runtime.publisher(settings.notifications_topic, NotificationRequested)

    service = Returns(
        SqlReturnsStore(runtime.engine),
        shops=frozenset(load_shops(settings.shops_file)),
        policies=load_policies(settings.shops_file),
        publish=publish,
        dead_letter=runtime.dead_letter,
        now=now or (lambda: datetime.now(UTC)),
    )
    # One consumer reads the three topics: one group member, fewer rebalances.
    runtime.consume(
        {
            settings.order_status_topic: ORDER_STATUS.events,
            settings.returns_topic: RETURNS.events,
            settings.erasure_topic: ERASURE_REQUESTS.events,
        },
        service.handle,
        documented=Annotated[ReturnsInput, Field(discriminator="type")],
        name="on_event",
    )
    app = runtime.app(title="orderpulse returns", migrations=MIGRATIONS)
    chores.every(app, settings.reminder_interval_seconds, service.remind_due, "sending reminders")
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
