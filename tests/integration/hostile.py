"""How a service meets a hostile record in the tests of issue 15: the record, then a valid one
on the same partition, both judged from outside (what the service published, dead-lettered and
committed), and the records no contract can read or no producer should send."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream import TestApp
from faststream.asgi import AsgiFastStream

from orderpulse_devkit.groups import committed_past
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import RecordWatch
from orderpulse_kit import dead_letters

Message = dict[str, Any]
Step = tuple[str, Message, str]
"""A valid record: (its topic's setting name, the event, the kind of effect it causes)."""

WAIT = 20.0
"""Seconds to wait for what must come; far more than it takes."""
UNKNOWN_SHOP = "neznamy-obchod-cz"
"""In no shops file."""
MAX_REQUEST = 1_048_576
"""aiokafka's default `max_request_size`, the services' producers' limit too (the broker's
`message.max.bytes` is 12 bytes more)."""
FAR_DAYS = ("9999-12-31", "0001-01-01")
FAR_TIMES = ("9999-12-31T23:59:59-01:00", "0001-01-01T00:00:00+01:00")
"""The calendar's ends, as JSON Schema's `date` and `date-time` allow them; in UTC, these
instants are after year 9999 and before year 1."""
DEEP = b"[" * 100_000 + b"]" * 100_000


@dataclass(frozen=True)
class Fate:
    """Where a hostile record must end: in its topic's `.dlq` with a reason containing `dead`,
    or having caused `effect` (a notice kind, an outcome type) about its subject; either, when
    both are given (a far date: the contract rejects it, or the service handles it); nothing
    asserted of it when neither is (the consumer must only carry on)."""

    dead: str | None = None
    effect: str | None = None
    reference: bool = False
    """Dead-lettered as a reference: too large to copy."""


@dataclass(frozen=True)
class Case:
    """A hostile record on one of a service's topics (by its setting's name), the valid records
    that come `before` it, and what must become of it."""

    id: str
    topic: str
    value: bytes | None
    fate: Fate
    key: bytes | None = b"ord-hostile"
    headers: tuple[tuple[str, bytes], ...] = ()
    before: tuple[Step, ...] = ()
    after: tuple[Step, ...] = ()
    """Sent once the hostile record is committed, before the valid record of every case."""
    subject: str | None = None
    """The order `fate.effect` is about."""


def dumped(message: Message) -> bytes:
    return json.dumps(message, ensure_ascii=False).encode()


def placed(message: Message, changes: dict[str, Any]) -> Message:
    """`message` with the field at each dotted path in `changes` set to its value."""
    changed: Message = json.loads(json.dumps(message))
    for path, value in changes.items():
        *parents, name = path.split(".")
        inner = changed
        for parent in parents:
            inner = inner[parent]
        inner[name] = value
    return changed


def binary_mode(message: Message, **replaced: bytes) -> tuple[tuple[str, bytes], ...]:
    """The `ce_` headers of `message` in the CloudEvents Kafka binding's binary mode."""
    headers = {
        f"ce_{name}": str(value).encode()
        for name, value in message.items()
        if name not in ("data", "datacontenttype")
    }
    return tuple({**headers, **replaced}.items())


def too_large(key: bytes) -> bytes:
    """A value as large as a producer allows: its dead-letter copy (with headers) is not."""
    size = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, bytes(MAX_REQUEST), [])
    return b"x" * (MAX_REQUEST - (size - MAX_REQUEST))


Valid = Callable[[str], tuple[tuple[Step, ...], Message]]
"""An order id -> the valid records it needs first, and a valid event about it."""


