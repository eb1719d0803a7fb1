"""Polls handled side by side, committed in the order they were read.

For a handler that mostly waits on others (the notifier on its providers): with one poll at a
time, every poll waits for its slowest send before the next is even read, and the consumer
idles through each poll's tail. Here up to `depth` polls are under way at once; each is
committed once it and every poll read before it are done, with the offsets it read (never the
consumer's position, which is ahead). A poll that fails (a transient failure, or the service
stopping) is not committed: its partitions, and those of every poll read after it and not
committed, are rewound to their first uncommitted record, and the polls already read after it
are not committed either (their records come again). So nothing is committed past a record
whose work is not done, as with one poll at a time. Before partitions are taken away in a
rebalance, the polls under way end (`on_partitions_revoked`), so their commits still count.

The handler must be safe to run side by side with itself and keep one key's work in order
across polls (the notifier chains an order's messages from poll to poll).
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import ConsumerRebalanceListener, TopicPartition
from aiokafka.structs import OffsetAndMetadata

log = logging.getLogger(__name__)


class Consumer(Protocol):
    """What of aiokafka's consumer the overlap uses."""

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None: ...

    def seek(self, partition: TopicPartition, offset: int) -> None: ...


@dataclass
class _Poll:
    """A poll under way, or ended without being committed."""

    number: int
    first: dict[TopicPartition, int]  # the first offset it read of each partition
    next: dict[TopicPartition, int]  # the offset after the last one it read
    ended: asyncio.Future[bool] = field(default_factory=asyncio.Future)  # committed or not
    doomed: bool = False  # read before a rewind of its records: never committed


class Overlap(ConsumerRebalanceListener):  # type: ignore[misc]
    """Runs polls' work side by side (up to `depth`) and commits them in the order read."""

    def __init__(self, depth: int) -> None:
        self._slots = asyncio.Semaphore(depth)
        self._polls: list[_Poll] = []  # read and not committed, in the order read
        self._read = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopped = False

    async def submit(
        self, consumer: Consumer, records: Sequence[Any], work: Callable[[], Awaitable[None]]
    ) -> None:
        """Start `work` on a poll's records; returns once fewer than `depth` polls are under
        way, so that the consumer reads the next one meanwhile. After `stop`, nothing starts
        (the records are not committed: the consumer is closing, they are read again)."""
        if self._stopped:
            return
        # Known before waiting for a slot: a rewind meanwhile must find it (it was read before).
        poll = _Poll(self._read, *_offsets(records))
        self._read += 1
        self._polls.append(poll)
        await self._slots.acquire()
        task = asyncio.create_task(self._run(consumer, poll, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait until every poll under way has ended (committed, or rewound)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Start no more polls; wait for those under way (for a stopping service)."""
        self._stopped = True
        await self.drain()

    async def on_partitions_revoked(self, revoked: Any) -> None:
        """Before a rebalance takes partitions away: the polls under way end and commit while
        this consumer still owns them; what was not committed is read again by the next owner
        (which reads from the committed offsets)."""
        await self.drain()
        self._polls.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        """Nothing: positions start from the committed offsets."""

    async def _run(
        self, consumer: Consumer, poll: _Poll, work: Callable[[], Awaitable[None]]
    ) -> None:
        try:
            done = False
            if not poll.doomed:  # a doomed poll's records are read again: no work for nothing
                try:
                    await work()
                    done = True
                except Exception as error:  # the work said why; its records are read again
                    log.warning(
                        "a poll was not handled (%s); it is read again", type(error).__name__
                    )
            # Polls read before it end first; one that fails dooms this one too.
            earlier = [p for p in self._polls if p.number < poll.number and not p.doomed]
            await asyncio.gather(*(p.ended for p in earlier))
            if done and not poll.doomed:
                await self._commit(consumer, poll)
            elif not poll.doomed:
                self._rewind(consumer, poll)
        finally:
            if not poll.ended.done():
                poll.ended.set_result(not poll.doomed and done)
            self._slots.release()

    async def _commit(self, consumer: Consumer, poll: _Poll) -> None:
        """Commit the poll's offsets; it and every poll before it are done."""
        try:
            await consumer.commit(
                {tp: OffsetAndMetadata(offset, "") for tp, offset in poll.next.items()}
            )
        except Exception as error:  # e.g. the partitions were reassigned: read again, elsewhere
            log.warning("a poll's offsets could not be committed (%s)", type(error).__name__)
        self._polls = [other for other in self._polls if other.number > poll.number]
        poll.ended.set_result(True)

    def _rewind(self, consumer: Consumer, failed: _Poll) -> None:
        """Read again from the first record not committed of each partition of this poll and of
        every poll read after it; those polls are not committed."""
        first: dict[TopicPartition, int] = {}
        for poll in self._polls:
            if poll.number >= failed.number:
                poll.doomed = True
                for tp, offset in poll.first.items():
                    first[tp] = min(offset, first.get(tp, offset))
        for tp, offset in first.items():
            try:
                consumer.seek(tp, offset)
            except Exception as error:  # no longer assigned: its next owner reads it
                log.warning("could not rewind %s (%s)", tp, type(error).__name__)


def _offsets(records: Sequence[Any]) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """The first offset and the one after the last of each partition in `records`."""
    first: dict[TopicPartition, int] = {}
    after: dict[TopicPartition, int] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        first.setdefault(tp, record.offset)
        after[tp] = record.offset + 1
    return first, after
