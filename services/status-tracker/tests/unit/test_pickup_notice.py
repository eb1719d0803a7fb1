"""The pickup notices carry what the carrier said of the point and the parcel (issue 16)."""

from typing import Any

from pydantic import TypeAdapter

from orderpulse_status_tracker.facts import TimerFired
from orderpulse_status_tracker.state import TrackedOrder
from orderpulse_status_tracker.timers import timers_for

from ..stories import pickup_journey
from .test_lifecycle import Run

DISPATCH_TRACKING = "https://sledovani.example.cz/zasilkovna/Z2045718836"
# An InPost Paczkomat as InPost's points API describes it, with InPost's six-digit code.
PACZKOMAT = {
    "id": "KRA010M",
    "name": "Paczkomat KRA010M",
    "address": {
        "street": "ul. Józefa Dietla 64",
        "city": "Kraków",
        "postal_code": "31-039",
        "country": "PL",
    },
    "opening_hours": [],
    "kind": "locker",
    "latitude": 50.05381,
    "longitude": 19.94339,
}
CARRIER_SAID = {
    "carrier": "inpost",
    "point": PACZKOMAT,
    "pickup_code": "719305",
    "cash_on_delivery": {"amount": "149.99", "currency": "PLN"},
    "card_accepted": True,
    "tracking_url": "https://inpost.example.pl/sledzenie-przesylek?number=Z2045718836",
    "storage_extension_url": "https://inpost.example.pl/przedluz?number=Z2045718836",
}


def journey(**at_point: Any) -> list[dict[str, Any]]:
    """The pickup journey until the parcel waits, the carrier's data at the point changed."""
    accepted, dispatched, waiting, _ = pickup_journey()
    changed = waiting["data"] | at_point
    waiting["data"] = {key: value for key, value in changed.items() if value is not None}
    return [accepted, dispatched, waiting]


def reminded(run: Run) -> dict[str, Any]:
    """The reminder the order's timer sends, from the state the order was stored in."""
    assert run.order is not None
    stored = TypeAdapter(TrackedOrder)
    order = stored.validate_python(stored.dump_python(run.order, mode="json"))
    assert order == run.order, "what the reminder needs survives the database"
    due = timers_for(order, run.policy)["pickup_reminder"]
    run.order = order
    run.apply(TimerFired("kvetinac-cz", "ord-10046", "pickup_reminder", due))
    assert run.notices[-1] == "pickup_reminder"
    notice: dict[str, Any] = run.requests[-1]["data"]["notice"]
    return notice


def test_the_notice_and_the_reminder_carry_every_field_the_carrier_gave() -> None:
    run = Run().apply(*journey(**CARRIER_SAID))
    arrived = run.requests[-1]["data"]["notice"]
    assert arrived["kind"] == "at_pickup_point"
    for notice in (arrived, reminded(run)):
        assert {key: notice[key] for key in CARRIER_SAID} == CARRIER_SAID


def test_without_a_tracking_link_at_the_point_the_dispatch_s_is_linked() -> None:
    run = Run().apply(*journey(tracking_url=None))
    assert run.requests[1]["data"]["notice"]["tracking_url"] == DISPATCH_TRACKING
    assert run.requests[-1]["data"]["notice"]["tracking_url"] == DISPATCH_TRACKING
    assert reminded(run)["tracking_url"] == DISPATCH_TRACKING


def test_the_dispatch_of_another_parcel_lends_it_no_link() -> None:
    accepted, dispatched, waiting = journey(tracking_url=None, tracking_number="Z2045718837")
    run = Run().apply(accepted, dispatched, waiting)
    assert run.requests[-1]["data"]["notice"].get("tracking_url") is None


def test_without_a_code_the_notice_and_the_reminder_carry_none() -> None:
    """InPost's and Packeta's tracking feeds give no code, the carrier sends it (issue 17)."""
    run = Run().apply(*journey(**CARRIER_SAID | {"pickup_code": None}))
    arrived = run.requests[-1]["data"]["notice"]
    assert arrived["kind"] == "at_pickup_point"
    for notice in (arrived, reminded(run)):
        assert notice.get("pickup_code") is None
        assert notice["point"] == PACZKOMAT and notice["carrier"] == "inpost"
