"""Dead-lettering for FastStream consumers: what cannot be read goes to `<topic>.dlq`, with why.

A message that is not JSON or does not match its topic's contract can never succeed, so it must
not block its partition: it is copied unchanged (value, key) to the dead-letter topic with the
reason in headers, and the consumer commits and carries on. Everything else (a database down, a
bug) propagates, so the consumer does not commit and Kafka redelivers.

"""

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from faststream import BaseMiddleware
from faststream.message import StreamMessage
from pydantic import TypeAdapter, ValidationError

log = logging.getLogger(__name__)

REASON = "dlq-reason"
SOURCE_TOPIC = "dlq-topic"
SOURCE_PARTITION = "dlq-partition"
SOURCE_OFFSET = "dlq-offset"
CONSUMER_GROUP = "dlq-group"


def why_unreadable(body: bytes, contract: TypeAdapter[Any]) -> str | None:
    """The reason `body` breaks the contract, or None when it is a valid event."""
    try:
        json.loads(body)
    except ValueError as error:
        return f"not valid JSON: {error}"
    try:
        contract.validate_json(body)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(root)'}: {e['msg']}" for e in error.errors()
        )
        return f"does not match the contract: {problems}"[:1000]
    return None


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


def dead_lettering(
    contracts: Mapping[str, TypeAdapter[Any]], *, group: str
) -> Callable[..., BaseMiddleware]:
    """A broker middleware that checks messages of the topics in `contracts` against them."""

    class DeadLettering(BaseMiddleware):
        async def consume_scope(
            self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
        ) -> Any:
            record = msg.raw_message
            contract = contracts.get(record.topic)
            reason = None if contract is None else why_unreadable(msg.body, contract)
            if reason is None:
                return await call_next(msg)
            await dead_letter(self.context.get("broker"), record, reason, group=group)
            return None

    return DeadLettering
