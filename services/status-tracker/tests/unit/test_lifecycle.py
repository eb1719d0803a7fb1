"""The lifecycle, fact by fact: pure decisions, no storage or broker."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from orderpulse_schemas.status import OrderStatus
from orderpulse_status_tracker.facts import Fact, TimerFired
from orderpulse_status_tracker.lifecycle import decide
from orderpulse_status_tracker.messages import Topics
from orderpulse_status_tracker.policy import ALL_KINDS, ShopPolicy
from orderpulse_status_tracker.state import TrackedOrder
from orderpulse_status_tracker.timers import timers_for

from ..stories import as_fact, fact, home_journey, pickup_journey

TOPICS = Topics(order_status="status", notifications="requests")


class Run:
    """Applies facts one after another, as the tracker would, and keeps what they caused."""

    def __init__(self, policy: ShopPolicy | None = None) -> None:
        self.order: TrackedOrder | None = None
        self.policy = policy or ShopPolicy()
        self.notices: list[str] = []
        self.statuses: list[str] = []
        self.changes: list[dict[str, Any]] = []
        self.requests: list[dict[str, Any]] = []

    def apply(self, *facts: Fact | dict[str, Any]) -> "Run":
        for item in facts:
            parsed = as_fact(item) if isinstance(item, dict) else item
            decision = decide(self.order, parsed, self.policy, TOPICS)
            self.order = decision.order
            for message in decision.outgoing:
                if message.topic == "status":
                    self.changes.append(message.value)
                    self.statuses.append(message.value["data"]["status"])
                else:
                    self.requests.append(message.value)
                    self.notices.append(message.value["data"]["notice"]["kind"])
        return self


def test_a_home_delivery_tells_the_customer_each_real_step() -> None:
    run = Run().apply(*home_journey())
    assert run.notices == ["order_accepted", "order_dispatched", "out_for_delivery", "delivered"]
    assert run.statuses == ["accepted", "dispatched", "in_transit", "out_for_delivery", "delivered"]
    causes = [m["id"] for m in home_journey() if m["type"] != "shipment.in_transit"]
    assert [r["data"]["cause_id"] for r in run.requests] == causes  # outcomes name it too


def test_a_pickup_point_delivery_gives_the_point_the_code_and_the_deadline() -> None:
    run = Run().apply(*pickup_journey())
    assert run.notices == ["order_accepted", "order_dispatched", "at_pickup_point", "picked_up"]
    notice = run.requests[2]["data"]["notice"]
    assert notice["pickup_code"] == "483921"
    assert notice["stored_until"] == "2026-11-11T23:59:00+01:00"
    assert notice["point"]["name"].startswith("Praha 2")
    assert notice["cash_on_delivery"] == {"amount": "689.00", "currency": "CZK"}


def test_the_same_facts_twice_say_nothing_new() -> None:
    run = Run().apply(*home_journey())
    said = list(run.notices)
    again = [dict(e, id=e["id"] + "-resent") for e in home_journey()[1:]]
    run.apply(*again)
    assert run.notices == said


def test_a_late_transit_scan_does_not_move_a_delivered_order_back() -> None:
    run = Run().apply(*home_journey())
    run.apply(fact("shipment.in_transit", id="evt-late-scan"))
    assert run.order is not None and run.order.status is OrderStatus.DELIVERED
    assert run.statuses[-1] == "delivered"


def test_an_order_of_two_parcels_is_delivered_when_both_are() -> None:
    run = Run().apply(fact("order.accepted"), fact("shipment.dispatched", data={"parcel_count": 2}))
    second = {"tracking_number": "40512345679"}
    run.apply(
        fact("shipment.dispatched", id="evt-2nd-dispatched", data={**second, "parcel_count": 2})
    )
    run.apply(fact("shipment.delivered"))
    assert run.notices == ["order_accepted", "order_dispatched"]
    run.apply(fact("shipment.delivered", id="evt-2nd-delivered", data=second))
    assert run.notices[-1] == "delivered"
    assert run.order is not None and run.order.closed


def two_parcels_delivered(first_at: str, second_at: str) -> Run:
    """An order of two parcels; the first parcel's delivery is processed first."""
    second = {"tracking_number": "40512345679"}
    run = Run().apply(fact("order.accepted"), fact("shipment.dispatched", data={"parcel_count": 2}))
    run.apply(
        fact("shipment.dispatched", id="evt-2nd-dispatched", data={**second, "parcel_count": 2})
    )
    run.apply(fact("shipment.delivered", time=first_at))
    return run.apply(
        fact("shipment.delivered", id="evt-2nd-delivered", time=second_at, data=second)
    )


