"""No record stops a consumer (issue 15): each service, in-process on a real broker, meets a
record of every hostile class, then a valid one on the same partition.

For each, the valid record takes effect, the hostile one ends where it belongs (its topic's
`.dlq` with a reason, or its documented effect) and the group commits past both. One instance
of each service takes all its cases: a consumer wedged by one would fail every case after it.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from faststream import TestApp
from faststream.asgi import AsgiFastStream

from orderpulse_devkit.groups import committed_past
from orderpulse_devkit.journeys import event, home_journey_for, pickup_journey, return_journey_for
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import RecordWatch
from orderpulse_devkit.services import announce_everything
from orderpulse_kit import dead_letters
from orderpulse_notifier.app import build_app as build_notifier
from orderpulse_notifier.settings import Settings as NotifierSettings
from orderpulse_returns.app import build_app as build_returns
from orderpulse_returns.settings import Settings as ReturnsSettings
from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app as build_tracker
from orderpulse_status_tracker.settings import Settings as TrackerSettings

pytestmark = pytest.mark.kafka

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
"""The contract's ends: in UTC, these instants are after year 9999 and before year 1."""
DEEP = b"[" * 100_000 + b"]" * 100_000


@dataclass(frozen=True)
class Fate:
    """Where a hostile record must end: in its topic's `.dlq` with a reason containing `dead`,
    or having caused `effect` (a notice kind, an outcome type) about its subject; either, when
    both are given (the contract may yet bound what a service now rejects); nothing asserted
    of it when neither is (the consumer must only carry on)."""

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
    overhead = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, bytes(MAX_REQUEST), [])
    return b"x" * (2 * MAX_REQUEST - overhead)


Valid = Callable[[str], tuple[tuple[Step, ...], Message]]
"""An order id -> the valid records it needs first, and a valid event about it."""


def byte_level(topic: str, valid: Valid, effect: str) -> list[Case]:
    """Records no contract can read, and valid events as a producer should not send them."""

    def case(name: str, fate: Fate, value: Any = None, **how: Any) -> Case:
        order = fresh()
        before, message = valid(order)
        if callable(value):
            value = value(message)
        how.setdefault("key", order.encode())
        return Case(f"{topic}-{name}", topic, value, fate, before=before, subject=order, **how)

    def bare(name: str, value: bytes | None, fate: Fate, **how: Any) -> Case:
        return Case(f"{topic}-{name}", topic, value, fate, **how)

    sent = Fate(effect=effect)
    return [
        bare("deeply-nested-json", DEEP, Fate(dead="not valid JSON")),
        case(
            "deeply-nested-json-in-binary-mode",
            Fate(dead="not valid JSON"),
            lambda _: DEEP,
            headers=binary_mode(valid(fresh())[1]),
        ),
        bare("not-json-nor-utf8", b"\xff\xfe\x00 {not json", Fate(dead="not valid JSON")),
        bare("empty-value", b"", Fate(dead="not valid JSON")),
        bare("tombstone", None, Fate(dead="not valid JSON")),
        case(
            "content-type-not-json",
            sent,
            dumped,
            headers=(("content-type", b"text/plain; charset=iso-8859-2"),),
        ),
        case(
            "header-values-not-utf8",
            sent,
            dumped,
            headers=(("traceparent", b"\xff\xfe\x00binary"), ("baggage", b"\xc3")),
        ),
        case(
            "ce-header-not-utf8",
            Fate(dead="not UTF-8"),
            lambda message: dumped(message["data"]),
            headers=binary_mode(valid(fresh())[1], ce_id=b"\xff\xfe-id"),
        ),
        bare(
            "near-the-size-limit",
            too_large(b"ord-hostile"),
            Fate(dead="too large to copy", reference=True),
        ),
        case("missing-key", Fate(), dumped, key=None),
        case("wrong-key", Fate(), dumped, key=b"ord-someone-else"),
    ]


