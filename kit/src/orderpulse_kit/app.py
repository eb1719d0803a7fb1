"""The skeleton every service is wired into: its broker, its ASGI app with probes and metrics,
migrations at start-up, the engine closed at the end, consumer lag on `/metrics`."""

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.asgi.types import ASGIApp
from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.specification import AsyncAPI
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import consumer, probes
from orderpulse_kit.migrations import Migrations
from orderpulse_kit.producer import Producer


def new_broker(bootstrap_servers: str, log: logging.Logger) -> KafkaBroker:
    """A broker whose consumers commit only after the work (and rewind on an error), with an
    idempotent producer and FastStream's Prometheus metrics."""
    return KafkaBroker(
        bootstrap_servers,
        logger=log,  # FastStream's own loggers do not propagate to the JSON handler
        enable_idempotence=True,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        middlewares=[KafkaPrometheusMiddleware(registry=REGISTRY, metrics_prefix="orderpulse")],
    )


def new_app(
    broker: KafkaBroker,
    engine: AsyncEngine,
    *,
    title: str,
    log: logging.Logger,
    migrations: Migrations,
    migrate_on_start: bool,
    producer: Producer | None = None,
    routes: Sequence[tuple[str, ASGIApp]] = (),
    on_stop: Sequence[Callable[[], Awaitable[object]]] = (),
) -> AsgiFastStream:
    """The service's app: probes, metrics and `routes` over HTTP; the schema migrated (or
    checked) before the broker starts, then `producer` started; `on_stop`, the producer's stop
    and the engine's disposal at the end, once the consumer stopped."""

    @contextlib.asynccontextmanager
    async def lifespan() -> AsyncIterator[None]:
        await migrations.at_start(engine, migrate=migrate_on_start)
        yield
        for stop in on_stop:
            await stop()
        await engine.dispose()

    app = AsgiFastStream(
        broker,
        logger=log,
        asgi_routes=[
            *probes.routes(
                consuming=lambda: consumer.consuming(broker), broker_ping=broker.ping, engine=engine
            ),
            *routes,
        ],
        lifespan=lifespan,
        specification=AsyncAPI(title=title),
    )
    if producer is not None:
        app.on_startup(producer.start)
        app.after_shutdown(producer.stop)
    consumer.report_lag(app, broker)
    return app
