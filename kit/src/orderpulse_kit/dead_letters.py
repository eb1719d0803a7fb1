"""Dead letters: a record that can never succeed (unreadable, or failing alone: `batch`,
`isolation`) must not block its partition, so it is copied unchanged (value, key) to
`<topic>.dlq` with the reason and where it came from in headers, and the consumer carries on."""

import logging
from typing import Any

log = logging.getLogger(__name__)

REASON = "dlq-reason"
SOURCE_TOPIC = "dlq-topic"
SOURCE_PARTITION = "dlq-partition"
SOURCE_OFFSET = "dlq-offset"
CONSUMER_GROUP = "dlq-group"


async def dead_letter(broker: Any, record: Any, reason: str, *, group: str) -> None:
    """Copy a consumed record (aiokafka `ConsumerRecord`) unchanged to `<topic>.dlq`, with why."""
    await broker.publish(
        record.value,
        topic=f"{record.topic}.dlq",
        key=record.key,
        headers={
            REASON: reason,
            SOURCE_TOPIC: record.topic,
            SOURCE_PARTITION: str(record.partition),
            SOURCE_OFFSET: str(record.offset),
            CONSUMER_GROUP: group,
        },
    )
    log.warning(
        "dead-lettered %s[%s]@%s: %s",
        record.topic,
        record.partition,
        record.offset,
        reason.split(":")[0],
    )
