"""The batch consume loop every service runs on: work per poll, never per record.

One poll of up to `max_records` records (or what the broker gathered, `Poll`) is read; each
record is parsed and validated once (`cloudevents.read`) and kept paired with its event; what
cannot be read is copied to `<topic>.dlq` with the reason, so a poison record never blocks its
partition; the rest goes to the service's handler in one call, in the order read (one order's
events are on one partition, so they stay in order). When the handler returns, the offsets of
the whole poll are committed. When it fails, the poll is handled again a record at a time and a
record that cannot be handled is dead-lettered (`isolation`); only a transient failure (the
database or the broker down) rewinds every partition of the poll to its first record, after a
pause, to read it again (at least once: the handler's effects must be idempotent). With
`overlap` above one, several polls are handled at once and committed in the order read
(`overlap.Overlap`).

FastStream reads the records and commits; it neither parses nor validates them here (the parser
keeps the raw records, the decoder hands them on as they are), and the handler's signature only
documents the topics' events in the AsyncAPI document.
"""

import asyncio
import dataclasses
import gc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar, cast

from aiokafka import ConsumerRecord
from faststream import AckPolicy
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker, KafkaMessage
from faststream.message import StreamMessage
from pydantic import SkipValidation, TypeAdapter

from orderpulse_kit.cloudevents import Unreadable, read
from orderpulse_kit.isolation import Isolation
from orderpulse_kit.overlap import Consumer, Overlap

E = TypeVar("E")
Record: TypeAlias = ConsumerRecord


@dataclass(frozen=True, slots=True)
class Received(Generic[E]):
    """An event with the record it came in: where it came from, for dead letters and logs."""

    record: Record
    event: E


Handler = Callable[[list[Received[E]]], Awaitable[None]]
"""Does the work of one poll; returns once it is durable (then the offsets are committed)."""


@dataclass(frozen=True)
class Poll:
    """How much one poll may take (at most `max_records`), how long the broker gathers records
    for it (`gather_ms`), and how long an idle consumer waits (`timeout_ms`).

    A poll takes what the consumer has fetched. The broker answers a fetch once `GATHER_BYTES`
    are there or `gather_ms` have passed (Kafka's `fetch.min.bytes` and `fetch.max.wait.ms`);
    0 answers at the first record, as Kafka's defaults do. Every poll costs its handler a read,
    a write transaction, a produce and a commit whatever its size: answered at the first record,
    a service took a poll per record or two at moderate rates and the three services kept the
    two cores busy whatever the rate (bench/pipeline.py, `outbox` at 100 events/s: 185 % of the
    machine, 13.7 ms of CPU per event; at 250/s 188 %, p99 983 ms). Gathering 50 ms: 92 % and
    6.2 ms at 100/s, 135 % and p99 434 ms at 250/s; at 500/s p99 0.6–1.8 s against 1.1–2.0 s.
    The price is up to `gather_ms` per hop at low rates (10 events/s: p50 event → provider 73–86
    ms against 25–42 ms; 100 ms of gathering took 107–125 ms), and an idle consumer's fetch
    answered empty every `gather_ms` instead of every 500 ms.

    A poll that found nothing waits `timeout_ms` more before the next (FastStream's batch loop),
    so a record arriving then waits up to that long. Measured (bench/pipeline.py, 10 events/s,
    before the gathering): p50 event → provider 71–74 ms at 50, 47–55 at 20, 39 at 10; an idle
    consumer's CPU 10, 17 and 31 ms per second.
    """

    max_records: int = 2000
    gather_ms: int = 50
    timeout_ms: int = 20

    @property
    def fetch_max_wait_ms(self) -> int:
        """How long the broker may hold a fetch (Kafka's default, 500, when nothing is gathered:
        then it answers at the first record anyway)."""
        return self.gather_ms or 500

    @property
    def fetch_min_bytes(self) -> int:
        """What the broker waits for before answering a fetch (Kafka's default: 1)."""
        return GATHER_BYTES if self.gather_ms else 1


GATHER_BYTES = 64 * 1024
"""A fetch worth answering before `Poll.gather_ms` (a backlog's, or a rate of over a thousand
events per second)."""


