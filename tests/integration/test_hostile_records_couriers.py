"""No record stops the couriers consumer (issue 15's guarantee, `test_hostile_records.py` for the
other services): it meets a record of every hostile class on `orders.v1` and `shipments.v1`, then
a valid order and dispatch on the same partition, on SQLite and on PostgreSQL (which holds a
column to its length, where SQLite does not).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field, replace

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaProducer
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers.app import build_app as build_couriers
from orderpulse_couriers.settings import Settings as CouriersSettings
from orderpulse_couriers.tables import parcels, points
from orderpulse_devkit.journeys import event, home_journey_for, pickup_journey
from orderpulse_devkit.postgres import new_database
from orderpulse_devkit.records import RecordWatch
from orderpulse_kit.database import connect

from .hostile import (
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
    of_unknown_shop,
    placed,
    serving,
    topics_of,
)

pytestmark = pytest.mark.kafka


# It publishes nothing when it follows a parcel or keeps a point: its effects are read from its
# tables.

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
    return new_database(request.getfixturevalue("postgres_server"), "couriers")


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
        ("orders", accepted_at_point, {"data.promised_delivery": "window"}, KEPT),
        ("shipments", dispatched, {"time": "time"}, FOLLOWED),
        ("shipments", dispatched, {"data.expected_delivery": "window"}, FOLLOWED),
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
