"""The services' `consumer` module against a real broker and FastStream's real subscriber: the
liveness it reads from the subscriber and the lag it reads from the group's offsets.

A consume task that dies is simulated the two ways FastStream does not restart one: cancelled,
and ended by its consumer being closed under it.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka import AIOKafkaProducer
from faststream import AckPolicy
from faststream.kafka import KafkaBroker

from orderpulse_devkit.kafka import create_topics
from orderpulse_kit import consumer

pytestmark = pytest.mark.kafka


@pytest.fixture
async def topic(kafka: str) -> str:
    name = f"consumer-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [name], partitions=2)
    return name


@pytest.fixture
async def gate() -> asyncio.Event:
    """Set to let the handler finish; until then it holds the first message, uncommitted."""
    return asyncio.Event()


@pytest.fixture
async def broker(kafka: str, topic: str, gate: asyncio.Event) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker(kafka, ack_policy=AckPolicy.ACK)

    @broker.subscriber(topic, group_id=f"group-{topic}", auto_offset_reset="earliest")
    async def handle() -> None:
        await gate.wait()

    yield broker
    gate.set()
    await broker.stop()


async def until(check: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_consuming_until_the_consume_task_is_cancelled(broker: KafkaBroker) -> None:
    assert not consumer.consuming(broker)  # not started yet
    await broker.start()
    assert consumer.consuming(broker)
    (subscriber,) = broker.subscribers
    for task in subscriber.tasks:  # type: ignore[attr-defined]
        task.cancel()
    await until(lambda: not consumer.consuming(broker))


async def test_not_consuming_once_the_consumer_is_closed_under_the_task(
    broker: KafkaBroker,
) -> None:
    await broker.start()
    (subscriber,) = broker.subscribers
    await subscriber.consumer.stop()  # type: ignore[attr-defined]
    await until(lambda: not consumer.consuming(broker))
    assert subscriber.running  # FastStream still thinks it runs: the task is what tells


async def test_lag_counts_what_the_group_has_not_committed_per_partition(
    kafka: str, broker: KafkaBroker, topic: str, gate: asyncio.Event
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        for partition, count in ((0, 3), (1, 2)):
            for _ in range(count):
                await producer.send_and_wait(topic, b"{}", partition=partition)
    finally:
        await producer.stop()
    await broker.start()
    group = f"group-{topic}"
    behind = {(group, topic, "0"): 3, (group, topic, "1"): 2}

    async def lag_becomes(expected: dict[tuple[str, str, str], int]) -> None:
        deadline = time.monotonic() + 30
        while (lag := await consumer.measure_lag(broker)) != expected:
            assert time.monotonic() < deadline, f"lag {lag}, expected {expected}"
            await asyncio.sleep(0.2)

    await lag_becomes(behind)  # the handler holds the first record: nothing is committed
    gate.set()
    await lag_becomes(dict.fromkeys(behind, 0))
