"""Produces a service's events from memory.

`KafkaProducer` goes straight through aiokafka: FastStream's publish path (middlewares, a
correlation id, headers built per message) cost more per event than all the rest of the
tracker's work. A poll's messages are appended to one record batch per partition (aiokafka's
own partitioner, so keys land where any of our producers puts them) and the batches' delivery is
awaited together. It is idempotent with `acks=all`, as the broker's own, so one key's records
keep their order. The values are CloudEvents in structured mode, as JSON.

`BrokerProducer` goes through FastStream's broker instead, so the in-memory test broker sees what
a service publishes; a service's `build_app` takes either.
"""

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY
from prometheus_client import Counter as Metric
from pydantic_core import to_json

from orderpulse_kit.message import Message

_HEADERS = [("content-type", b"application/json")]
_PUBLISHED = "orderpulse_published_messages_total"
_PARTITIONER = DefaultPartitioner()


class Producer(Protocol):
    """Where a service's outgoing events go; started and stopped with its app."""

    async def start(self) -> None:
        """Connect; before the consumer's first poll."""

    async def stop(self) -> None:
        """Send what is buffered, then disconnect; after the consumer stopped."""

    async def produce(self, messages: Sequence[Message]) -> None:
        """Hand every message over in order; return once Kafka has them all."""
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

    async def produce(self, messages: Sequence[Message]) -> None:
        """Append the messages to one batch per partition, in order; await every delivery."""
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        producer = self._producer
        partitions = {
            topic: sorted(await producer.partitions_for(topic))
            for topic in {message.topic for message in messages}
        }
        batches: dict[tuple[str, int], Any] = {}
        delivered: list[Awaitable[object]] = []
        for message in messages:
            key = message.key.encode()
            place = (message.topic, _PARTITIONER(key, partitions[message.topic], None))
            record = {"key": key, "value": to_json(message.value), "timestamp": None}
            batch = batches.get(place)
            if batch is None or batch.append(**record, headers=_HEADERS) is None:
                if batch is not None:  # full: on its way, and the next one opened
                    delivered.append(await producer.send_batch(batch, place[0], partition=place[1]))
                batch = batches[place] = producer.create_batch()
                batch.append(**record, headers=_HEADERS)  # a batch takes its first record always
        for (topic, partition), batch in batches.items():
            delivered.append(await producer.send_batch(batch, topic, partition=partition))
        await asyncio.gather(*delivered)
        for topic, count in Counter(message.topic for message in messages).items():
            self._counted.labels("orderpulse", "kafka", topic, "success").inc(count)


class BrokerProducer:
    """Produces through FastStream's broker, one message at a time."""

    def __init__(self, broker: KafkaBroker) -> None:
        self._broker = broker

    async def start(self) -> None:
        """Nothing to do: the broker connects itself."""

    async def stop(self) -> None:
        """Nothing to do: the broker disconnects itself."""

    async def produce(self, messages: Sequence[Message]) -> None:
        """Publish each message in turn, waiting for each."""
        for message in messages:
            await self._broker.publish(message.value, message.topic, key=message.key.encode())


def _published() -> Metric:
    """FastStream's counter of published messages, which its middleware shares the same way."""
    found = REGISTRY._names_to_collectors.get(_PUBLISHED)
    if isinstance(found, Metric):
        return found
    return Metric(
        _PUBLISHED,
        "Count of published messages by destination and status",
        ["app_name", "broker", "destination", "status"],
    )
