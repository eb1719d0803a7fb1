"""Composition root: the returns service's Kafka consumer, reminder loop and HTTP probes."""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated

from faststream.asgi import AsgiFastStream
from pydantic import Field
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import batch, chores
from orderpulse_kit.app import new_app, new_broker
from orderpulse_kit.database import connect
from orderpulse_kit.dead_letters import dead_letter
from orderpulse_kit.message import Message
from orderpulse_kit.producer import KafkaProducer, ProducerFor
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
    engine = engine or connect(settings.database_url.get_secret_value())
    broker = new_broker(settings.kafka_bootstrap_servers, log)
    # What the service publishes, for the AsyncAPI document; it produces through `producing`.
    broker.publisher(settings.notifications_topic, schema=NotificationRequested)
    producing = (producer or (lambda _: KafkaProducer(settings.kafka_bootstrap_servers)))(broker)

    async def publish(requests: Sequence[NotificationRequested]) -> None:
        await producing.produce(
            [
                Message(
                    settings.notifications_topic,
                    request.subject,
                    request.model_dump(mode="json", exclude_none=True),
                )
                for request in requests
            ]
        )

    async def dead_lettered(record: batch.Record, reason: str) -> None:
        await dead_letter(broker, record, reason, group=settings.group_id)

    service = Returns(
        SqlReturnsStore(engine),
        policies=load_policies(settings.shops_file),
        publish=publish,
        dead_letter=dead_lettered,
        now=now or (lambda: datetime.now(UTC)),
    )
    # One consumer reads the three topics: one group member, fewer rebalances.
    batch.subscribe(
        broker,
        {
            settings.order_status_topic: ORDER_STATUS.events,
            settings.returns_topic: RETURNS.events,
            settings.erasure_topic: ERASURE_REQUESTS.events,
        },
        service.handle,
        group_id=settings.group_id,
        poll=settings.poll,
        documented=Annotated[ReturnsInput, Field(discriminator="type")],
        name="on_event",
    )
    app = new_app(
        broker,
        engine,
        title="orderpulse returns",
        log=log,
        migrations=MIGRATIONS,
        migrate_on_start=settings.migrate_on_start,
        producer=producing,
    )
    chores.every(app, settings.reminder_interval_seconds, service.remind_due, "sending reminders")
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
