"""Replaying a dead-letter topic on a real broker: back where each record came from, once."""

import asyncio
import sys
import uuid
from asyncio.subprocess import PIPE
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import read_records
from orderpulse_kit import dead_letters
from orderpulse_kit.replay import REPLAYED_FROM, replay

pytestmark = pytest.mark.kafka


@pytest.fixture
async def topic(kafka: str) -> str:
    """A fresh source topic and its dead-letter topic."""
    name = f"orders.{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [name, f"{name}.dlq"])
    return name


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def dead_letter(producer: AIOKafkaProducer, topic: str, key: bytes, reason: str) -> None:
    """A record as a consumer dead-letters it: unchanged, with where it came from and why."""
    headers = [
        (dead_letters.REASON, reason.encode()),
        (dead_letters.SOURCE_TOPIC, topic.encode()),
        (dead_letters.CONSUMER_GROUP, b"status-tracker"),
    ]
    value = b'{"event": ' + key + b"}"
    await producer.send_and_wait(f"{topic}.dlq", value, key=key, headers=headers)


async def test_dead_letters_go_back_to_their_topic_once(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    for key in (b"ord-1", b"ord-2", b"ord-3"):
        await dead_letter(producer, topic, key, "database down: retries exhausted")

    listed = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}", dry_run=True)
    assert [letter.topic for letter in listed] == [topic] * 3
    assert {letter.reason for letter in listed} == {"database down: retries exhausted"}

    replayed = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}")
    assert len(replayed) == 3  # the dry run committed nothing
    async with asyncio.timeout(30):
        back = await read_records(kafka, topic, 3)
    assert sorted((r.key, r.value) for r in back) == [
        (key, b'{"event": ' + key + b"}") for key in (b"ord-1", b"ord-2", b"ord-3")
    ]
    assert {dict(r.headers)[REPLAYED_FROM].decode().split("@")[0] for r in back} <= {
        f"{topic}.dlq[{p}]" for p in range(3)
    }

    assert await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}") == []
    await dead_letter(producer, topic, b"ord-4", "not valid JSON")
    [later] = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}")
    assert later.reason == "not valid JSON"


async def test_a_record_that_is_not_a_dead_letter_stops_the_replay_before_anything_is_sent(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    await dead_letter(producer, topic, b"ord-1", "not valid JSON")
    await producer.send_and_wait(f"{topic}.dlq", b"stray", key=b"ord-1")

    with pytest.raises(ValueError, match="no dlq-topic header"):
        await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}")

    assert await end_offsets(kafka, topic) == [0, 0, 0]
    listed = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}", dry_run=True)
    assert [letter.topic for letter in listed] == [topic, None]  # nothing was committed


