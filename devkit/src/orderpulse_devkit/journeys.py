"""Order journeys built from the contract's examples, for tests, benchmarks and the demo.

The examples tell the stories of ord-10045 (home delivery) and ord-10046 (pickup point); these
functions retell them for other orders and other days.
"""

import json
import re
from datetime import date, datetime, timedelta
from typing import Any

from orderpulse_schemas import examples

_HOME_PARCEL = "40512345678"
"""The PPL parcel of ord-10045 in the examples."""
_RETURN = "ret-10045-1"
"""The return of ord-10045 in the examples."""
RETURN_STEPS = ("return.requested", "return.label_issued", "return.received", "return.refunded")
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def event(event_type: str, **changes: Any) -> dict[str, Any]:
    """The example of `event_type` with envelope fields replaced and `data` fields merged."""
    topic = "orders.v1" if event_type.startswith("order.") else "shipments.v1"
    message = examples.load(topic, event_type)
    message["data"].update(changes.pop("data", {}))
    message.update(changes)
    return message


def home_journey() -> list[dict[str, Any]]:
    """ord-10045: accepted, dispatched by PPL, a transit scan, out for delivery, delivered."""
    return [
        event("order.accepted"),
        event("shipment.dispatched"),
        event("shipment.in_transit"),
        event("shipment.out_for_delivery"),
        event("shipment.delivered"),
    ]


def pickup_journey(order: str = "ord-10046") -> list[dict[str, Any]]:
    """An order sent to a Zásilkovna point, waiting there, then picked up."""
    point = examples.load("shipments.v1", "shipment.at_pickup_point")["data"]["point"]
    parcel = {"carrier": "zasilkovna", "tracking_number": "Z2045718836"}
    tracking = {"tracking_url": "https://sledovani.example.cz/zasilkovna/Z2045718836"}
    return [
        event(
            "order.accepted",
            id=f"evt-{order}-accepted",
            subject=order,
            data={
                "order_number": order[4:],
                "delivery": {"method": "pickup_point", "point": point},
            },
        ),
        event(
            "shipment.dispatched",
            id=f"evt-{order}-dispatched",
            subject=order,
            data=parcel | tracking,
        ),
        event("shipment.at_pickup_point", id=f"evt-{order}-at-point", subject=order),
        event("shipment.picked_up", id=f"evt-{order}-picked-up", subject=order),
    ]


def home_journey_for(order: str) -> list[dict[str, Any]]:
    """The home journey of ord-10045 told about `order`: its own event ids, number and parcel.

    Event ids are `evt-<order>-<step>`, the order number is the order id without `ord-`, and the
    parcel's tracking number (in URLs too) is derived from the order id.
    """
    number = order.removeprefix("ord-")
    parcel = f"PPL-{number}"
    journey = []
    for message in home_journey():
        message = json.loads(json.dumps(message).replace(_HOME_PARCEL, parcel))
        message.update(id=f"evt-{order}-{message['type'].split('.', 1)[1]}", subject=order)
        if message["type"] == "order.accepted":
            message["data"]["order_number"] = number
        journey.append(message)
    return journey


def return_journey_for(order: str) -> list[dict[str, Any]]:
    """The examples' return of ord-10045 told about `order`: requested, label, received, refunded.

    Event ids are `evt-<order>-<step>`, the return id (in the label's URL too) `ret-<number>-1`.
    """
    return_id = f"ret-{order.removeprefix('ord-')}-1"
    journey = []
    for step in RETURN_STEPS:
        message = json.loads(
            json.dumps(examples.load("returns.v1", step)).replace(_RETURN, return_id)
        )
        message.update(id=f"evt-{order}-{step.replace('.', '-')}", subject=order)
        journey.append(message)
    return journey


def later(message: dict[str, Any], days: int) -> dict[str, Any]:
    """`message` with every date and time in it moved by `days` (say, so no timer comes due)."""
    shifted: dict[str, Any] = _shift(message, timedelta(days=days))
    return shifted


def ended_yesterday(journeys: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """The journeys as if they ended yesterday, their promised dates a year ahead.

    Every fact keeps its place in its journey, all moved by whole days so the last fact of all
    was yesterday: consumers refuse a fact dated in the future. The dates the facts carry
    (promised and expected days, deadlines) move a year further, so that no timer of the
    tracker comes due.
    """
    last = max(date.fromisoformat(message["time"][:10]) for j in journeys for message in j)
    days = (date.today() - last).days - 1
    moved = []
    for journey in journeys:
        ahead = [later(message, days + 365) for message in journey]
        for message, original in zip(ahead, journey, strict=True):
            message["time"] = later(original, days)["time"]
        moved.append(ahead)
    return moved


def _shift(value: Any, delta: timedelta) -> Any:
    if isinstance(value, dict):
        return {key: _shift(item, delta) for key, item in value.items()}
    if isinstance(value, list):
        return [_shift(item, delta) for item in value]
    if isinstance(value, str) and _ISO_DAY.match(value):
        try:
            if len(value) == 10:
                return (date.fromisoformat(value) + delta).isoformat()
            return (datetime.fromisoformat(value) + delta).isoformat()
        except ValueError:
            return value
    return value


def upcoming(order_accepted: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """`order_accepted` promising dispatch tomorrow and delivery in two to three days.

    The examples are dated November 2026: replayed later, the tracker's timers would rightly
    find every promise broken and announce delays. The demo and process tests shift them.
    """
    day = today or date.today()
    data = order_accepted["data"]
    data["promised_dispatch"] = str(day + timedelta(days=1))
    data["promised_delivery"] = {
        "earliest": str(day + timedelta(days=2)),
        "latest": str(day + timedelta(days=3)),
    }
    return order_accepted


def at(message: dict[str, Any], moment: datetime) -> dict[str, Any]:
    """`message` as if it happened at `moment` (aware); its other dates keep their distance in days.

    Days count in `moment`'s time zone: a delivery expected the day after dispatch still is.
    """
    then = datetime.fromisoformat(message["time"]).astimezone(moment.tzinfo)
    moved = later(message, (moment.date() - then.date()).days)
    moved["time"] = moment.isoformat()
    return moved
