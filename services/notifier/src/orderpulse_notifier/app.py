"""Composition root: the notifier's Kafka consumers, deferred-text loop and HTTP routes.

Requests are taken in batches and handled concurrently (each order's in sequence), so a slow
provider's latency overlaps instead of adding up; the batch's offsets are committed only after
every request in it is done (at-least-once; the delivery store makes sends idempotent). Erasure
requests have a consumer of their own, one at a time.
"""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from aiolimiter import AsyncLimiter
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores, consumer
from orderpulse_kit.database import connect
from orderpulse_kit.dead_letters import dead_letter, dead_lettering, why_unreadable
from orderpulse_notifier import http, metrics
from orderpulse_notifier.migrate import MIGRATIONS
from orderpulse_notifier.providers import Providers, confirm_subscription, providers_from
from orderpulse_notifier.receipts import Receipt
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.service import Handled, Notifier, Retry
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.shops import load_shops
from orderpulse_notifier.store import SqlDeliveryStore
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import NotificationOutcome
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATIONS

log = logging.getLogger(__name__)

KEEP_REQUESTS_FOR_RECEIPTS = timedelta(days=3)


def build_app(
    settings: Settings,
    *,
    engine: AsyncEngine | None = None,
    now: Callable[[], datetime] | None = None,
    providers: Providers | None = None,
) -> AsgiFastStream:
    """The notifier: notification requests in; messages to providers, outcomes out."""
    engine = engine or connect(settings.database_url.get_secret_value())
    store = SqlDeliveryStore(engine)
    providers = providers or providers_from(settings)
    notifier = Notifier(
        shops=load_shops(settings.shops_file),
        renderer=Renderer(settings.template_overrides),
        email=providers.email,
        sms=providers.sms,
        store=store,
        now=now or (lambda: datetime.now(UTC)),
        retry=Retry(
            attempts=settings.retry_attempts,
            initial_seconds=settings.retry_initial_seconds,
            max_seconds=settings.retry_max_seconds,
            timeout_seconds=settings.send_timeout_seconds,
        ),
        lease=timedelta(seconds=settings.lease_seconds),
        limits={
            channel: AsyncLimiter(rate, 1)
            for channel, rate in providers.rates.items()
            if rate is not None
        },
        sms_receipts=providers.twilio_receipts is not None,
    )
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        logger=log,  # FastStream's own loggers do not propagate to the JSON handler
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="orderpulse")],
    )
    outcomes = broker.publisher(settings.outcomes_topic, schema=NotificationOutcome)

    async def publish(handled: Handled, caused_at: Mapping[str, datetime] | None = None) -> None:
        metrics.observe(handled.outcomes, caused_at or {})
        sending = [
            await outcomes.publish(
                outcome.model_dump(mode="json", exclude_none=True),
                key=outcome.subject.encode(),
                no_confirm=True,
            )
            for outcome in handled.outcomes
        ]
        # Handed over one by one (one order's outcomes stay in order), acknowledged together;
        # the in-memory test broker confirms at once and hands back nothing to await.
        await asyncio.gather(*(ack for ack in sending if ack is not None))

    async def readable(message: KafkaMessage) -> list[Any]:
        """The batch's valid requests; each unreadable one is dead-lettered with its reason."""
        valid = []
        for record in message.raw_message:
            reason = why_unreadable(record.value, NOTIFICATIONS.events)
            if reason is None:
                valid.append(json.loads(record.value))
            else:
                await dead_letter(broker, record, reason, group=settings.group_id)
        return valid

    @broker.subscriber(
        settings.notifications_topic,
        group_id=settings.group_id,
        auto_offset_reset="earliest",
        batch=True,
        max_records=settings.batch_size,
        decoder=readable,
    )
    async def on_notification_requests(
        requests: list[NotificationRequested], message: KafkaMessage
    ) -> None:
        """Send, publish the outcomes, dead-letter what outlasted its retries; then commit."""
        handled = await notifier.handle_all(requests)
        await publish(handled, {request.data.notification_id: request.time for request in requests})
        gave_up = {channel.request.id: channel.reason for channel in handled.gave_up}
        for record in message.raw_message if gave_up else ():
            event_id = _event_id(record.value)
            if event_id in gave_up:
                reason = f"retries exhausted: {gave_up.pop(event_id)}"
                await dead_letter(broker, record, reason, group=settings.group_id)

    # Erasures get a consumer and a group of their own. Members of one group subscribed to
    # different topics are assigned unevenly (round-robin skips a member not subscribed to a
    # partition's topic: one replica could get most notification partitions), and every erasure
    # consumer joining or leaving would pause the notification consumers for a rebalance.
    # The shared dead-lettering middleware reads one record per message, so it wraps only this
    # router (the batch subscriber dead-letters in its decoder). A router's subscriber does not
    # take the broker's ack policy, so it gets its own: else it would commit before handling.
    erasures = KafkaRouter()

    @erasures.subscriber(
        settings.erasure_topic,
        group_id=settings.erasure_group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
    )
    async def on_erasure_request(request: ErasureRequested) -> None:
        """Forget a customer; their waiting messages fail, told as failed. Then commit."""
        erased, handled = await notifier.erase(request)
        await publish(handled)
        log.info(
            "erasure request %s: %d order(s) erased, %d deferred delivery(ies) failed",
            request.id,
            erased,
            len(handled.outcomes),
        )

    broker.include_router(
        erasures,
        middlewares=[
            dead_lettering(
                {settings.erasure_topic: ERASURE_REQUESTS.events}, group=settings.erasure_group_id
            )
        ],
    )

    async def on_receipt(receipt: Receipt) -> None:
        await publish(await notifier.on_receipt(receipt))

    async def failing() -> str | None:
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return "database"
        return None if await broker.ping(3.0) else "kafka"

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await MIGRATIONS.at_start(engine, migrate=settings.migrate_on_start)
        yield
        await providers.aclose()
        await engine.dispose()

    app = AsgiFastStream(
        broker,
        logger=log,
        asgi_routes=http.routes(
            consuming=lambda: consumer.consuming(broker),
            failing=failing,
            on_receipt=on_receipt,
            twilio=providers.twilio_receipts,
            sns=providers.sns_receipts,
            confirm_subscription=confirm_subscription,
        ),
        lifespan=lifespan,
        specification=AsyncAPI(title="orderpulse notifier"),
    )
    interval = settings.deferred_interval_seconds
    chores.every(app, interval, lambda: _send_due(notifier, publish), "sending deferred messages")
    chores.every(
        app,
        interval,
        lambda: notifier.forget_kept_requests(KEEP_REQUESTS_FOR_RECEIPTS),
        "forgetting kept requests",
    )
    consumer.report_lag(app, broker)
    return app


async def _send_due(notifier: Notifier, publish: Callable[[Handled], Awaitable[None]]) -> None:
    await publish(await notifier.send_due())


def _event_id(value: bytes) -> str | None:
    try:
        found = json.loads(value).get("id")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, str) else None


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