def test_an_order_of_two_parcels_is_received_when_the_second_is() -> None:
    run = two_parcels_delivered("2026-11-27T10:21:09+01:00", "2026-11-28T15:02:00+01:00")
    assert run.changes[-1]["data"]["status"] == "delivered"
    assert run.changes[-1]["time"] == "2026-11-28T15:02:00+01:00"
    assert run.requests[-1]["data"]["notice"]["received_at"] == "2026-11-28T15:02:00+01:00"


def test_parcels_delivered_out_of_order_date_the_order_by_the_later_one() -> None:
    # The parcel delivered last comes first; the one delivered earlier closes the order.
    run = two_parcels_delivered("2026-11-28T15:02:00+01:00", "2026-11-27T10:21:09+01:00")
    assert run.order is not None and run.order.closed
    assert run.order.last_progress_at == datetime.fromisoformat("2026-11-28T15:02:00+01:00")
    assert run.changes[-1]["data"]["status"] == "delivered"
    assert run.changes[-1]["data"]["cause_id"] == "evt-2nd-delivered"
    assert run.changes[-1]["time"] == "2026-11-28T15:02:00+01:00"
    assert run.requests[-1]["data"]["notice"] == {
        "kind": "delivered",
        "received_at": "2026-11-28T15:02:00+01:00",
    }


def test_a_scan_that_comes_late_does_not_take_the_last_progress_back() -> None:
    run = Run().apply(fact("order.accepted"), fact("shipment.dispatched", data={"parcel_count": 2}))
    other = {"tracking_number": "40512345679"}
    run.apply(
        fact("shipment.in_transit", id="evt-2nd-scan", time="2026-11-25T08:00:00+01:00", data=other)
    )
    run.apply(fact("shipment.in_transit", time="2026-11-24T21:00:00+01:00"))
    assert run.order is not None
    assert run.order.last_progress_at == datetime.fromisoformat("2026-11-25T08:00:00+01:00")


def test_only_a_pickup_says_where_the_order_was_collected() -> None:
    run = Run().apply(*pickup_journey())
    point = pickup_journey()[2]["data"]["point"]
    assert run.statuses[-2:] == ["at_pickup_point", "picked_up"]
    assert run.changes[-1]["data"]["collected_from"] == {"carrier": "zasilkovna", "point": point}
    assert all("collected_from" not in c["data"] for c in run.changes[:-1])
    home = Run().apply(*home_journey())
    assert all("collected_from" not in c["data"] for c in home.changes)


def test_a_pickup_from_an_unknown_point_says_none() -> None:
    journey = pickup_journey()
    run = Run().apply(*journey[:2], journey[3])  # the carrier never said the parcel was waiting
    assert run.statuses[-1] == "picked_up"
    assert "collected_from" not in run.changes[-1]["data"]


def test_a_delay_says_why_and_until_when_once_per_new_date() -> None:
    run = Run().apply(fact("order.accepted"), fact("shipment.dispatched"), fact("shipment.delayed"))
    run.apply(fact("shipment.delayed", id="evt-same-delay-again"))
    later = {"new_expected_delivery": {"earliest": "2026-11-28", "latest": "2026-11-28"}}
    run.apply(fact("shipment.delayed", id="evt-later-delay", data=later))
    delays = [
        r["data"]["notice"] for r in run.requests if r["data"]["notice"]["kind"] == "order_delayed"
    ]
    assert [d["new_expected_delivery"]["latest"] for d in delays] == ["2026-11-05", "2026-11-28"]
    assert {d["source"] for d in delays} == {"carrier"}
    assert all(d["reason"] for d in delays)


