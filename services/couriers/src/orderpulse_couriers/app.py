"""Composition root: the couriers service's Kafka consumer, carrier webhooks and HTTP probes."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers import http
from orderpulse_couriers.carriers.packeta_api import PacketaApi
from orderpulse_couriers.migrate import MIGRATIONS
from orderpulse_couriers.poll_queue import SqlPollQueue
from orderpulse_couriers.poller import Poller
from orderpulse_couriers.service import Couriers, CouriersInput
from orderpulse_couriers.settings import Settings
from orderpulse_couriers.store import SqlParcelStore
from orderpulse_kit import chores
from orderpulse_kit.app import Runtime
from orderpulse_kit.producer import ProducerFor
from orderpulse_schemas.shipments import ShipmentEvent
from orderpulse_schemas.topics import ORDERS, SHIPMENTS

log = logging.getLogger(__name__)
_ROUND = 100
"""Parcels asked about in one round of polls: one read, one publish, one save for them all."""


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

    clock = now or (lambda: datetime.now(UTC))
    store = SqlParcelStore(runtime.engine)
    service = Couriers(store, publish=publish, now=clock)
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
    app = runtime.app(
        title="orderpulse couriers",
        migrations=MIGRATIONS,
        routes=http.routes(hear=service.hear, trust_any_sender=settings.inpost_trust_any_sender),
    )
    _poll_packeta(app, settings, SqlPollQueue(runtime.engine), service, clock)
    keep = timedelta(days=settings.forget_after_days)
    chores.every(app, 3600, lambda: service.forget_old(keep), "forgetting old parcels")
    return app


def _poll_packeta(
    app: AsgiFastStream,
    settings: Settings,
    queue: SqlPollQueue,
    service: Couriers,
    now: Callable[[], datetime],
) -> None:
    """Poll Packeta for the shops with an API password, or say at start-up why it is not."""
    passwords = settings.packeta_api_passwords
    if not passwords:
        log.warning(
            "Packeta is not polled: COURIERS_PACKETA_API_PASSWORDS names no shop. Packeta "
            "parcels are followed, and polled once it holds the shop's API password "
            '(a JSON object from a Secret: {"<shop id>": "<API password>"}).'
        )
        return
    packeta = PacketaApi(
        url=settings.packeta_api_url, requests_per_second=settings.packeta_requests_per_second
    )
    poller = Poller(
        "packeta",
        packeta,
        passwords,
        queue=queue,
        couriers=service,
        schedule=settings.packeta_schedule,
        now=now,
        round_size=_ROUND,
        # Longer than a round takes at the rate limit: a parcel is never taken twice at once.
        lease=timedelta(seconds=max(600.0, 3 * _ROUND / settings.packeta_requests_per_second)),
    )
    looks = min(5.0, settings.packeta_poll_seconds)
    chores.every(app, looks, poller.poll_due, "polling Packeta")
    app.on_shutdown(packeta.close)  # after the chore stopped
    log.info("Packeta is polled for %d shop(s): %s", len(passwords), ", ".join(sorted(passwords)))


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
