"""Composition root: the couriers service's Kafka consumer, carrier webhooks and HTTP probes."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers import http
from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.service import Couriers, CouriersInput
from orderpulse_couriers.settings import Settings
from orderpulse_couriers.store import SqlParcelStore
from orderpulse_kit.app import Runtime
from orderpulse_kit.producer import ProducerFor
from orderpulse_schemas.shipments import ShipmentEvent
from orderpulse_schemas.topics import ORDERS, SHIPMENTS

log = logging.getLogger(__name__)


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    now: Callable[[], datetime] | None = None,
    producer: ProducerFor | None = None,
) -> AsgiFastStream:
    """The couriers service: dispatches and orders in, carriers' webhooks in, shipments out."""
    runtime = Runtime(settings, log, engine=engine, producer=producer)
    publish = runtime.publisher(settings.shipments_topic, ShipmentEvent)

    service = Couriers(
        SqlParcelStore(runtime.engine), publish=publish, now=now or (lambda: datetime.now(UTC))
    )
    # One consumer reads both topics: one group member, fewer rebalances.
    runtime.consume(
        {settings.orders_topic: ORDERS.events, settings.shipments_topic: SHIPMENTS.events},
        service.handle,
        documented=Annotated[CouriersInput, Field(discriminator="type")],
        name="on_event",
    )
    if settings.inpost_trust_any_sender:
        log.warning(
            "COURIERS_INPOST_TRUST_ANY_SENDER is on: InPost webhooks are taken from ANY address, "
            "so anyone who can reach this service can make it tell customers anything. "
            "For local runs and tests only."
        )
    return runtime.app(
        title="orderpulse couriers",
        migrations=MIGRATIONS,
        routes=http.routes(hear=service.hear, trust_any_sender=settings.inpost_trust_any_sender),
    )


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
