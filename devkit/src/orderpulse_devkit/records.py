"""Read what landed on a topic, as an outside observer (a throwaway consumer, no group)."""

import asyncio

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def read_records(
    bootstrap: str, topic: str, count: int
) -> list[ConsumerRecord[bytes, bytes]]:
    """The first `count` records of `topic`, from the start; wrap in `asyncio.timeout`."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        while len(records) < count:
            batch = await consumer.getmany(timeout_ms=500)
            records.extend(record for part in batch.values() for record in part)
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return records
