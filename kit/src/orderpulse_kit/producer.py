"""Produces a service's events from memory.

`KafkaProducer` goes straight through aiokafka: FastStream's publish path (middlewares, a
correlation id, headers built per message) cost more per event than all the rest of the
tracker's work. It is idempotent with `acks=all`, as the broker's own, so one key's records keep
their order; `send` returns once the record is handed over, with an awaitable for Kafka's
acknowledgement, so a poll's messages are awaited together. The values are CloudEvents in
structured mode, as JSON.

`BrokerProducer` goes through FastStream's broker instead, so the in-memory test broker sees what
a service publishes; a service's `build_app` takes either.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY, Counter
from pydantic_core import to_json

_HEADERS = [("content-type", b"application/json")]
_PUBLISHED = "orderpulse_published_messages_total"


class Producer(Protocol):
    """Where a service's outgoing events go; started and stopped with its app."""

    async def start(self) -> None:
        """Connect; before the consumer's first poll."""

    async def stop(self) -> None:
        """Send what is buffered, then disconnect; after the consumer stopped."""

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> Awaitable[object]:
        """Hand `value` (JSON-ready) over; the awaitable completes when Kafka has it."""
        ...


ProducerFor = Callable[[KafkaBroker], Producer]
"""Makes the producer of a service whose consumer is `broker` (`BrokerProducer` in tests on the
in-memory broker); a service's default is a `KafkaProducer` to its settings' servers."""


class KafkaProducer:
    """Produces through an aiokafka producer of its own."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._producer: AIOKafkaProducer | None = None
        self._counted = _published()

    async def start(self) -> None:
        """Connect; before the consumer's first poll."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers, enable_idempotence=True, acks="all"
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Send what is buffered, then disconnect; after the consumer stopped."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> Awaitable[object]:
        """Hand `value` (JSON-ready) to the producer; the awaitable completes when Kafka has it."""
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        future: Awaitable[object] = await self._producer.send(
            topic, to_json(value), key=key.encode(), headers=_HEADERS
        )
        self._counted.labels("orderpulse", "kafka", topic, "success").inc()
        return future


class BrokerProducer:
    """Produces through FastStream's broker, one message at a time, awaiting each."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        """Nothing to do: the broker connects itself."""

    async def stop(self) -> None:
        """Nothing to do: the broker disconnects itself."""

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> Awaitable[object]:
        """Publish `value` and wait for it; the awaitable returned is already done."""
        await self._broker.publish(value, topic, key=key.encode())
        return asyncio.sleep(0)


def _published() -> Counter:
    """FastStream's counter of published messages, which its middleware shares the same way."""
    found = REGISTRY._names_to_collectors.get(_PUBLISHED)
    if isinstance(found, Counter):
        return found
    return Counter(
        _PUBLISHED,
        "Count of published messages by destination and status",
        ["app_name", "broker", "destination", "status"],
    )
