"""Give tests and the demo a Kafka bootstrap address: from the env, Docker, or local jars.

Order: ``KAFKA_BOOTSTRAP_SERVERS`` as is; testcontainers' ``cp-kafka`` in KRaft mode when a
Docker engine answers; otherwise Apache Kafka's Maven Central jars run by Java
(``kafka_local``). ``python -m orderpulse_devkit.kafka start|stop|status --workdir DIR``
runs the local broker detached for the demo (see ``kafka_cli``).
"""

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orderpulse_devkit.docker_engine import docker_engine_answers
from orderpulse_devkit.kafka_admin import create_topics, wait_for_kafka
from orderpulse_devkit.kafka_local import LocalKafkaBroker

if TYPE_CHECKING:
    from testcontainers.community.kafka import KafkaContainer

__all__ = ["CONFLUENT_IMAGE", "LocalKafkaBroker", "create_topics", "kafka_bootstrap"]

CONFLUENT_IMAGE = "confluentinc/cp-kafka:7.6.0"


@asynccontextmanager
async def kafka_bootstrap(
    workdir: Path,
    *,
    port: int | None = None,
    controller_port: int | None = None,
    partitions: int = 3,
    start_timeout: float = 90.0,
) -> AsyncIterator[str]:
    """Yield ``host:port`` of a ready broker and stop it afterwards if this call started it.

    ``workdir`` holds the local broker's config, data and log; the ports apply to it only
    (free ports when omitted, ``controller_port`` defaults to ``port + 1``).
    """
    if external := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield external
    elif await asyncio.to_thread(docker_engine_answers):
        async with _kafka_container(partitions) as bootstrap:
            yield bootstrap
    else:
        broker = LocalKafkaBroker(
            workdir,
            port=port,
            controller_port=controller_port,
            partitions=partitions,
            start_timeout=start_timeout,
        )
        launched = await broker.start()
        try:
            yield broker.bootstrap
        finally:
            if launched:
                await broker.stop()


@asynccontextmanager
async def _kafka_container(partitions: int) -> AsyncIterator[str]:
    container = await asyncio.to_thread(_start_container, partitions)
    try:
        bootstrap: str = container.get_bootstrap_server()
        async with asyncio.timeout(60):
            await wait_for_kafka(bootstrap)
        yield bootstrap
    finally:
        await asyncio.to_thread(container.stop)


def _start_container(partitions: int) -> "KafkaContainer":
    from testcontainers.community.kafka import KafkaContainer

    container = (
        KafkaContainer(CONFLUENT_IMAGE)
        .with_kraft()
        .with_env("KAFKA_NUM_PARTITIONS", str(partitions))
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")
    )
    return container.start()


if __name__ == "__main__":
    from orderpulse_devkit.kafka_cli import main

    raise SystemExit(main())
