"""The skeleton every service is wired into, from its settings: its broker, database engine and
producer; its consumer of polls; its ASGI app with probes and metrics, a lost database refused and
migrations run at start-up, the producer and engine closed at the end, consumer lag on
`/metrics`."""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import REGISTRY
from pydantic import TypeAdapter
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import batch, consumer, probes
from orderpulse_kit.database import connect
from orderpulse_kit.dead_letters import dead_letter
from orderpulse_kit.lost_database import refuse_a_lost_database
from orderpulse_kit.message import Message
from orderpulse_kit.migrations import Migrations
from orderpulse_kit.producer import KafkaProducer, Producer, ProducerFor
from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.envelope import CloudEvent

E = TypeVar("E")


class Runtime:
    """What a service runs on; its composition root wires its core and store into it."""

    def __init__(
        self,
        settings: ServiceSettings,
        log: logging.Logger,
        *,
        engine: AsyncEngine | None = None,
        producer: ProducerFor | None = None,
    ) -> None:
        """`engine` and `producer` replace the defaults in tests (e.g. `BrokerProducer` on the
        in-memory broker)."""
        self.settings, self.log = settings, log
        self.engine = engine or connect(settings.database_url.get_secret_value())
        # Consumers commit only after the work (and rewind on a transient error); the producer
        # of dead letters is idempotent; FastStream's Prometheus metrics.
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers,
            logger=log,  # FastStream's own loggers do not propagate to the JSON handler
            enable_idempotence=True,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="orderpulse")],
        )
        make = producer or (lambda _: KafkaProducer(settings.kafka_bootstrap_servers))
        self.producer: Producer = make(self.broker)
        self._on_shutdown: list[Callable[[], Awaitable[None]]] = []  # before the consumers stop

    def consume(
        self,
        contracts: Mapping[str, TypeAdapter[E]],
        handle: batch.Handler[E],
        *,
        documented: Any,
        name: str,
        group_id: str | None = None,
        overlap: int = 1,
        stopping: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        """Read the topics in `contracts` in polls (`batch.subscribe`) with the service's group,
        or `group_id`; `overlap` polls at once (`overlap.Overlap`). At shutdown, `stopping` is
        called (the handler winds down), then the polls under way end, before the consumer
        stops."""
        group = group_id or self.settings.group_id

        async def to_dead_letters(record: batch.Record, reason: str) -> None:
            await dead_letter(self.broker, record, reason, group=group)

        overlapping = batch.subscribe(
            self.broker,
            contracts,
            handle,
            group_id=group,
            poll=self.settings.poll,
            dead_letter=to_dead_letters,
            documented=documented,
            name=name,
            overlap=overlap,
        )
        if stopping is not None:
            self._on_shutdown.append(stopping)
        if overlapping is not None:
            self._on_shutdown.append(overlapping.stop)

    async def dead_letter(self, record: batch.Record, reason: str) -> None:
        """Copy `record` to its topic's dead-letter topic, with `reason` (the service's group)."""
        await dead_letter(self.broker, record, reason, group=self.settings.group_id)

    def publishes(self, topic: str, schema: Any) -> None:
        """Document in the AsyncAPI document that the service produces `schema` on `topic`."""
        self.broker.publisher(topic, schema=schema)

    def publisher(
        self, topic: str, schema: Any
    ) -> Callable[[Iterable[CloudEvent]], Awaitable[None]]:
        """What publishes events on `topic` (documented as `schema`): each keyed by its subject,
        its JSON without absent fields, produced together and awaited."""
        self.publishes(topic, schema)

        async def publish(events: Iterable[CloudEvent]) -> None:
            await self.producer.produce(
                [
                    Message(topic, event.subject, event.model_dump(mode="json", exclude_none=True))
                    for event in events
                ]
            )

        return publish

    def app(
        self, *, title: str, migrations: Migrations, routes: Sequence[tuple[str, ASGIApp]] = ()
    ) -> AsgiFastStream:
        """The service's app: probes, metrics and `routes` over HTTP; a lost database refused
        (`lost_database`), then the schema migrated (or checked) and the database marked as the
        group's before the broker starts, then the producer started; the producer stopped and
        the engine disposed of at the end, once the consumer stopped."""
        broker, engine, settings = self.broker, self.engine, self.settings

        @contextlib.asynccontextmanager
        async def lifespan() -> AsyncIterator[None]:
            try:
                # Before migrating: a refused database is left as it was found.
                await refuse_a_lost_database(settings, engine, migrations, broker)
                await migrations.at_start(engine, migrate=settings.migrate_on_start)
                await migrations.mark(engine, settings.group_id)
                yield
            finally:  # a refused start too
                await engine.dispose()

        app = AsgiFastStream(
            broker,
            logger=self.log,
            asgi_routes=[
                *probes.routes(
                    consuming=lambda: consumer.consuming(broker),
                    broker_ping=broker.ping,
                    engine=engine,
                ),
                *routes,
            ],
            lifespan=lifespan,
            specification=AsyncAPI(title=title),
        )
        app.on_startup(self.producer.start)
        for hook in self._on_shutdown:
            app.on_shutdown(hook)
        app.after_shutdown(self.producer.stop)
        consumer.report_lag(app, broker)
        return app
