"""No record stops a consumer (issue 15): each service (the tracker, returns, the notifier and
couriers), in-process on a real broker, meets a record of every hostile class, then a valid one
on the same partition (`hostile.meets`).

For each, the valid record takes effect, the hostile one ends where it belongs (its topic's
`.dlq` with a reason, or its documented effect) and the group commits past both. One instance
of each service takes all its cases: a consumer wedged by one would fail every case after it.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers.app import build_app as build_couriers
from orderpulse_couriers.settings import Settings as CouriersSettings
from orderpulse_couriers.tables import parcels, points
from orderpulse_devkit.journeys import event, home_journey_for, pickup_journey, return_journey_for
from orderpulse_devkit.records import RecordWatch
from orderpulse_devkit.services import announce_everything
from orderpulse_kit.database import connect
from orderpulse_notifier.app import build_app as build_notifier
from orderpulse_notifier.settings import Settings as NotifierSettings
from orderpulse_returns.app import build_app as build_returns
from orderpulse_returns.settings import Settings as ReturnsSettings
from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app as build_tracker
from orderpulse_status_tracker.settings import Settings as TrackerSettings

from .hostile import (
    FAR_DAYS,
    UNKNOWN_SHOP,
    WAIT,
    Case,
    Fate,
    Message,
    Service,
    Step,
    Valid,
    byte_level,
    dumped,
    far_ranges,
    fresh,
    meets,
    placed,
    serving,
)

pytestmark = pytest.mark.kafka


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


def of_unknown_shop(topic: str, valid: Valid, fate: Fate) -> Case:
    """`valid`'s event about a new order of a shop in no shops file."""
    order = fresh()
    message = dict(valid(order)[1], shopid=UNKNOWN_SHOP)
    return Case(
        f"{topic}-unknown-shop", topic, dumped(message), fate, key=order.encode(), subject=order
    )


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


DISPATCHED, DELAYED, WINDOW = "order_dispatched", "order_delayed", "window"
ACCEPTED = "order_accepted"

# fmt: off
TRACKER_CASES = [
    *byte_level("orders", accepted, ACCEPTED),
    *byte_level("shipments", home(1), DISPATCHED),
    *far_ranges([
        ("orders", accepted, {"data.promised_dispatch": "day"}, ACCEPTED),
        ("orders", accepted, {"data.promised_delivery": WINDOW}, ACCEPTED),
        ("orders", accepted, {"time": "time"}, ACCEPTED),
        ("orders", fact("order.delayed"), {"data.new_promised_delivery": WINDOW}, DELAYED),
        ("orders", fact("order.cancelled"), {"time": "time"}, "order_cancelled"),
        ("shipments", home(1), {"data.expected_delivery": WINDOW}, DISPATCHED),
        ("shipments", fact("shipment.delayed"), {"data.new_expected_delivery": WINDOW}, DELAYED),
        ("shipments", home(3), {"data.window_start": "time", "data.window_end": "time"},
         "out_for_delivery"),
        ("shipments", at_pickup_point, {"data.stored_until": "time"}, "at_pickup_point"),
        ("shipments", fact("shipment.delivery_failed"), {"data.next_attempt": "day"},
         "delivery_failed"),
        ("shipments", home(4), {"time": "time"}, "delivered"),
    ]),
    *(
        Case(
            f"shipments-held-for-its-order-{day[:4]}",
            "shipments",
            dumped(
                placed(journey[1], {"data.expected_delivery": {"earliest": day, "latest": day}})
            ),
            Fate(dead="", effect=DISPATCHED),
            key=journey[1]["subject"].encode(),
            after=(("orders", journey[0], "order_accepted"),),  # must not become the blocker
            subject=journey[1]["subject"],
        )
        for day in FAR_DAYS
        for journey in [home_journey_for(fresh())]
    ),
    of_unknown_shop("orders", accepted, Fate(dead=UNKNOWN_SHOP)),
    of_unknown_shop("shipments", home(1), Fate(dead=UNKNOWN_SHOP)),
    *(  # as shops store numbers: the order counts (its texts are the notifier's to judge)
        Case(f"orders-phone-{name}", "orders",
             dumped(placed(order, {"data.customer.phone": phone})),
             Fate(effect=ACCEPTED), key=order["subject"].encode(), subject=order["subject"])
        for name, phone in [("with-spaces", "+420 601 123 456"), ("national", "601 123 456"),
                            ("not-a-number", "n/a")]
        for order in [home_journey_for(fresh())[0]]
    ),
]
# fmt: on


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


