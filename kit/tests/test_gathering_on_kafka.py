"""`batch.Poll.gather_ms` on a real broker: records arriving one by one are read in a few polls
when the broker gathers them, in about one poll each when it answers at the first record."""

import asyncio
import json
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from pydantic import TypeAdapter

from orderpulse_devkit.kafka import create_topics
from orderpulse_kit import batch

pytestmark = pytest.mark.kafka

RECORDS, APART = 30, 0.01  # a record every 10 ms: 100 a second, one by one


async def polls_taken(kafka: str, gather_ms: int) -> list[int]:
    """The size of each poll that read `RECORDS` records sent `APART` seconds apart."""
    topic = f"gathering-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [topic], partitions=1)
    sizes: list[int] = []

    async def handle(received: list[batch.Received[dict[str, int]]]) -> None:
        sizes.append(len(received))

    async def dead_letter(record: batch.Record, reason: str) -> None:
        raise AssertionError(reason)

    broker = KafkaBroker(kafka)
    batch.subscribe(
        broker,
        {topic: TypeAdapter(dict[str, int])},
        handle,
        group_id=f"group-{topic}",
        poll=batch.Poll(gather_ms=gather_ms),
        dead_letter=dead_letter,
        documented=dict,
        name="gathering",
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await broker.start()
    await producer.start()
    try:
        await asyncio.sleep(1)  # the group formed, the consumer waiting on an empty partition
        for n in range(RECORDS):
            await producer.send_and_wait(topic, json.dumps({"n": n}).encode())
            await asyncio.sleep(APART)
        deadline = time.monotonic() + 10
        while sum(sizes) < RECORDS:
            assert time.monotonic() < deadline, f"read {sum(sizes)} of {RECORDS}"
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        await broker.stop()
    return sizes


async def test_the_broker_gathers_records_into_fewer_polls(kafka: str) -> None:
    gathered = await polls_taken(kafka, gather_ms=300)
    at_once = await polls_taken(kafka, gather_ms=0)
    assert sum(gathered) == sum(at_once) == RECORDS
    # 30 records over about half a second, in 300 ms gatherings: two or three polls.
    assert len(gathered) <= 5, gathered
    assert len(gathered) < len(at_once), (gathered, at_once)


def test_no_gathering_leaves_kafka_s_own_fetch_settings() -> None:
    at_once, gathering = batch.Poll(gather_ms=0), batch.Poll(gather_ms=50)
    assert (at_once.fetch_max_wait_ms, at_once.fetch_min_bytes) == (500, 1)
    assert (gathering.fetch_max_wait_ms, gathering.fetch_min_bytes) == (50, batch.GATHER_BYTES)