def subscribe(
    broker: KafkaBroker,
    contracts: Mapping[str, TypeAdapter[E]],
    handle: Handler[E],
    *,
    group_id: str,
    poll: Poll,
    dead_letter: Callable[[Record, str], Awaitable[None]],
    documented: Any,
    name: str,
    overlap: int = 1,
) -> Overlap | None:
    """Consume the topics in `contracts` in polls, handing each poll's readable events to `handle`.

    `documented` is the type the AsyncAPI document shows for the records (the topics' event
    union), `name` the handler's name there. A poll whose handling fails is handled again record
    by record, and what fails alone is dead-lettered (`isolation`). With `overlap` above one, up
    to that many polls are handled at once (`handle` must allow it); the `Overlap` is returned,
    for the service to `stop` before its consumer stops.
    """

    isolation = Isolation(dead_letter)
    overlapping = Overlap(overlap) if overlap > 1 else None

    async def on_poll(
        records: SkipValidation[list[documented]],
        message: KafkaMessage,
    ) -> None:
        received, unreadable = split(message.raw_message, contracts)

        async def work() -> None:
            if unreadable:
                await asyncio.gather(*(dead_letter(record, why) for record, why in unreadable))
            if received:
                await isolation.handle(received, handle)

        if overlapping is None:
            await work()
        else:
            # FastStream types it as a protocol of its own; it is aiokafka's consumer.
            consumer = cast(Consumer, message.consumer)
            await overlapping.submit(consumer, message.raw_message, work)

    on_poll.__name__ = on_poll.__qualname__ = name
    # Overlapping polls are committed by `Overlap`, with the offsets each read.
    manual: dict[str, Any] = (
        {} if overlapping is None else {"ack_policy": AckPolicy.MANUAL, "listener": overlapping}
    )
    broker.subscriber(
        *contracts,
        group_id=group_id,
        auto_offset_reset="earliest",
        batch=True,
        max_records=poll.max_records,
        batch_timeout_ms=poll.timeout_ms,
        fetch_max_wait_ms=poll.fetch_max_wait_ms,
        fetch_min_bytes=poll.fetch_min_bytes,
        parser=_keep_records,
        decoder=_as_they_are,
        **manual,
    )(on_poll)
    return overlapping


YOUNG_OBJECTS = 50_000
"""Allocations between two collections of young objects (Python's default: 700)."""


def collect_for_polls(app: AsgiFastStream) -> AsgiFastStream:
    """`app`, whose process's garbage collector is set for polls once it has started.

    A poll's records, events, states and requests are hundreds of thousands of objects that live
    until it ends: collected every 700 allocations they survived into the oldest generation, and
    every few polls a full collection walked them with every object of the imports, the app and
    its libraries: 40 % of the returns service's CPU per event on bench/returns.py's backlog
    (replayed in one process). What exists once the app has started lives as long as the
    process: frozen, no collection walks it again; and young objects are collected every
    `YOUNG_OBJECTS` allocations (the bench's steady CPU per event: a quarter less). For a
    service's process (`main.serve`) only: frozen objects are never freed, which a test process
    that builds many apps would feel.
    """

    def tune() -> None:
        gc.freeze()
        gc.set_threshold(YOUNG_OBJECTS)

    app.after_startup(tune)
    return app


def split(
    records: Sequence[Record], contracts: Mapping[str, TypeAdapter[E]]
) -> tuple[list[Received[E]], list[tuple[Record, str]]]:
    """The poll's events, and the records that are none with the reason."""
    received: list[Received[E]] = []
    unreadable: list[tuple[Record, str]] = []
    for record in records:
        try:
            received.append(Received(record, read(record, contracts[record.topic])))
        except Unreadable as error:
            unreadable.append((record, str(error)))
    return received, unreadable


async def _keep_records(
    records: tuple[Record, ...],
    original: Callable[[tuple[Record, ...]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's batch message, built without failing on a header value that is not UTF-8.

    FastStream decodes every header of the poll into the message; one binary header (a
    `traceparent` of another tracer) would fail the whole poll before any handler runs.
    """
    message = await original(tuple(_with_text_headers(record) for record in records))
    message.raw_message = records
    return message


def _with_text_headers(record: Record) -> Record:
    try:
        for _, value in record.headers:
            value.decode()
    except UnicodeDecodeError:
        headers = [
            (name, value.decode(errors="replace").encode()) for name, value in record.headers
        ]
        return dataclasses.replace(record, headers=headers)
    return record


async def _as_they_are(message: StreamMessage[Any]) -> Any:
    """The raw records: `split` parses each once, FastStream does not parse them again."""
    return message.raw_message