def test_a_shop_delay_before_dispatch_is_announced() -> None:
    run = Run().apply(fact("order.accepted"), fact("order.delayed"))
    assert run.notices == ["order_accepted", "order_delayed"]
    assert run.requests[-1]["data"]["notice"]["source"] == "shop"


def test_a_cancelled_order_ignores_later_courier_facts() -> None:
    run = Run().apply(fact("order.accepted"), fact("order.cancelled", subject="ord-10045"))
    run.apply(fact("shipment.dispatched"))
    assert run.notices == ["order_accepted", "order_cancelled"]
    assert run.statuses == ["accepted", "cancelled"]


def test_statuses_a_shop_does_not_want_announced_still_change() -> None:
    quiet = ShopPolicy(notify=ALL_KINDS - {"out_for_delivery", "order_dispatched"})
    run = Run(quiet).apply(*home_journey())
    assert run.notices == ["order_accepted", "delivered"]
    assert "out_for_delivery" in run.statuses


def test_an_erased_customer_is_told_nothing_more() -> None:
    run = Run().apply(fact("order.accepted"))
    assert run.order is not None
    run.order = replace(run.order, customer=None)
    run.apply(fact("shipment.dispatched"))
    assert run.notices == ["order_accepted"]


def test_a_promised_dispatch_day_passing_with_no_parcel_is_announced() -> None:
    run = Run().apply(fact("order.accepted"))
    assert run.order is not None
    due = timers_for(run.order, run.policy)["dispatch_overdue"]
    assert due.isoformat() == "2026-11-03T00:00:00+01:00"  # the end of the promised day, in Prague
    run.apply(TimerFired("kvetinac-cz", "ord-10045", "dispatch_overdue", due))
    assert run.requests[-1]["data"]["notice"] == {"kind": "order_delayed", "source": "overdue"}
    assert "dispatch_overdue" not in timers_for(run.order, run.policy)  # fired once


def test_a_passed_delivery_date_says_when_the_parcel_was_last_seen() -> None:
    run = Run().apply(*home_journey()[:3])
    assert run.order is not None
    due = timers_for(run.order, run.policy)["delivery_overdue"]
    run.apply(TimerFired("kvetinac-cz", "ord-10045", "delivery_overdue", due))
    assert run.requests[-1]["data"]["notice"]["last_progress_on"] == "2026-11-03"


def test_a_pickup_reminder_comes_a_day_before_the_deadline_unless_picked_up() -> None:
    run = Run().apply(*pickup_journey()[:3])
    assert run.order is not None
    due = timers_for(run.order, run.policy)["pickup_reminder"]
    assert due == datetime.fromisoformat("2026-11-11T23:59:00+01:00") - timedelta(hours=24)
    reminded = Run().apply(
        *pickup_journey()[:3], TimerFired("kvetinac-cz", "ord-10046", "pickup_reminder", due)
    )
    assert reminded.notices[-1] == "pickup_reminder"
    assert reminded.requests[-1]["data"]["notice"]["pickup_code"] == "483921"


def test_progress_cancels_timers_and_a_late_timer_says_nothing() -> None:
    run = Run().apply(*pickup_journey())
    assert run.order is not None
    assert timers_for(run.order, run.policy) == {}
    said = len(run.notices)
    run.apply(
        TimerFired(
            "kvetinac-cz",
            "ord-10046",
            "pickup_reminder",
            datetime.fromisoformat("2026-12-01T23:59:00+01:00"),
        )
    )
    run.apply(
        TimerFired(
            "kvetinac-cz",
            "ord-10046",
            "delivery_overdue",
            datetime.fromisoformat("2026-12-01T00:00:00+01:00"),
        )
    )
    assert len(run.notices) == said


def test_a_parcel_waiting_at_a_pickup_point_is_not_overdue() -> None:
    run = Run().apply(*pickup_journey()[:3])
    assert run.order is not None
    assert set(timers_for(run.order, run.policy)) == {"pickup_reminder"}
    late = datetime.fromisoformat("2026-12-05T00:00:00+01:00")
    run.apply(TimerFired("kvetinac-cz", "ord-10046", "delivery_overdue", late))
    assert run.notices[-1] == "at_pickup_point"
