"""Produces a service's events from memory, straight through aiokafka.

FastStream's publish path (middlewares, a correlation id, headers built per message) cost more
per event than all the rest of the tracker's work. This producer is idempotent with `acks=all`
as the broker's own, so one key's records keep their order; `send` returns once the record is
handed over, with an awaitable for Kafka's acknowledgement, so a poll's messages are awaited
together. The values are CloudEvents in structured mode, as JSON.
"""

import json
from collections.abc import Awaitable
from typing import Any

from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY, Counter

_HEADERS = [("content-type", b"application/json")]
_PUBLISHED = "orderpulse_published_messages_total"


def _published() -> Counter:
    """FastStream's counter of published messages, which its middleware shares the same way."""
    found = REGISTRY._names_to_collectors.get(_PUBLISHED)
    if isinstance(found, Counter):
        return found
    return Counter(
        _PUBLISHED,
        "Count of published messages by destination and status",
        ["app_name", "broker", "destination", "status"],
    )


class Producer:
    """A service's producer of JSON events; started and stopped with its app."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        self._producer: AIOKafkaProducer | None = None
        self._counted = _published()

    async def start(self) -> None:
        """Connect; before the consumer's first poll."""
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers, enable_idempotence=True, acks="all"
        )
        await self._producer.start()

    async def stop(self) -> None:
        """Send what is buffered, then disconnect; after the consumer stopped."""
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, topic: str, key: str, value: dict[str, Any]) -> Awaitable[object]:
        """Hand `value` (JSON-ready) to the producer; the awaitable completes when Kafka has it."""
        if self._producer is None:
            raise RuntimeError("the producer is not started")
        encoded = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        future: Awaitable[object] = await self._producer.send(
            topic, encoded, key=key.encode(), headers=_HEADERS
        )
        self._counted.labels("orderpulse", "kafka", topic, "success").inc()
        return future
