"""The catalogue's partitioner setting, checked with a librdkafka client (confluent-kafka) on the
real broker: its default, `consistent_random` (CRC32), puts one order's events on another
partition than the services' aiokafka (murmur2) does, so two producers of one shop on different
clients lose the order of its events; with `partitioner=murmur2_random` every key lands where
aiokafka puts it."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from confluent_kafka import KafkaError, Message, Producer

from orderpulse_devkit.kafka import create_topics

pytestmark = pytest.mark.kafka

PARTITIONS = 6
KEYS = ["ord-10045", *(f"ord-{number}" for number in range(20001, 20201))]
"""The example order and 200 more, each sent once by every client."""


@pytest.fixture
async def topic(kafka: str) -> str:
    name = f"orders.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [name], partitions=PARTITIONS)
    return name


async def aiokafka_partitions(kafka: str, topic: str) -> dict[str, int]:
    """Where the services' client (aiokafka, default partitioner) puts each key."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        sending = [await producer.send(topic, b"{}", key=key.encode()) for key in KEYS]
        return {key: (await sent).partition for key, sent in zip(KEYS, sending, strict=True)}
    finally:
        await producer.stop()


def librdkafka_partitions(kafka: str, topic: str, **config: Any) -> dict[str, int]:
    """Where a librdkafka producer with `config` puts each key, as the broker acknowledged it."""
    landed: dict[str, int] = {}

    def delivered(error: KafkaError | None, message: Message) -> None:
        key, partition = message.key(), message.partition()
        assert error is None and key is not None and partition is not None, error
        landed[key.decode()] = partition

    producer = Producer({"bootstrap.servers": kafka, "acks": "all", **config})
    for key in KEYS:
        producer.produce(topic, b"{}", key=key.encode(), on_delivery=delivered)
    assert producer.flush(30) == 0, "not every record was acknowledged"
    return landed


async def test_librdkafkas_default_puts_an_orders_events_elsewhere(kafka: str, topic: str) -> None:
    services = await aiokafka_partitions(kafka, topic)
    default = await asyncio.to_thread(librdkafka_partitions, kafka, topic)

    assert (services["ord-10045"], default["ord-10045"]) == (0, 1)
    elsewhere = [key for key in KEYS if default[key] != services[key]]
    assert len(elsewhere) > len(KEYS) // 2  # about 5 in 6 with 6 partitions


async def test_murmur2_random_puts_every_key_where_the_services_do(kafka: str, topic: str) -> None:
    services = await aiokafka_partitions(kafka, topic)
    documented = await asyncio.to_thread(
        librdkafka_partitions, kafka, topic, partitioner="murmur2_random"
    )

    assert documented == services
    assert len(set(services.values())) == PARTITIONS  # the keys spread over every partition
