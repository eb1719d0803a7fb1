"""What a consumer group has committed, read as an outside observer does (Kafka's admin API)."""

import asyncio
from collections.abc import Mapping, Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


async def committed_past(bootstrap: str, group: str, wanted: Mapping[TopicPartition, int]) -> None:
    """Return once `group` has committed at least offset `wanted[tp]` on every partition `tp`
    (an offset past a record: it is done with it); bound it with `asyncio.timeout`."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            done = await admin.list_consumer_group_offsets(group, partitions=list(wanted))
            if all(tp in done and done[tp].offset >= offset for tp, offset in wanted.items()):
                return
            await asyncio.sleep(0.05)
    finally:
        await admin.close()


async def caught_up(bootstrap: str, group: str, topics: Sequence[str]) -> None:
    """Return once `group` has committed every record produced to `topics` so far; bound it
    with `asyncio.timeout`."""
    partitions = await partitions_of(bootstrap, topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    await committed_past(bootstrap, group, {tp: end for tp, end in ends.items() if end > 0})


async def partitions_of(bootstrap: str, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of `topics`, asked of the broker until it knows them all. (A consumer's
    `partitions_for_topic` answers from metadata it fetched for itself, which may not hold a
    topic yet: waiting "until caught up" on no partitions returned at once, 1 run in 5.)"""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        while True:
            described = await admin.describe_topics(list(topics))
            found = {
                topic["topic"]: [p["partition"] for p in topic["partitions"]]
                for topic in described
                if topic["error_code"] == 0
            }
            if all(found.get(topic) for topic in topics):
                return [TopicPartition(topic, p) for topic in topics for p in found[topic]]
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
