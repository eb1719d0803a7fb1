"""Composition root: the notifier's Kafka consumers, deferred-text loop and HTTP routes.

Requests are read in polls on the kit's batch loop: a poll's channels are claimed together, sent
concurrently (an order's on each channel in order), their ends recorded together, their outcomes
produced from memory; then the offsets are committed (at least once; the delivery store makes
sends idempotent). Polls overlap (`poll_overlap`): one is sent while the one before waits for its
last answers, and each is committed once it and those before it are done. Erasure requests have
a consumer and a group of their own.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta

from aiolimiter import AsyncLimiter
from faststream.asgi import AsgiFastStream
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import chores
from orderpulse_kit.app import Runtime
from orderpulse_kit.batch import Received
from orderpulse_kit.isolation import unhandled
from orderpulse_kit.producer import ProducerFor
from orderpulse_notifier import http, metrics
from orderpulse_notifier.migrate import MIGRATIONS
from orderpulse_notifier.providers import Providers, confirm_subscription, providers_from
from orderpulse_notifier.receipts import Receipt
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.review_stops import review_stops
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
    producer: ProducerFor | None = None,
) -> AsgiFastStream:
    """The notifier: notification requests in; messages to providers, outcomes out."""
    runtime = Runtime(settings, log, engine=engine, producer=producer)
    publish_outcomes = runtime.publisher(settings.outcomes_topic, NotificationOutcome)
    providers = providers or providers_from(settings)
    shops = load_shops(settings.shops_file)
    reviews = review_stops(settings, shops, runtime.engine)
    renderer = Renderer(settings.template_overrides, reviews.links)
    notifier = Notifier(
        shops=shops,
        renderer=renderer,
        email=providers.email,
        sms=providers.sms,
        store=SqlDeliveryStore(runtime.engine),
        now=now or (lambda: datetime.now(UTC)),
        retry=Retry(
            attempts=settings.retry_attempts,
            initial_seconds=settings.retry_initial_seconds,
            max_seconds=settings.retry_max_seconds,
            timeout_seconds=settings.send_timeout_seconds,
        ),
        lease=timedelta(seconds=settings.lease_seconds),
        owner_timeout=timedelta(seconds=settings.owner_timeout_seconds),
        limits={
            channel: AsyncLimiter(rate, 1)
            for channel, rate in providers.rates.items()
            if rate is not None
        },
        in_flight=settings.max_in_flight,
        sms_receipts=providers.twilio_receipts is not None,
    )

    async def publish(handled: Handled, caused_at: Mapping[str, datetime] | None = None) -> None:
        metrics.observe(handled.outcomes, caused_at or {})
        await publish_outcomes(handled.outcomes)

    async def on_requests(received: Sequence[Received[NotificationRequested]]) -> None:
        """Send, publish the outcomes, dead-letter what outlasted its retries or could not be
        handled; then the poll is committed."""
        requests = await reviews.withhold([one.event for one in received])
        handled = await notifier.handle_all(requests)
        await publish(handled, {request.data.notification_id: request.time for request in requests})
        records = {one.event.id: one.record for one in received}
        for channel in handled.gave_up:
            reason = f"retries exhausted: {channel.reason}"
            await runtime.dead_letter(records[channel.request.id], reason)
        for request, error in handled.unhandled:
            await runtime.dead_letter(records[request.id], unhandled(error))

    runtime.consume(
        {settings.notifications_topic: NOTIFICATIONS.events},
        on_requests,
        documented=NotificationRequested,
        name="on_notification_requests",
        overlap=settings.poll_overlap,
        stopping=notifier.stop_sending,  # then the polls under way end, then the consumer stops
    )

    async def on_erasures(received: Sequence[Received[ErasureRequested]]) -> None:
        """Forget each customer; their waiting messages fail, told as failed; the outbox's
        copies of their messages go."""
        for one in received:
            erased, handled = await notifier.erase(one.event)
            await publish(handled)
            data, outbox = one.event.data, providers.outbox
            files = await outbox.forget(one.event.shopid, data.email, data.phone) if outbox else 0
            log.info(
                "erasure request %s: %d order(s) erased, %d deferred delivery(ies) failed, "
                "%d message(s) deleted from the outbox",
                one.event.id,
                erased,
                len(handled.outcomes),
                files,
            )

    # Erasures get a consumer and a group of their own. Members of one group subscribed to
    # different topics are assigned unevenly (round-robin skips a member not subscribed to a
    # partition's topic: one replica could get most notification partitions), and every erasure
    # consumer joining or leaving would pause the notification consumers for a rebalance.
    runtime.consume(
        {settings.erasure_topic: ERASURE_REQUESTS.events},
        on_erasures,
        documented=ErasureRequested,
        name="on_erasure_requests",
        group_id=settings.erasure_group_id,
    )

    async def on_receipt(receipt: Receipt) -> None:
        await publish(await notifier.on_receipt(receipt))

    async def send_due() -> None:
        await publish(await notifier.send_due())

    app = runtime.app(
        title="orderpulse notifier",
        migrations=MIGRATIONS,
        routes=http.routes(
            on_receipt=on_receipt,
            twilio=providers.twilio_receipts,
            sns=providers.sns_receipts,
            confirm_subscription=confirm_subscription,
        )
        + reviews.routes(now or (lambda: datetime.now(UTC))),
    )

    async def prepare_templates() -> None:
        """Before the first poll, not in it."""
        renderer.prepare(shops)

    app.on_startup(prepare_templates)
    app.after_shutdown(notifier.retire)  # its poll is over: nothing of it is pending
    app.after_shutdown(providers.aclose)
    chores.every(app, settings.owner_timeout_seconds / 3, notifier.keep_alive, "saying alive")
    interval = settings.deferred_interval_seconds
    chores.every(app, interval, send_due, "sending deferred messages")
    chores.every(
        app,
        interval,
        lambda: notifier.forget_kept_requests(KEEP_REQUESTS_FOR_RECEIPTS),
        "forgetting kept requests",
    )
    return app


def create_app() -> AsgiFastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