def byte_level(topic: str, valid: Valid, effect: str) -> list[Case]:
    """Records no contract can read, and valid events as a producer should not send them."""

    def sent(name: str, fate: Fate, **how: Any) -> Case:
        """`valid`'s event about a new order, sent as `how` says."""
        order = fresh()
        before, message = valid(order)
        how.setdefault("key", order.encode())
        return Case(
            f"{topic}-{name}", topic, dumped(message), fate, before=before, subject=order, **how
        )

    def bare(name: str, value: bytes | None, fate: Fate, **how: Any) -> Case:
        return Case(f"{topic}-{name}", topic, value, fate, **how)

    sample = valid(fresh())[1]
    unreadable = Fate(dead="not valid JSON")
    return [
        bare("deeply-nested-json", DEEP, unreadable),
        bare("deeply-nested-json-binary-mode", DEEP, unreadable, headers=binary_mode(sample)),
        bare("not-json-nor-utf8", b"\xff\xfe\x00 {not json", unreadable),
        bare("empty-value", b"", unreadable),
        bare("tombstone", None, unreadable),
        sent(
            "content-type-not-json",
            Fate(effect=effect),
            headers=(("content-type", b"text/plain; charset=iso-8859-2"),),
        ),
        sent(
            "header-values-not-utf8",
            Fate(effect=effect),
            headers=(("traceparent", b"\xff\xfe\x00binary"), ("baggage", b"\xc3")),
        ),
        bare(
            "ce-header-not-utf8",
            dumped(sample["data"]),
            Fate(dead="not UTF-8"),
            headers=binary_mode(sample, ce_id=b"\xff\xfe-id"),
        ),
        bare(
            "near-the-size-limit",
            too_large(b"ord-hostile"),
            Fate(dead="too large to copy", reference=True),
        ),
        sent("missing-key", Fate(), key=None),
        sent("wrong-key", Fate(), key=b"ord-someone-else"),
    ]


FarField = tuple[str, "Valid", dict[str, str], str]
"""(topic, valid event, {dotted path: "day", "time" or "window"}, the kind of effect it causes)."""


def far_ranges(fields: Sequence[FarField]) -> list[Case]:
    """Each field's valid event with the paths set to a far day, instant or window of days, at
    both ends of the calendar."""
    cases = []
    for day, moment in zip(FAR_DAYS, FAR_TIMES, strict=True):
        far = {"day": day, "time": moment, "window": {"earliest": day, "latest": day}}
        for topic, valid, changes, kind in fields:
            order = fresh()
            before, message = valid(order)
            hostile = placed(message, {path: far[what] for path, what in changes.items()})
            field = next(iter(changes)).rsplit(".", 1)[-1]
            about = message["data"].get("notice", {}).get("kind") or message["type"]
            cases.append(
                Case(
                    f"{topic}-{about}-{field}-{day[:4]}",
                    topic,
                    dumped(hostile),
                    Fate(dead="", effect=kind),
                    key=order.encode(),
                    before=before,
                    subject=order,
                )
            )
    return cases


def fresh() -> str:
    """A new order id, so each case's effects are its own."""
    return f"ord-{uuid.uuid4().hex[:10]}"


# --- the services, with what a valid record on each topic is and causes -----------------------


@dataclass
class Service:
    """A service running in-process, a producer feeding it, and watches on what it writes."""

    bootstrap: str
    group: str
    topics: dict[str, str]
    """A topic's setting's name (without `_topic`) -> the topic."""
    effects: RecordWatch
    """Where the service's effects go: notification requests, or outcomes."""
    kind_of: Callable[[Message], str]
    valid: Callable[[str, str], list[Step]]
    """(topic, order id) -> valid records about the order, the last of them on `topic`."""
    producer: AIOKafkaProducer
    dead: dict[str, RecordWatch] = field(default_factory=dict)
    """The dead-letter topic's watch, by the name of the topic it is of."""

    async def send(
        self,
        topic: str,
        value: bytes | None,
        *,
        key: bytes | None,
        headers: tuple[tuple[str, bytes], ...] = (),
        partition: int | None = None,
    ) -> tuple[TopicPartition, int]:
        meta = await self.producer.send_and_wait(
            self.topics[topic], value, key=key, headers=list(headers), partition=partition
        )
        return TopicPartition(meta.topic, meta.partition), meta.offset

    async def step(self, step: Step) -> None:
        """Send a valid record; wait for its effect."""
        topic, message, kind = step
        await self.send(topic, dumped(message), key=message["subject"].encode())
        await self.effect(message["subject"], kind)

    async def effect(self, subject: str, kind: str) -> Message:
        """The first effect of `kind` about order `subject`, once it came."""
        found: Message = await until(lambda: self.found(subject, kind), f"{kind} of {subject}")
        return found

    def found(self, subject: str, kind: str) -> Message | None:
        for record in self.effects.records:
            message: Message = json.loads(record.value)
            if message["subject"] == subject and self.kind_of(message) == kind:
                return message
        return None

    def dead_letter(self, case: Case, at: TopicPartition, offset: int) -> Any:
        """The dead letter of `case`'s record at `offset` of `at`, or of the event in it when
        the service kept it (then the record's place is not known: `dead_letter_kept`)."""
        for record in self.dead[case.topic].records:
            headers = {name: value.decode() for name, value in record.headers}
            partition = headers.get(dead_letters.SOURCE_PARTITION)
            if partition is None and case.value and record.value:
                if json.loads(record.value)["id"] == json.loads(case.value)["id"]:
                    return record
            elif (partition, headers[dead_letters.SOURCE_OFFSET]) == (
                str(at.partition),
                str(offset),
            ):
                return record
        return None

    async def committed_past(self, at: TopicPartition, offset: int) -> None:
        async with asyncio.timeout(WAIT):
            await committed_past(self.bootstrap, self.group, {at: offset + 1})


