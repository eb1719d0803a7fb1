"""Dead letters: a record that can never succeed (unreadable, or failing alone: `batch`,
`isolation`) must not block its partition, so it is copied unchanged (value, key) to
`<topic>.dlq` with the reason and where it came from in headers, and the consumer carries on.

A record too large to be copied whole (the copy adds headers, and the producer's or the
dead-letter topic's size limit may be below what its own topic allows) is dead-lettered as a
reference instead: the same key and headers, an empty value, `dlq-copy: reference`, the value's
size in `dlq-size`, and the reason saying so. The record itself is still where the headers say
(`dlq-topic`, `dlq-partition`, `dlq-offset`), for as long as that topic retains it; a replay
skips references (`replay`).

An event a service kept after its record was committed (a fact waiting for its order) that turns
out not to be usable is dead-lettered as kept (`dead_letter_kept`): its JSON, with the reason
and its topic but without `dlq-partition` and `dlq-offset`, as its record's place is not known
any more."""

import logging
from typing import Any

from aiokafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

log = logging.getLogger(__name__)

REASON = "dlq-reason"
SOURCE_TOPIC = "dlq-topic"
SOURCE_PARTITION = "dlq-partition"
SOURCE_OFFSET = "dlq-offset"
CONSUMER_GROUP = "dlq-group"
COPY = "dlq-copy"
"""Only on a reference: `reference` (a whole copy has no such header)."""
SIZE = "dlq-size"
"""Only on a reference: the original value's size in bytes, in decimal."""
REFERENCE = "reference"


def unknown_shop(shop_id: str) -> str:
    """Why a record of a shop that is not in the shops file is dead-lettered: a replay works once
    the shop is there."""
    return f"shop {shop_id} is not in the shops file: add it there, then replay this record"


async def dead_letter(broker: Any, record: Any, reason: str, *, group: str) -> None:
    """Copy a consumed record (aiokafka `ConsumerRecord`) unchanged to `<topic>.dlq`, with why;
    a reference to it if it is too large to copy."""
    place = f"{record.topic}[{record.partition}]@{record.offset}"
    headers = {
        REASON: reason,
        SOURCE_TOPIC: record.topic,
        SOURCE_PARTITION: str(record.partition),
        SOURCE_OFFSET: str(record.offset),
        CONSUMER_GROUP: group,
    }
    dlq = f"{record.topic}.dlq"
    try:
        await broker.publish(record.value, topic=dlq, key=record.key, headers=headers)
    except (MessageSizeTooLargeError, RecordListTooLargeError):
        size = len(record.value or b"")
        too_large = f"too large to copy ({size} bytes), only referenced: the record is at {place}"
        reference = {REASON: f"{reason} ({too_large})", COPY: REFERENCE, SIZE: str(size)}
        # b"", not None: a keyed None would be a tombstone.
        await broker.publish(b"", topic=dlq, key=record.key, headers=headers | reference)
        log.warning(
            "dead-lettered %s as a reference, %s bytes too large to copy: %s",
            place,
            size,
            reason.split(":")[0],
        )
        return
    log.warning("dead-lettered %s: %s", place, reason.split(":")[0])


async def dead_letter_kept(
    broker: Any, topic: str, key: str, value: bytes, reason: str, *, group: str
) -> None:
    """Dead-letter an event read from `topic` and kept by the service: `value` to `<topic>.dlq`,
    with why."""
    headers = {REASON: reason, SOURCE_TOPIC: topic, CONSUMER_GROUP: group}
    await broker.publish(value, topic=f"{topic}.dlq", key=key.encode(), headers=headers)
    log.warning("dead-lettered an event kept from %s: %s", topic, reason.split(":")[0])
