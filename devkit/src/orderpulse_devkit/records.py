"""Read what landed on a topic, as an outside observer (a throwaway consumer, no group)."""

import asyncio
import json
import time
from typing import Self

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


class RecordWatch:
    """Watches a topic from its start while a test or benchmark runs.

    Keeps every record, and when (monotonic) the first came.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.records: list[ConsumerRecord[bytes, bytes]] = []
        self.first: float | None = None
        self._consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest"
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Start reading in the background."""
        await self._consumer.start()
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop reading."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._consumer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def keep(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Take one record in."""
        self.records.append(record)

    async def _run(self) -> None:
        while True:
            batch = await self._consumer.getmany(timeout_ms=100)
            for record in (r for part in batch.values() for r in part):
                self.first = self.first or time.monotonic()
                self.keep(record)


class NotificationWatch(RecordWatch):
    """Watches a notifications topic from its start while a test or benchmark runs.

    Keeps every record, the distinct `notification_id`s, and when (monotonic) the first came.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        super().__init__(bootstrap, topic)
        self.ids: set[str] = set()

    def keep(self, record: ConsumerRecord[bytes, bytes]) -> None:
        """Take one record in, and its notification id."""
        super().keep(record)
        self.ids.add(json.loads(record.value)["data"]["notification_id"])
