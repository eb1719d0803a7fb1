"""No record stops a consumer (issue 15): each service (the tracker, returns and the notifier;
couriers in `test_hostile_records_couriers.py`), in-process on a real broker, meets a record of
every hostile class, then a valid one on the same partition (`hostile.meets`).

For each, the valid record takes effect, the hostile one ends where it belongs (its topic's
`.dlq` with a reason, or its documented effect) and the group commits past both. One instance
of each service takes all its cases: a consumer wedged by one would fail every case after it.
"""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from orderpulse_devkit.journeys import event, home_journey_for, pickup_journey, return_journey_for
from orderpulse_devkit.records import RecordWatch
from orderpulse_devkit.services import announce_everything
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


def notice_kind(request: Message) -> str:
    return str(request["data"]["notice"]["kind"])


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
