"""Composition root: the notifier's Kafka app, wired from settings."""

from datetime import UTC, datetime

from faststream import AckPolicy, FastStream
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_notifier.adapters.outbox import OutboxSender
from orderpulse_notifier.database import connect
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.service import Notifier
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.shops import load_shops
from orderpulse_notifier.store import SqlDeliveryStore
from orderpulse_schemas.dead_letters import dead_lettering
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import NotificationOutcome
from orderpulse_schemas.topics import NOTIFICATIONS


def build_app(settings: Settings, *, engine: AsyncEngine | None = None) -> FastStream:
    """The notifier: consumes notification requests, sends them, publishes outcomes."""
    engine = engine or connect(settings.database_url)
    store = SqlDeliveryStore(engine)
    outbox = OutboxSender(settings.outbox_dir)
    notifier = Notifier(
        shops=load_shops(settings.shops_file),
        renderer=Renderer(settings.template_overrides),
        email=outbox,
        sms=outbox,
        store=store,
        now=lambda: datetime.now(UTC),
    )
    broker = KafkaBroker(
        settings.kafka_bootstrap_servers,
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[
            dead_lettering(
                {settings.notifications_topic: NOTIFICATIONS.events}, group=settings.group_id
            )
        ],
    )

    outcomes = broker.publisher(settings.outcomes_topic, schema=NotificationOutcome)

    @broker.subscriber(
        settings.notifications_topic, group_id=settings.group_id, auto_offset_reset="earliest"
    )
    async def on_notification_requested(request: NotificationRequested) -> None:
        """Send, then publish outcomes; the offset is committed after."""
        for outcome in await notifier.handle(request):
            await outcomes.publish(
                outcome.model_dump(mode="json", exclude_none=True), key=outcome.subject.encode()
            )

    app = FastStream(broker, specification=AsyncAPI(title="orderpulse notifier"))
    app.on_startup(store.create_schema)
    app.after_shutdown(engine.dispose)
    return app


def create_app() -> FastStream:
    """Entry point for `faststream run|docs --factory`: settings from the environment."""
    return build_app(Settings())
