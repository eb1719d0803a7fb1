"""What a consumer group has committed, read as an outside observer does (Kafka's admin API)."""

import asyncio
from collections.abc import Mapping

from aiokafka import TopicPartition
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
