"""Dead letters as the integrator's catalogue describes them, and a record too large to copy."""

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import MessageSizeTooLargeError
from faststream.kafka import KafkaBroker

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import read_records
from orderpulse_kit import dead_letters
from orderpulse_schemas import export


def test_readme_dead_letter_headers_are_the_ones_the_consumers_write() -> None:
    readme = (export.PROJECT / "README.md").read_text(encoding="utf-8")
    headers = (
        dead_letters.REASON,
        dead_letters.SOURCE_TOPIC,
        dead_letters.SOURCE_PARTITION,
        dead_letters.SOURCE_OFFSET,
        dead_letters.CONSUMER_GROUP,
    )

    assert all(f"| `{header}` |" in readme for header in headers)


class Broker:
    """Publishes like the Kafka producer would, refusing values over `limit` bytes."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.published: list[dict[str, Any]] = []

    async def publish(self, value: bytes | None, **sent: Any) -> None:
        if len(value or b"") > self.limit:
            raise MessageSizeTooLargeError("The message is too large")
        self.published.append({"value": value, **sent})


def record(value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic="orders.v1",
        partition=2,
        offset=41,
        timestamp=0,
        timestamp_type=0,
        key=b"ord-1",
        value=value,
        checksum=None,
        serialized_key_size=5,
        serialized_value_size=len(value),
        headers=[],
    )


async def test_a_record_that_fits_is_copied_whole() -> None:
    broker = Broker(limit=100)

    await dead_letters.dead_letter(broker, record(b"{not json"), "not valid JSON: x", group="g")

    [sent] = broker.published
    assert (sent["value"], sent["topic"], sent["key"]) == (b"{not json", "orders.v1.dlq", b"ord-1")
    assert sent["headers"] == {
        dead_letters.REASON: "not valid JSON: x",
        dead_letters.SOURCE_TOPIC: "orders.v1",
        dead_letters.SOURCE_PARTITION: "2",
        dead_letters.SOURCE_OFFSET: "41",
        dead_letters.CONSUMER_GROUP: "g",
    }


async def test_a_record_too_large_to_copy_is_dead_lettered_as_a_reference(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = Broker(limit=100)
    value = b'{"email": "jane@example.com", "pad": "' + b"x" * 200 + b'"}'

    await dead_letters.dead_letter(broker, record(value), "not valid JSON: x", group="g")

    [sent] = broker.published
    assert (sent["value"], sent["topic"], sent["key"]) == (b"", "orders.v1.dlq", b"ord-1")
    headers = sent["headers"]
    assert headers[dead_letters.COPY] == dead_letters.REFERENCE
    assert headers[dead_letters.SIZE] == str(len(value))
    assert headers[dead_letters.REASON].startswith("not valid JSON: x")
    assert "too large" in headers[dead_letters.REASON]
    assert "orders.v1[2]@41" in headers[dead_letters.REASON]
    assert (
        headers[dead_letters.SOURCE_TOPIC],
        headers[dead_letters.SOURCE_PARTITION],
        headers[dead_letters.SOURCE_OFFSET],
        headers[dead_letters.CONSUMER_GROUP],
    ) == ("orders.v1", "2", "41", "g")
    assert "too large" in caplog.text
    assert "jane@example.com" not in caplog.text


@pytest.mark.kafka
async def test_on_a_real_broker_a_record_over_the_producers_limit_lands_as_a_reference(
    kafka: str,
) -> None:
    topic = f"orders.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [topic, f"{topic}.dlq"])
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"x" * 64_000, key=b"ord-1")
    finally:
        await producer.stop()
    async with asyncio.timeout(30):
        [consumed] = await read_records(kafka, topic, 1)
    # The dead letters' producer allows less than the record plus headers, as 1 MiB does for a
    # record near a topic's larger max.message.bytes.
    broker = KafkaBroker(kafka, max_request_size=16_384)
    await broker.connect()
    try:
        await dead_letters.dead_letter(broker, consumed, "could not be handled: X", group="g")
    finally:
        await broker.stop()

    async with asyncio.timeout(30):
        [reference] = await read_records(kafka, f"{topic}.dlq", 1)
    headers = {name: value.decode() for name, value in reference.headers}
    assert (reference.key, reference.value) == (b"ord-1", b"")
    assert headers[dead_letters.COPY] == dead_letters.REFERENCE
    assert headers[dead_letters.SIZE] == "64000"
    assert headers[dead_letters.REASON].startswith("could not be handled: X")
    assert (headers[dead_letters.SOURCE_TOPIC], headers[dead_letters.SOURCE_OFFSET]) == (
        topic,
        str(consumed.offset),
    )
