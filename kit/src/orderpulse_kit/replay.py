"""Replay a dead-letter topic once the cause is fixed.

    python -m orderpulse_kit.replay orders.v1.dlq [--bootstrap HOST:PORT] [--dry-run]

Each record goes back unchanged (value and key) to the topic it came from (its `dlq-topic`
header), with a `dlq-replayed-from` header naming the dead letter. What the dead-letter topic holds
when the command starts is replayed, nothing after. Progress is committed under a consumer group
(`orderpulse-replay`), so a second run replays only what was dead-lettered since. The consumers
deduplicate by event id, so a record replayed twice does no harm. A record that still fails goes
back to the dead-letter topic with its new reason, to be replayed by a later run.

A topic read by several consumer groups (`erasure-requests.v1`) may hold one dead letter per group
of the same record: they name the same place (`dlq-topic`, `dlq-partition`, `dlq-offset`), and
the first of them in this run goes back, once, for every group to read again; the others are
listed with `(duplicate, not replayed)` and committed.

A reference (`dlq-copy: reference`: a record too large to be copied whole, see `dead_letters`) has
no value to send back: it is skipped, listed with `(reference, not replayed)` and counted apart,
and committed like the rest. Its record is still at the place its headers name.

`--dry-run` lists each record's place and reason without replaying or committing. It never prints
a value: values hold personal data.
"""

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from orderpulse_kit.dead_letters import (
    COPY,
    REASON,
    REFERENCE,
    SOURCE_OFFSET,
    SOURCE_PARTITION,
    SOURCE_TOPIC,
)

REPLAYED_FROM = "dlq-replayed-from"
GROUP = "orderpulse-replay"


@dataclass(frozen=True)
class DeadLetter:
    """Where a dead letter sits, where it came from, and why it is there."""

    place: str
    topic: str | None
    """None: not a dead letter of ours (no `dlq-topic` header), so it cannot be replayed."""
    reason: str
    reference: bool = False
    """A reference to a record too large to copy: skipped, never sent back (its value is empty)."""
    origin: str | None = None
    """Where the record it copies was read, `topic[partition]@offset` (None without the headers)."""
    duplicate: bool = False
    """Another dead letter of this run copies the same record (another group's): not sent back."""

    @property
    def replayed(self) -> bool:
        """Whether a replay sends it back."""
        return not (self.reference or self.duplicate)


async def replay(
    bootstrap: str, dlq: str, *, group: str = GROUP, dry_run: bool = False
) -> list[DeadLetter]:
    """Send the dead letters of `dlq` back where they came from; what was replayed or skipped as
    a reference (or listed)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        records = await _waiting(consumer, await _partitions(bootstrap, dlq))
        letters = _marked_duplicates([_described(record) for record in records])
        if dry_run or not records:
            return letters
        if strays := [letter.place for letter in letters if letter.topic is None]:
            raise ValueError(f"not dead letters of ours (no {SOURCE_TOPIC} header): {strays}")
        if sent := [(r, lt) for r, lt in zip(records, letters, strict=True) if lt.replayed]:
            await _send_back(bootstrap, sent)
        await consumer.commit({TopicPartition(r.topic, r.partition): r.offset + 1 for r in records})
        return letters
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] != 0:
        raise LookupError(f"no topic {topic!r} on this broker")
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]


async def _waiting(
    consumer: AIOKafkaConsumer, partitions: list[TopicPartition]
) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record between the group's committed offsets and the ends as they are now."""
    consumer.assign(partitions)
    ends = await consumer.end_offsets(partitions)
    records: list[ConsumerRecord[bytes, bytes]] = []
    pending = {tp for tp in partitions if await consumer.position(tp) < ends[tp]}
    while pending:
        for tp, batch in (await consumer.getmany(*pending, timeout_ms=1000)).items():
            records += [record for record in batch if record.offset < ends[tp]]
            if await consumer.position(tp) >= ends[tp]:
                pending.discard(tp)
    return records


async def _send_back(
    bootstrap: str, letters: Sequence[tuple[ConsumerRecord[bytes, bytes], DeadLetter]]
) -> None:
    """Produce each record to its source topic; returns once Kafka has them all."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        sending = [
            await producer.send(
                str(letter.topic),
                record.value,
                key=record.key,
                headers=[(REPLAYED_FROM, letter.place.encode())],
            )
            for record, letter in letters
        ]
        await asyncio.gather(*sending)
    finally:
        await producer.stop()


def _described(record: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    headers = {name: value.decode() for name, value in record.headers}
    topic, partition, offset = (
        headers.get(name) for name in (SOURCE_TOPIC, SOURCE_PARTITION, SOURCE_OFFSET)
    )
    return DeadLetter(
        place=f"{record.topic}[{record.partition}]@{record.offset}",
        topic=topic,
        reason=headers.get(REASON, "(no reason given)"),
        reference=headers.get(COPY) == REFERENCE,
        origin=f"{topic}[{partition}]@{offset}" if topic and partition and offset else None,
    )


def _marked_duplicates(letters: list[DeadLetter]) -> list[DeadLetter]:
    """The letters, each copying a record an earlier one copies too marked `duplicate`."""
    seen: set[str] = set()
    marked = []
    for letter in letters:
        if letter.origin is not None and letter.origin in seen:
            letter = replace(letter, duplicate=True)
        elif letter.origin is not None:
            seen.add(letter.origin)
        marked.append(letter)
    return marked


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the arguments, replay (or list), and say what happened."""
    parser = argparse.ArgumentParser(
        prog="python -m orderpulse_kit.replay",
        description="Replay a dead-letter topic to the topics its records came from.",
    )
    parser.add_argument("dlq", help="the dead-letter topic, e.g. orders.v1.dlq")
    parser.add_argument(
        "--bootstrap",
        default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
        help="Kafka bootstrap servers (default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:19092)",
    )
    parser.add_argument("--group", default=GROUP, help=f"progress kept under (default {GROUP})")
    parser.add_argument("--dry-run", action="store_true", help="list, do not replay")
    args = parser.parse_args(argv)
    letters = asyncio.run(replay(args.bootstrap, args.dlq, group=args.group, dry_run=args.dry_run))
    for letter in letters:
        skipped = " (reference, not replayed)" if letter.reference else ""
        if letter.duplicate:
            skipped = " (duplicate, not replayed)"
        print(f"{letter.place} -> {letter.topic or '(unknown topic)'}{skipped}: {letter.reason}")
    verb = "would replay" if args.dry_run else "replayed"
    references = sum(letter.reference for letter in letters)
    replayed = sum(letter.replayed for letter in letters)
    print(f"{verb} {replayed} record(s) from {args.dlq}", file=sys.stderr)
    if duplicates := sum(letter.duplicate for letter in letters):
        skip = "would skip" if args.dry_run else "skipped"
        print(
            f"{skip} {duplicates} duplicate(s): dead letters of a record another one copies too",
            file=sys.stderr,
        )
    if references:
        skip = "would skip" if args.dry_run else "skipped"
        print(
            f"{skip} {references} reference(s) to records too large to copy: each is still at"
            " the place its reason names, for as long as that topic retains it",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
