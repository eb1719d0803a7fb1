"""Facts for tests, built from the contract's examples: the stories of ord-10045 and ord-10046."""

from typing import Any

from pydantic import TypeAdapter

from orderpulse_schemas import examples
from orderpulse_status_tracker.facts import EventFact, Fact

_FACT: TypeAdapter[Fact] = TypeAdapter(EventFact)


def event(event_type: str, **changes: Any) -> dict[str, Any]:
    """The example of `event_type` with envelope fields replaced and `data` fields merged."""
    topic = "orders.v1" if event_type.startswith("order.") else "shipments.v1"
    message = examples.load(topic, event_type)
    message["data"].update(changes.pop("data", {}))
    message.update(changes)
    return message


def fact(event_type: str, **changes: Any) -> Fact:
    """The same, parsed as the tracker sees it."""
    return as_fact(event(event_type, **changes))


def as_fact(message: dict[str, Any]) -> Fact:
    """An event message parsed as the tracker sees it."""
    return _FACT.validate_python(message)


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
        event("shipment.dispatched", id=f"evt-{order}-dispatched", subject=order, data=parcel),
        event("shipment.at_pickup_point", id=f"evt-{order}-at-point", subject=order),
        event("shipment.picked_up", id=f"evt-{order}-picked-up", subject=order),
    ]