async def test_the_command_lists_places_and_reasons_but_never_values(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    await dead_letter(producer, topic, b"ord-1", "does not match the contract: data.items")
    command = [sys.executable, "-m", "orderpulse_kit.replay", f"{topic}.dlq", "--dry-run"]
    process = await asyncio.create_subprocess_exec(
        *command, "--bootstrap", kafka, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    [line] = out.decode().splitlines()
    assert line.startswith(f"{topic}.dlq[")
    assert line.endswith(f" -> {topic}: does not match the contract: data.items")
    assert "ord-1" not in out.decode()
    assert err.decode().strip() == f"would replay 1 record(s) from {topic}.dlq"


async def reference(producer: AIOKafkaProducer, topic: str, key: bytes) -> None:
    """A record too large to copy, dead-lettered as a reference to where it is."""
    headers = [
        (dead_letters.REASON, b"could not be handled: X (too large to copy (2000000 bytes), ...)"),
        (dead_letters.SOURCE_TOPIC, topic.encode()),
        (dead_letters.SOURCE_PARTITION, b"1"),
        (dead_letters.SOURCE_OFFSET, b"7"),
        (dead_letters.CONSUMER_GROUP, b"status-tracker"),
        (dead_letters.COPY, dead_letters.REFERENCE.encode()),
        (dead_letters.SIZE, b"2000000"),
    ]
    await producer.send_and_wait(f"{topic}.dlq", b"", key=key, headers=headers)


async def test_a_reference_to_a_record_too_large_to_copy_is_skipped_not_sent_back(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    await reference(producer, topic, b"ord-1")
    await dead_letter(producer, topic, b"ord-2", "not valid JSON")

    letters = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}")

    assert sorted((letter.reference, letter.topic) for letter in letters) == [
        (False, topic),
        (True, topic),
    ]
    async with asyncio.timeout(30):
        [back] = await read_records(kafka, topic, 1)
    assert (back.key, back.value) == (b"ord-2", b'{"event": ord-2}')
    assert sum(await end_offsets(kafka, topic)) == 1  # the empty reference was not sent
    assert await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}") == []  # committed


async def test_the_command_marks_and_counts_references_apart(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    await reference(producer, topic, b"ord-1")
    command = [sys.executable, "-m", "orderpulse_kit.replay", f"{topic}.dlq", "--dry-run"]
    process = await asyncio.create_subprocess_exec(
        *command, "--bootstrap", kafka, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    [line] = out.decode().splitlines()
    assert f" -> {topic} (reference, not replayed): could not be handled: X" in line
    assert err.decode().splitlines()[0] == f"would replay 0 record(s) from {topic}.dlq"
    assert err.decode().splitlines()[1].startswith("would skip 1 reference(s)")


async def end_offsets(kafka: str, topic: str) -> list[int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(3)]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    return [ends[tp] for tp in partitions]


async def test_one_record_dead_lettered_by_every_group_goes_back_once(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    """Like `erasure-requests.v1`, read by three groups: one dead letter each, one replay."""
    for group in (b"status-tracker", b"returns", b"notifier"):
        headers = [
            (dead_letters.REASON, b"database down: retries exhausted"),
            (dead_letters.SOURCE_TOPIC, topic.encode()),
            (dead_letters.SOURCE_PARTITION, b"2"),
            (dead_letters.SOURCE_OFFSET, b"41"),
            (dead_letters.CONSUMER_GROUP, group),
        ]
        await producer.send_and_wait(f"{topic}.dlq", b"erase", key=b"kvetinac-cz", headers=headers)
    await dead_letter(producer, topic, b"ord-1", "not valid JSON")  # no place: never a duplicate

    letters = await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}")

    erasure = f"{topic}[2]@41"
    assert sorted((letter.origin or "", letter.duplicate) for letter in letters) == [
        ("", False),
        (erasure, False),
        (erasure, True),
        (erasure, True),
    ]
    async with asyncio.timeout(30):
        back = await read_records(kafka, topic, 2)
    assert sorted(r.value for r in back) == [b"erase", b'{"event": ord-1}']
    assert sum(await end_offsets(kafka, topic)) == 2
    assert await replay(kafka, f"{topic}.dlq", group=f"replay-{topic}") == []  # all committed


async def test_the_command_marks_and_counts_duplicates_apart(
    kafka: str, topic: str, producer: AIOKafkaProducer
) -> None:
    for group in (b"status-tracker", b"returns"):
        headers = [
            (dead_letters.REASON, b"not valid JSON"),
            (dead_letters.SOURCE_TOPIC, topic.encode()),
            (dead_letters.SOURCE_PARTITION, b"0"),
            (dead_letters.SOURCE_OFFSET, b"3"),
            (dead_letters.CONSUMER_GROUP, group),
        ]
        await producer.send_and_wait(f"{topic}.dlq", b"x", key=b"kvetinac-cz", headers=headers)
    command = [sys.executable, "-m", "orderpulse_kit.replay", f"{topic}.dlq", "--dry-run"]
    process = await asyncio.create_subprocess_exec(
        *command, "--bootstrap", kafka, stdout=PIPE, stderr=PIPE
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)

    assert process.returncode == 0, err.decode()
    first, second = out.decode().splitlines()
    assert first.endswith(f" -> {topic}: not valid JSON")
    assert second.endswith(f" -> {topic} (duplicate, not replayed): not valid JSON")
    assert err.decode().splitlines() == [
        f"would replay 1 record(s) from {topic}.dlq",
        "would skip 1 duplicate(s): dead letters of a record another one copies too",
    ]