def far_ranges(
    fields: Sequence[tuple[str, str, Callable[[str], tuple[tuple[Step, ...], Message]], Any, str]],
) -> list[Case]:
    """Each (name, topic, valid, changes, kind) at both ends of the contract's range: `changes`
    maps a dotted path to what it is set to, given (a far day, a far instant)."""
    cases = []
    for day, moment in zip(FAR_DAYS, FAR_TIMES, strict=True):
        for name, topic, valid, changes, kind in fields:
            order = fresh()
            before, message = valid(order)
            hostile = placed(message, changes(day, moment))
            cases.append(
                Case(
                    f"{topic}-{name}-{day[:4]}",
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


@pytest.fixture(scope="module")
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


def notice_kind(request: Message) -> str:
    return str(request["data"]["notice"]["kind"])


def topics_of(names: Sequence[str], unique: str) -> dict[str, str]:
    """Each of a service's topic settings, `<name>_topic`, set to a topic of its own."""
    return {f"{name}_topic": f"{name}.{unique}" for name in names}


# --- the status tracker ------------------------------------------------------------------------


class FixedClock:
    """A month before the examples' orders: no timer of a valid order comes due."""

    def now(self) -> datetime:
        return datetime(2026, 10, 1, 9, tzinfo=UTC)


def tracker_valid(topic: str, order: str) -> list[Step]:
    accepted, dispatched = home_journey_for(order)[:2]
    first = [("orders", accepted, "order_accepted")]
    return first if topic == "orders" else [*first, ("shipments", dispatched, "order_dispatched")]


@pytest.fixture(scope="module")
async def tracker(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    workdir = tmp_path_factory.mktemp("tracker")
    unique = uuid.uuid4().hex[:8]
    topics = topics_of(
        ("orders", "shipments", "erasure", "outcomes", "order_status", "notifications"), unique
    )
    settings = TrackerSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"tracker-{unique}",
        database_url=f"sqlite+aiosqlite:///{workdir / 'tracker.db'}",
        shops_file=announce_everything(workdir),
        timer_interval_seconds=0.05,
        **topics,
    )
    service = Service(
        kafka,
        settings.group_id,
        {"orders": settings.orders_topic, "shipments": settings.shipments_topic},
        RecordWatch(kafka, settings.notifications_topic),
        notice_kind,
        tracker_valid,
        producer,
    )
    app = build_tracker(settings, clock=FixedClock())
    async with serving(service, app, list(topics.values())):
        yield service


def accepted(order: str) -> tuple[tuple[Step, ...], Message]:
    return (), home_journey_for(order)[0]


def accepted_first(message: Message) -> tuple[Step, ...]:
    """The order `message` is about, accepted."""
    return (("orders", home_journey_for(message["subject"])[0], "order_accepted"),)


def home(step: int) -> Valid:
    """The home journey's `step`, once its order is accepted."""

    def valid(order: str) -> tuple[tuple[Step, ...], Message]:
        message = home_journey_for(order)[step]
        return accepted_first(message), message

    return valid


def fact(event_type: str) -> Valid:
    """The example `event_type` about the order, once it is accepted."""

    def valid(order: str) -> tuple[tuple[Step, ...], Message]:
        parcel = {"tracking_number": f"PPL-{order.removeprefix('ord-')}"}
        data = parcel if event_type.startswith("shipment.") else {}
        message = event(event_type, id=f"evt-{order}-{event_type}", subject=order, data=data)
        return accepted_first(message), message

    return valid


def at_pickup_point(order: str) -> tuple[tuple[Step, ...], Message]:
    """The parcel at the pickup point, once the order is accepted and dispatched there."""
    journey = pickup_journey(order)
    before = (
        ("orders", journey[0], "order_accepted"),
        ("shipments", journey[1], "order_dispatched"),
    )
    return before, journey[2]


def window(day: str) -> dict[str, str]:
    return {"earliest": day, "latest": day}


TRACKER_CASES = [
    *byte_level("orders", accepted, "order_accepted"),
    *byte_level("shipments", home(1), "order_dispatched"),
    *far_ranges(
        [
            (
                "promised-dispatch",
                "orders",
                accepted,
                lambda d, t: {"data.promised_dispatch": d},
                "order_accepted",
            ),
            (
                "promised-delivery",
                "orders",
                accepted,
                lambda d, t: {"data.promised_delivery": window(d)},
                "order_accepted",
            ),
            ("order-time", "orders", accepted, lambda d, t: {"time": t}, "order_accepted"),
            (
                "new-promised-delivery",
                "orders",
                fact("order.delayed"),
                lambda d, t: {"data.new_promised_delivery": window(d)},
                "order_delayed",
            ),
            (
                "cancelled-time",
                "orders",
                fact("order.cancelled"),
                lambda d, t: {"time": t},
                "order_cancelled",
            ),
            (
                "expected-delivery",
                "shipments",
                home(1),
                lambda d, t: {"data.expected_delivery": window(d)},
                "order_dispatched",
            ),
            (
                "new-expected-delivery",
                "shipments",
                fact("shipment.delayed"),
                lambda d, t: {"data.new_expected_delivery": window(d)},
                "order_delayed",
            ),
            (
                "delivery-window",
                "shipments",
                home(3),
                lambda d, t: {"data.window_start": t, "data.window_end": t},
                "out_for_delivery",
            ),
            (
                "stored-until",
                "shipments",
                at_pickup_point,
                lambda d, t: {"data.stored_until": t},
                "at_pickup_point",
            ),
            (
                "next-attempt",
                "shipments",
                fact("shipment.delivery_failed"),
                lambda d, t: {"data.next_attempt": d},
                "delivery_failed",
            ),
            ("delivered-time", "shipments", home(4), lambda d, t: {"time": t}, "delivered"),
        ]
    ),
]


def held_until_its_order_arrives() -> list[Case]:
    """A courier fact at a far date, before its order: the order must not become the blocker."""
    cases = []
    for day in FAR_DAYS:
        order = fresh()
        accepted_event, dispatched = home_journey_for(order)[:2]
        hostile = placed(dispatched, {"data.expected_delivery": window(day)})
        cases.append(
            Case(
                f"shipments-held-expected-delivery-{day[:4]}",
                "shipments",
                dumped(hostile),
                Fate(dead="", effect="order_dispatched"),
                key=order.encode(),
                after=(("orders", accepted_event, "order_accepted"),),
                subject=order,
            )
        )
    return cases


def unknown_shop() -> list[Case]:
    order = fresh()
    accepted_event, dispatched = home_journey_for(order)[:2]
    return [
        Case(
            f"{topic}-unknown-shop",
            topic,
            dumped(dict(message, shopid=UNKNOWN_SHOP)),
            Fate(dead=UNKNOWN_SHOP),
            key=order.encode(),
        )
        for topic, message in (("orders", accepted_event), ("shipments", dispatched))
    ]


TRACKER_CASES += [*held_until_its_order_arrives(), *unknown_shop()]


@pytest.mark.parametrize("case", TRACKER_CASES, ids=lambda case: case.id)
async def test_the_tracker_carries_on_after(tracker: Service, case: Case) -> None:
    await meets(tracker, case)


# --- the returns service -----------------------------------------------------------------------


def delivered(order: str) -> tuple[tuple[Step, ...], Message]:
    """The order delivered, as the tracker tells it."""
    message = examples.load("order-status.v1", "order.status_changed")
    message.update(id=f"evt-{order}-delivered", subject=order)
    message["data"]["order_number"] = order.removeprefix("ord-")
    return (), message


def return_requested(order: str) -> tuple[tuple[Step, ...], Message]:
    """A return of the order, once it is delivered."""
    arrived = delivered(order)[1]
    return (("order_status", arrived, "return_instructions"),), return_journey_for(order)[0]


def returns_valid(topic: str, order: str) -> list[Step]:
    if topic == "order_status":
        return [("order_status", delivered(order)[1], "return_instructions")]
    before, message = return_requested(order)
    return [*before, ("returns", message, "return_requested")]


@pytest.fixture(scope="module")
async def returns(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    workdir = tmp_path_factory.mktemp("returns")
    unique = uuid.uuid4().hex[:8]
    topics = topics_of(("order_status", "returns", "erasure", "notifications"), unique)
    settings = ReturnsSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"returns-{unique}",
        database_url=f"sqlite+aiosqlite:///{workdir / 'returns.db'}",
        shops_file=announce_everything(workdir),
        reminder_interval_seconds=0.05,
        **topics,
    )
    service = Service(
        kafka,
        settings.group_id,
        {"order_status": settings.order_status_topic, "returns": settings.returns_topic},
        RecordWatch(kafka, settings.notifications_topic),
        notice_kind,
        returns_valid,
        producer,
    )
    async with serving(service, build_returns(settings), list(topics.values())):
        yield service


def of_unknown_shop(topic: str, valid: Valid, fate: Fate) -> Case:
    order = fresh()
    message = dict(valid(order)[1], shopid=UNKNOWN_SHOP)
    return Case(f"{topic}-unknown-shop", topic, dumped(message), fate, key=order.encode())


RETURNS_CASES = [
    *byte_level("order_status", delivered, "return_instructions"),
    *byte_level("returns", return_requested, "return_requested"),
    *far_ranges(
        [
            (
                "delivered-time",
                "order_status",
                delivered,
                lambda d, t: {"time": t},
                "return_instructions",
            ),
            (
                "requested-time",
                "returns",
                return_requested,
                lambda d, t: {"time": t},
                "return_requested",
            ),
        ]
    ),
    # A delivery of a shop without a returns policy passes: there is nothing to say. (The
    # tracker dead-letters the facts of a shop not in the shops file before it says any.)
    of_unknown_shop("order_status", delivered, Fate()),
    of_unknown_shop("returns", return_requested, Fate(dead=UNKNOWN_SHOP)),
]


@pytest.mark.parametrize("case", RETURNS_CASES, ids=lambda case: case.id)
async def test_the_returns_service_carries_on_after(returns: Service, case: Case) -> None:
    await meets(returns, case)


# --- the notifier ------------------------------------------------------------------------------


def request(order: str, kind: str = "order_accepted") -> Message:
    """The example request of `kind`, about the order."""
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message.update(id=f"evt-{order}-{kind}", subject=order)
    message["data"].update(
        order_number=order.removeprefix("ord-"), notification_id=f"{order}/{kind}"
    )
    return message


def requested(kind: str) -> Valid:
    def valid(order: str) -> tuple[tuple[Step, ...], Message]:
        return (), request(order, kind)

    return valid


def notifier_valid(topic: str, order: str) -> list[Step]:
    return [("notifications", request(order), "notification.sent")]


def outcome_type(outcome: Message) -> str:
    return str(outcome["type"])


@pytest.fixture(scope="module")
async def notifier(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Service]:
    workdir = tmp_path_factory.mktemp("notifier")
    unique = uuid.uuid4().hex[:8]
    topics = topics_of(("notifications", "outcomes", "erasure"), unique)
    settings = NotifierSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"notifier-{unique}",
        erasure_group_id=f"notifier-erasure-{unique}",
        database_url=f"sqlite+aiosqlite:///{workdir / 'notifier.db'}",
        shops_file=announce_everything(workdir),
        email_backend="outbox",
        sms_backend="outbox",
        outbox_dir=workdir / "outbox",
        retry_attempts=2,
        retry_initial_seconds=0.01,
        retry_max_seconds=0.02,
        deferred_interval_seconds=0.05,
        **topics,
    )
    service = Service(
        kafka,
        settings.group_id,
        {"notifications": settings.notifications_topic},
        RecordWatch(kafka, settings.outcomes_topic),
        outcome_type,
        notifier_valid,
        producer,
    )
    noon = datetime(2026, 11, 25, 11, tzinfo=UTC)  # 12:00 in Prague
    app = build_notifier(settings, now=lambda: noon)
    async with serving(service, app, list(topics.values())):
        yield service


def request_case(name: str, fate: Fate, kind: str, changes: dict[str, Any]) -> Case:
    """The example request of `kind` about a new order, with `changes` (dotted paths)."""
    order = fresh()
    message = placed(request(order, kind), changes)
    return Case(
        f"notifications-{name}",
        "notifications",
        dumped(message),
        fate,
        key=order.encode(),
        subject=order,
    )


ESCAPED = f"escaped-{uuid.uuid4().hex[:8]}"
"""Where an order number that climbs out of the outbox would write."""

NOTIFIER_CASES = [
    *byte_level("notifications", requested("order_accepted"), "notification.sent"),
    *far_ranges(
        [
            (
                "request-time",
                "notifications",
                requested("order_accepted"),
                lambda d, t: {"time": t},
                "notification.sent",
            ),
            (
                "promised-delivery",
                "notifications",
                requested("order_accepted"),
                lambda d, t: {"data.notice.promised_delivery": window(d)},
                "notification.sent",
            ),
            (
                "new-expected-delivery",
                "notifications",
                requested("order_delayed"),
                lambda d, t: {
                    "data.notice.new_expected_delivery": window(d),
                    "data.notice.last_progress_on": d,
                },
                "notification.sent",
            ),
            (
                "stored-until",
                "notifications",
                requested("at_pickup_point"),
                lambda d, t: {"data.notice.stored_until": t},
                "notification.sent",
            ),
            (
                "withdrawal-deadline",
                "notifications",
                requested("return_instructions"),
                lambda d, t: {"data.notice.withdrawal_deadline": d},
                "notification.sent",
            ),
            (
                "refund-by",
                "notifications",
                requested("return_requested"),
                lambda d, t: {"data.notice.requested_at": t, "data.notice.refund_by": d},
                "notification.sent",
            ),
        ]
    ),
    request_case(
        "unknown-shop",
        Fate(effect="notification.failed"),
        "order_accepted",
        {"shopid": UNKNOWN_SHOP},
    ),
    request_case(
        "amount-nan",
        Fate(dead="does not match the contract"),
        "order_accepted",
        {"data.notice.total.amount": "NaN"},
    ),
    request_case(
        "amount-infinite",
        Fate(dead="does not match the contract"),
        "order_accepted",
        {"data.notice.total.amount": "-Infinity"},
    ),
    request_case(
        "amount-beyond-any-money",
        Fate(dead="", effect="notification.sent"),
        "order_accepted",
        {"data.notice.total.amount": "1E+999999999"},
    ),
    request_case(
        "nul-in-order-number",
        Fate(dead="", effect="notification.sent"),
        "order_accepted",
        {"data.order_number": "100\x0045"},
    ),
    request_case(
        "order-number-climbing-out",
        Fate(effect="notification.sent"),
        "order_accepted",
        {"data.order_number": f"../../../../{ESCAPED}"},
    ),
]


@pytest.mark.parametrize("case", NOTIFIER_CASES, ids=lambda case: case.id)
async def test_the_notifier_carries_on_after(notifier: Service, case: Case) -> None:
    await meets(notifier, case)
