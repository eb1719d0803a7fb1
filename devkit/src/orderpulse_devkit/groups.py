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
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        await consumer.topics()  # fetches the metadata, so the partitions are known
        partitions = [
            TopicPartition(topic, partition)
            for topic in topics
            for partition in consumer.partitions_for_topic(topic) or ()
        ]
        ends = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    await committed_past(bootstrap, group, {tp: end for tp, end in ends.items() if end > 0})