async def until(check: Callable[[], Any], what: str) -> Any:
    """`check()`'s first truthy answer, asked every 20 ms for up to `WAIT` seconds."""
    deadline = asyncio.get_running_loop().time() + WAIT
    while not (answer := check()):
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)
    return answer


async def meets(service: Service, case: Case) -> None:
    """Feed `case` to `service`, then a valid record on the same partition; check both."""
    for step in case.before:
        await service.step(step)
    at, offset = await service.send(case.topic, case.value, key=case.key, headers=case.headers)
    if case.after:
        await service.committed_past(at, offset)
        for step in case.after:
            await service.step(step)
    order = fresh()
    *first, (topic, last, kind) = service.valid(case.topic, order)
    for earlier, message, _ in first:
        await service.send(earlier, dumped(message), key=order.encode())
    valid_at, valid_offset = await service.send(
        topic, dumped(last), key=order.encode(), partition=at.partition
    )
    assert valid_at == at
    assert valid_offset > offset

    await service.effect(order, kind)
    await service.committed_past(at, valid_offset)
    await ended_as(service, case, at, offset)


async def ended_as(service: Service, case: Case, at: TopicPartition, offset: int) -> None:
    """Check that the hostile record of `case` at `offset` of `at` ended as its fate says."""
    fate = case.fate
    if fate.dead is None and fate.effect is None:
        return

    def ended() -> tuple[str, Any] | None:
        if fate.dead is not None and (record := service.dead_letter(case, at, offset)):
            return "dead", record
        if fate.effect is not None and case.subject is not None:
            effect = service.found(case.subject, fate.effect)
            return ("effect", effect) if effect else None
        return None

    how, what = await until(ended, f"the {case.id} record's dead letter or effect")
    if how == "effect":
        return
    headers = {name: value.decode() for name, value in what.headers}
    assert fate.dead is not None
    assert fate.dead in headers[dead_letters.REASON]
    assert headers[dead_letters.SOURCE_TOPIC] == service.topics[case.topic]
    assert headers[dead_letters.CONSUMER_GROUP] == service.group
    if fate.reference:
        assert (headers[dead_letters.COPY], what.value) == (dead_letters.REFERENCE, b"")
    elif dead_letters.SOURCE_PARTITION not in headers:  # kept, then dead-lettered
        assert what.key == case.key
    else:
        assert what.value == case.value  # copied unchanged
        assert what.key == case.key


@asynccontextmanager
async def serving(service: Service, app: AsgiFastStream, topics: list[str]) -> AsyncIterator[None]:
    """`app` consuming, with `topics` and the dead-letter topics created and watched."""
    dead = {name: f"{topic}.dlq" for name, topic in service.topics.items()}
    await create_topics(service.bootstrap, [*topics, *dead.values()])
    service.dead = {name: RecordWatch(service.bootstrap, topic) for name, topic in dead.items()}
    watches = [service.effects, *service.dead.values()]
    for watch in watches:
        await watch.start()
    try:
        async with TestApp(app):
            yield
    finally:
        for watch in watches:
            await watch.stop()


def topics_of(names: Sequence[str], unique: str) -> dict[str, str]:
    """Each of a service's topic settings, `<name>_topic`, set to a topic of its own."""
    return {f"{name}_topic": f"{name}.{unique}" for name in names}


def of_unknown_shop(topic: str, valid: Valid, fate: Fate) -> Case:
    """`valid`'s event about a new order of a shop in no shops file."""
    order = fresh()
    message = dict(valid(order)[1], shopid=UNKNOWN_SHOP)
    return Case(
        f"{topic}-unknown-shop", topic, dumped(message), fate, key=order.encode(), subject=order
    )
