"""Overlapping polls: committed in the order read, with their own offsets; nothing committed past
a poll whose work failed. The consumer here only records commits and seeks (what the overlap
asks of aiokafka's); tests/e2e runs the notifier with overlapping polls on the real broker."""

import asyncio
from typing import NamedTuple

from aiokafka import TopicPartition
from aiokafka.structs import OffsetAndMetadata

from orderpulse_kit.isolation import Transient
from orderpulse_kit.overlap import Overlap

P0, P1 = TopicPartition("t", 0), TopicPartition("t", 1)


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int


def records(partition: int, first: int, count: int) -> list[Record]:
    return [Record("t", partition, offset) for offset in range(first, first + count)]


class Recorder:
    """Commits and seeks, in the order asked."""

    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.seeks: list[tuple[TopicPartition, int]] = []

    async def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.seeks.append((partition, offset))


class Work:
    """A poll's work that ends when the test says, well or with a transient failure."""

    def __init__(self) -> None:
        self.started, self.release = asyncio.Event(), asyncio.Event()
        self.error: Exception | None = None

    async def __call__(self) -> None:
        self.started.set()
        await self.release.wait()
        if self.error:
            raise self.error

    def end(self, error: Exception | None = None) -> None:
        self.error = error
        self.release.set()


async def test_a_poll_that_ends_first_is_committed_after_the_one_read_before_it() -> None:
    overlap, consumer, first, second = Overlap(2), Recorder(), Work(), Work()
    await overlap.submit(consumer, records(0, 0, 3), first)
    await overlap.submit(consumer, records(0, 3, 2) + records(1, 0, 1), second)
    second.end()
    await asyncio.sleep(0.01)
    assert consumer.commits == []  # the first is still under way
    first.end()
    await overlap.drain()
    assert consumer.commits == [{P0: 3}, {P0: 5, P1: 1}]
    assert consumer.seeks == []


async def test_nothing_read_after_a_failed_poll_is_committed_and_all_of_it_is_read_again() -> None:
    overlap, consumer, first, second = Overlap(2), Recorder(), Work(), Work()
    await overlap.submit(consumer, records(0, 10, 5), first)
    await overlap.submit(consumer, records(0, 15, 5) + records(1, 7, 2), second)
    second.end()  # done well, but read after a poll that fails
    first.end(Transient("the database is down"))
    await overlap.drain()
    assert consumer.commits == []
    assert sorted(consumer.seeks) == [(P0, 10), (P1, 7)]


async def test_the_polls_read_after_the_rewind_are_committed_again() -> None:
    overlap, consumer, failed, again = Overlap(2), Recorder(), Work(), Work()
    await overlap.submit(consumer, records(0, 10, 5), failed)
    failed.end(Transient("the database is down"))
    await overlap.drain()
    await overlap.submit(consumer, records(0, 10, 5), again)
    again.end()
    await overlap.drain()
    assert consumer.seeks == [(P0, 10)]
    assert consumer.commits == [{P0: 15}]


async def test_a_poll_read_before_a_failed_one_is_still_committed() -> None:
    overlap, consumer, first, second = Overlap(2), Recorder(), Work(), Work()
    await overlap.submit(consumer, records(1, 0, 4), first)
    await overlap.submit(consumer, records(0, 0, 4), second)
    second.end(Transient("the database is down"))
    await asyncio.sleep(0.01)
    first.end()
    await overlap.drain()
    assert consumer.commits == [{P1: 4}]
    assert consumer.seeks == [(P0, 0)]


async def test_a_poll_waits_for_a_free_slot_and_does_no_work_once_a_rewind_dooms_it() -> None:
    overlap, consumer = Overlap(2), Recorder()
    first, second, third = Work(), Work(), Work()
    await overlap.submit(consumer, records(0, 0, 1), first)
    await overlap.submit(consumer, records(0, 1, 1), second)
    waiting = asyncio.create_task(overlap.submit(consumer, records(0, 2, 1), third))
    await asyncio.sleep(0.01)
    assert not waiting.done()  # two polls under way: the consumer reads no further
    first.end(Transient("the database is down"))
    second.end()
    await waiting
    await overlap.drain()
    assert not third.started.is_set()  # read before the rewind: it comes again
    assert consumer.commits == []
    assert consumer.seeks == [(P0, 0)]


async def test_a_stopped_overlap_starts_nothing_and_waits_for_what_is_under_way() -> None:
    overlap, consumer, under_way, late = Overlap(2), Recorder(), Work(), Work()
    await overlap.submit(consumer, records(0, 0, 2), under_way)
    stopping = asyncio.create_task(overlap.stop())
    await asyncio.sleep(0.01)
    assert not stopping.done()
    await overlap.submit(consumer, records(0, 2, 2), late)
    under_way.end()
    await stopping
    assert not late.started.is_set()
    assert consumer.commits == [{P0: 2}]


async def test_partitions_taken_away_wait_for_the_polls_under_way_to_commit() -> None:
    overlap, consumer, work = Overlap(2), Recorder(), Work()
    await overlap.submit(consumer, records(0, 0, 2), work)
    revoking = asyncio.create_task(overlap.on_partitions_revoked({P0}))
    await asyncio.sleep(0.01)
    assert not revoking.done()
    work.end()
    await revoking
    assert consumer.commits == [{P0: 2}]