RETURNS_CASES = [
    *byte_level("order_status", delivered, "return_instructions"),
    *byte_level("returns", return_requested, "return_requested"),
    *far_ranges(
        [
            ("order_status", delivered, {"time": "time"}, "return_instructions"),
            ("returns", return_requested, {"time": "time"}, "return_requested"),
        ]
    ),
    of_unknown_shop("order_status", delivered, Fate(dead=UNKNOWN_SHOP)),
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
def notifier_workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("notifier")


@pytest.fixture(scope="module")
async def notifier(
    kafka: str, producer: AIOKafkaProducer, notifier_workdir: Path
) -> AsyncIterator[Service]:
    unique = uuid.uuid4().hex[:8]
    topics = topics_of(("notifications", "outcomes", "erasure"), unique)
    settings = NotifierSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"notifier-{unique}",
        erasure_group_id=f"notifier-erasure-{unique}",
        database_url=f"sqlite+aiosqlite:///{notifier_workdir / 'notifier.db'}",
        shops_file=announce_everything(notifier_workdir),
        email_backend="outbox",
        sms_backend="outbox",
        outbox_dir=notifier_workdir / "outbox",
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


NOTICE = "data.notice"
CONTRACT = "does not match the contract"


def request_case(name: str, changes: dict[str, str], fate: Fate) -> Case:
    """The example request of an order's acceptance, about a new order, with `changes`."""
    order = fresh()
    message = placed(request(order), changes)
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
SENT, FAILED = "notification.sent", "notification.failed"

# fmt: off
NOTIFIER_CASES = [
    *byte_level("notifications", requested("order_accepted"), SENT),
    *far_ranges([
        ("notifications", requested("order_accepted"), {"time": "time"}, SENT),
        ("notifications", requested("order_accepted"), {f"{NOTICE}.promised_delivery": WINDOW},
         SENT),
        ("notifications", requested("order_delayed"),
         {f"{NOTICE}.new_expected_delivery": WINDOW, f"{NOTICE}.last_progress_on": "day"}, SENT),
        ("notifications", requested("at_pickup_point"), {f"{NOTICE}.stored_until": "time"}, SENT),
        ("notifications", requested("order_dispatched"), {f"{NOTICE}.expected_delivery": WINDOW},
         SENT),
        ("notifications", requested("out_for_delivery"),
         {f"{NOTICE}.window_start": "time", f"{NOTICE}.window_end": "time"}, SENT),
        ("notifications", requested("delivered"), {f"{NOTICE}.received_at": "time"}, SENT),
        ("notifications", requested("delivery_failed"), {f"{NOTICE}.next_attempt": "day"}, SENT),
        ("notifications", requested("return_window_closing"),
         {f"{NOTICE}.withdrawal_deadline": "day"}, SENT),
        ("notifications", requested("return_instructions"),
         {f"{NOTICE}.withdrawal_deadline": "day"}, SENT),
        ("notifications", requested("return_requested"),
         {f"{NOTICE}.requested_at": "time", f"{NOTICE}.refund_by": "day"}, SENT),
    ]),
    of_unknown_shop("notifications", requested("order_accepted"), Fate(effect=FAILED)),
    request_case("amount-nan", {f"{NOTICE}.total.amount": "NaN"}, Fate(dead=CONTRACT)),
    request_case("amount-infinite", {f"{NOTICE}.total.amount": "-Infinity"}, Fate(dead=CONTRACT)),
    request_case("amount-beyond-money", {f"{NOTICE}.total.amount": "1E+999999999"}, Fate("", SENT)),
    request_case("nul-in-order-number", {"data.order_number": "100\x0045"}, Fate("", SENT)),
]
# fmt: on


@pytest.mark.parametrize("case", NOTIFIER_CASES, ids=lambda case: case.id)
async def test_the_notifier_carries_on_after(notifier: Service, case: Case) -> None:
    await meets(notifier, case)


async def test_an_order_number_climbing_out_of_the_outbox_stays_in_it(
    notifier: Service, notifier_workdir: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    climbing = request_case(
        "climbing-out", {"data.order_number": f"../../../{ESCAPED}"}, Fate(effect=SENT)
    )
    await meets(notifier, climbing)

    outbox = notifier_workdir / "outbox"
    base = tmp_path_factory.getbasetemp()
    assert not (base / ESCAPED).exists()  # where ../../../ from the outbox's order folder is
    written = list(base.rglob(f"*{ESCAPED}*"))
    assert written
    assert [path for path in written if outbox not in path.parents] == []


# --- the couriers service ----------------------------------------------------------------------
# It publishes nothing when it follows a parcel or keeps a point: its effects are read from its
# tables, on both databases (PostgreSQL holds a column to its length, SQLite does not).

FOLLOWED, AT_POINT, KEPT = "followed", "followed at its point", "point kept"
NOTHING = "nothing kept"
"""Neither a parcel nor a point of the order: asked only once the group committed past its
record and a valid one after it, so the answer is final."""


def followed_as(carrier: str, tracking_number: str) -> str:
    """A parcel of the order followed, as this carrier's tracking number (exactly)."""
    return f"followed as {carrier} {tracking_number}"


@dataclass
class CouriersService(Service):
    """The couriers service, whose effects are the rows of its tables, by order id."""

    engine: AsyncEngine | None = None
    kept: dict[str, set[str]] = field(default_factory=dict)

    async def look(self) -> None:
        """Read what the tables hold now."""
        assert self.engine is not None
        kept: dict[str, set[str]] = {}
        async with self.engine.connect() as conn:
            for row in await conn.execute(sa.select(parcels)):
                held = kept.setdefault(row.order_id, set())
                held |= {FOLLOWED, followed_as(row.carrier, row.tracking_number)}
                if row.point is not None:
                    held.add(AT_POINT)
            for row in await conn.execute(sa.select(points.c.order_id)):
                kept.setdefault(row.order_id, set()).add(KEPT)
        self.kept = kept

    async def effect(self, subject: str, kind: str) -> Message:
        try:
            async with asyncio.timeout(WAIT):
                while not (found := self.found(subject, kind)):
                    await asyncio.sleep(0.02)
                    await self.look()
        except TimeoutError:
            pytest.fail(f"timed out waiting for {kind} of {subject}")
        assert found is not None
        return found

    def found(self, subject: str, kind: str) -> Message | None:
        """As last looked: `meets` looks for the valid record's effect after the hostile one's,
        on the same partition, so the look holds the hostile record's effect too."""
        held = self.kept.get(subject, set())
        if kind == NOTHING:
            return None if held else {"subject": subject}
        return {"subject": subject, "kind": kind} if kind in held else None


def at_point(order: str) -> tuple[Message, Message]:
    """The order accepted for a Zásilkovna point, and its parcel (its own) dispatched."""
    accepted, dispatched = pickup_journey(order)[:2]
    number = f"Z-{order.removeprefix('ord-')}"
    url = f"https://sledovani.example.cz/zasilkovna/{number}"
    return accepted, placed(dispatched, {"data.tracking_number": number, "data.tracking_url": url})


def accepted_at_point(order: str) -> tuple[tuple[Step, ...], Message]:
    return (), at_point(order)[0]


def dispatched(order: str) -> tuple[tuple[Step, ...], Message]:
    return (), at_point(order)[1]


def couriers_valid(topic: str, order: str) -> list[Step]:
    """The order's point and its dispatch, the one on `topic` last: the parcel at the point."""
    accepted, dispatch = at_point(order)
    if topic == "orders":
        return [("shipments", dispatch, FOLLOWED), ("orders", accepted, AT_POINT)]
    return [("orders", accepted, KEPT), ("shipments", dispatch, AT_POINT)]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def couriers_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """A new, empty database of the couriers service: a SQLite file or one on the server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('couriers') / 'couriers.db'}"
    server = make_url(request.getfixturevalue("postgres_server"))
    name = f"couriers_{uuid.uuid4().hex[:12]}"
    asyncio.run(create_database(server, name))
    return server.set(database=name).render_as_string(hide_password=False)


async def create_database(server: URL, name: str) -> None:
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port,
        user=server.username,
        password=server.password,
        database=server.database,
    )
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def couriers(
    kafka: str, producer: AIOKafkaProducer, couriers_database: str
) -> AsyncIterator[CouriersService]:
    unique = uuid.uuid4().hex[:8]
    topics = topics_of(("orders", "shipments"), unique)
    settings = CouriersSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"couriers-{unique}",
        database_url=couriers_database,
        **topics,
    )
    engine = connect(couriers_database)
    service = CouriersService(
        kafka,
        settings.group_id,
        {"orders": settings.orders_topic, "shipments": settings.shipments_topic},
        RecordWatch(kafka, settings.shipments_topic),  # unread: the effects are in the tables
        lambda message: str(message["type"]),
        couriers_valid,
        producer,
        engine=engine,
    )
    try:
        async with serving(service, build_couriers(settings, engine=engine), [*topics.values()]):
            yield service
    finally:
        await engine.dispose()


def courier_case(
    name: str,
    valid: Valid,
    changes: dict[str, object],
    fate: Fate,
    *,
    before: bool = False,
) -> Case:
    """`valid`'s event about a new order (the order id in `changes` if it names one), changed;
    sent once already, when `before`."""
    order = str(changes.get("subject", fresh()))
    _, message = valid(fresh())
    hostile = placed(message, {"subject": order, **changes})
    topic = "orders" if hostile["type"].startswith("order.") else "shipments"
    first = ((topic, hostile, fate.effect or FOLLOWED),) if before else ()
    return Case(
        f"{topic}-{name}",
        topic,
        dumped(hostile),
        fate,
        key=order.encode(),
        before=first,
        subject=order,
    )


def parcel_case(name: str, changes: dict[str, object], fate: Fate, **how: bool) -> Case:
    return courier_case(name, dispatched, changes, fate, **how)


def order_case(name: str, changes: dict[str, object], fate: Fate, **how: bool) -> Case:
    return courier_case(name, accepted_at_point, changes, fate, **how)


TRACKING = "data.tracking_number"
POINT = "data.delivery.point"
LONGEST_SHOP = ("k" + "-0123456789abcdef" * 4)[:64]
"""A shop id as long as the contract allows (64)."""
LONGEST_ORDER = "ord-" + "Řádek-📦-" * 12
"""An order id as long as the contract allows (100 characters, 178 bytes in UTF-8)."""
OWN_SOURCE = "/orderpulse/couriers/ppl"


def longest_tracking(first: str) -> str:
    """A new tracking number as long as the contract allows (60), starting with `first`."""
    return (first + uuid.uuid4().hex)[:60].ljust(60, "7")


OUR_CODE = {"ppl": "ppl", "zasilkovna": "packeta", "inpost": "inpost"}
"""The service's code of a carrier the contract names so."""


def followed_parcel(name: str, tracking_number: str, carrier: str = "ppl") -> Case:
    """A new order's dispatch of `tracking_number`: followed as exactly that."""
    return parcel_case(
        name,
        {TRACKING: tracking_number, "data.carrier": carrier},
        Fate(effect=followed_as(OUR_CODE[carrier.strip().lower()], tracking_number)),
    )


def taken_by_another_order() -> Case:
    """A parcel dispatched for one order, then for another: it stays the first order's."""
    first = dispatched(fresh())[1]
    second = placed(first, {"subject": fresh(), "id": f"evt-{uuid.uuid4().hex}"})
    return Case(
        "shipments-parcel-of-another-order",
        "shipments",
        dumped(second),
        Fate(effect=NOTHING),
        key=second["subject"].encode(),
        before=(("shipments", first, FOLLOWED),),
        subject=second["subject"],
    )


def with_a_space_after() -> Case:
    """A parcel dispatched, then another with the same tracking number and a space after it:
    two parcels (a tracking number is matched exactly, in the database as in Python)."""
    first = dispatched(fresh())[1]
    spaced = first["data"]["tracking_number"] + " "
    second = placed(first, {"subject": fresh(), "id": f"evt-{uuid.uuid4().hex}", TRACKING: spaced})
    return Case(
        "shipments-tracking-number-with-a-space-after",
        "shipments",
        dumped(second),
        Fate(effect=followed_as("packeta", spaced)),
        key=second["subject"].encode(),
        before=(("shipments", first, FOLLOWED),),
        subject=second["subject"],
    )


def cancelled() -> Case:
    """An order cancelled: nothing of it is kept."""
    order = fresh()
    message = event("order.cancelled", id=f"evt-{order}-cancelled", subject=order)
    return Case(
        "orders-cancelled",
        "orders",
        dumped(message),
        Fate(effect=NOTHING),
        key=order.encode(),
        subject=order,
    )


def lone_surrogate() -> Case:
    """A tracking number that is half a UTF-16 pair, as JSON can escape it: no text at all."""
    order = fresh()
    message = placed(dispatched(order)[1], {TRACKING: "SURROGATE"})
    value = dumped(message).replace(b'"SURROGATE"', b'"Z\\ud800"')
    return Case(
        "shipments-lone-surrogate-in-tracking-number",
        "shipments",
        value,
        Fate(dead="not valid JSON"),
        key=order.encode(),
        subject=order,
    )


LONG_URL = "https://sledovani.example.cz/" + "a" * 5000
"""A tracking page the contract reads (it sets no limit but the record's size)."""
ESCAPED_URL = "https://sledovani.example.cz/zásilka/" + "ř" * 1000
"""A tracking page of 1037 characters, 6042 once the contract percent-encodes it."""

# fmt: off
COURIERS_CASES = [
    *byte_level("orders", accepted_at_point, KEPT),
    *byte_level("shipments", dispatched, FOLLOWED),
    *far_ranges([
        ("orders", accepted_at_point, {"time": "time"}, KEPT),
        ("orders", accepted_at_point, {"data.promised_delivery": WINDOW}, KEPT),
        ("shipments", dispatched, {"time": "time"}, FOLLOWED),
        ("shipments", dispatched, {"data.expected_delivery": WINDOW}, FOLLOWED),
    ]),
    of_unknown_shop("orders", accepted_at_point, Fate(effect=KEPT)),  # it knows no shops
    of_unknown_shop("shipments", dispatched, Fate(effect=FOLLOWED)),
    # orders.v1: only a point is kept, of any length and script
    order_case("home-delivery", {"data.delivery": home_journey_for(fresh())[0]["data"]["delivery"]},
               Fate(effect=NOTHING)),
    order_case("of-its-own-source", {"source": OWN_SOURCE}, Fate(effect=NOTHING)),
    cancelled(),
    order_case("nul-in-order-id", {"subject": f"ord-\x00{uuid.uuid4().hex[:8]}"},
               Fate(effect=KEPT)),
    order_case("repeated", {}, Fate(effect=KEPT), before=True),
    order_case("longest-ids", {"subject": LONGEST_ORDER, "shopid": LONGEST_SHOP},
               Fate(effect=KEPT)),
    order_case("long-point-id-and-name", {f"{POINT}.id": "Z-BOX " + "9" * 5000,
                                           f"{POINT}.name": "Výdejní místo 📦 " * 1000},
               Fate(effect=KEPT)),
    order_case("nul-in-point-name", {f"{POINT}.name": "Z-BOX\x00Praha"}, Fate(effect=KEPT)),
    # shipments.v1: a parcel is followed whatever the contract lets its ids be
    followed_parcel("longest-tracking-number", longest_tracking("PPL-")),
    followed_parcel("longest-tracking-number-accented", "Č" + "ř" * 59, carrier="zasilkovna"),
    followed_parcel("longest-tracking-number-4-byte", "📦" * 60, carrier="inpost"),
    followed_parcel("carrier-in-capitals-and-spaces", f"PPL-{uuid.uuid4().hex}", carrier=" PPL\t"),
    followed_parcel("carrier-capitalised", f"Z-{uuid.uuid4().hex}", carrier="Zasilkovna"),
    parcel_case("longest-ids", {"subject": LONGEST_ORDER.replace("ord", "čís"),
                                "shopid": LONGEST_SHOP}, Fate(effect=FOLLOWED)),
    parcel_case("longest-tracking-url", {"data.tracking_url": LONG_URL}, Fate(effect=FOLLOWED)),
    parcel_case("tracking-url-longer-percent-encoded", {"data.tracking_url": ESCAPED_URL},
                Fate(effect=FOLLOWED)),
    parcel_case("carrier-not-followed", {"data.carrier": "dhl"}, Fate(effect=NOTHING)),
    parcel_case("of-its-own-source", {"source": OWN_SOURCE}, Fate(effect=NOTHING)),
    parcel_case("in-transit", {"type": "shipment.in_transit"}, Fate(effect=NOTHING)),
    parcel_case("repeated", {}, Fate(effect=FOLLOWED), before=True),
    parcel_case("nul-in-tracking-number", {TRACKING: "Z\x00123"}, Fate(effect=FOLLOWED)),
    lone_surrogate(),
    taken_by_another_order(),
    with_a_space_after(),
]
# fmt: on


NUL_IN_TEXT = {"orders-nul-in-order-id", "shipments-nul-in-tracking-number"}
"""Kept on SQLite; PostgreSQL's text holds no NUL character, so there the record cannot be
handled and is dead-lettered, saying why (the contract lets an id hold one; no shop's does)."""


@pytest.mark.parametrize("case", COURIERS_CASES, ids=lambda case: case.id)
async def test_the_couriers_service_carries_on_after(couriers: CouriersService, case: Case) -> None:
    assert couriers.engine is not None
    if couriers.engine.dialect.name == "postgresql" and case.id in NUL_IN_TEXT:
        case = replace(case, fate=Fate(dead="0x00"))
    await meets(couriers, case)
