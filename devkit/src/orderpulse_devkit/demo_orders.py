"""The demo's orders: what the shop publishes, and what Packeta's (fake) tracking says.

ord-10045 (home delivery, delivered, then withdrawn from), ord-20001 (an English customer's
order for a pickup point, just accepted) and ord-20002 (a Zásilkovna point, whose shop publishes
only its acceptance and dispatch: the rest comes from Packeta through couriers).
"""

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

from orderpulse_devkit.journeys import at, event, home_journey, upcoming
from orderpulse_devkit.peers import PacketaFake
from orderpulse_schemas import examples
from orderpulse_schemas.topics import ORDERS, RETURNS, SHIPMENTS

SHOP = "kvetinac-cz"
PACKET = "2045720002"
"""ord-20002's packet at Packeta; its barcode, the shop's tracking number, is Z and these digits."""
POINT = examples.load(SHIPMENTS, "shipment.at_pickup_point")["data"]["point"]
"""A Zásilkovna point in Prague (Packeta's branch 12873), open mo-fr 8-19 and sa 9-12."""


def home_order(now: datetime) -> list[dict[str, Any]]:
    """ord-10045 (Petr Novák) told as of now: delivered half an hour ago, then withdrawn from.

    Promises lie ahead and the delivery was early: a date already missed would make the tracker
    announce a delay, which is not this story.
    """
    accepted, dispatched, in_transit, out_for_delivery, delivered = home_journey()
    yesterday = (now - timedelta(days=1)).date()
    return [
        upcoming(at(accepted, now - timedelta(days=2)), today=yesterday),  # dispatch due today
        at(dispatched, now - timedelta(days=1)),  # expected today
        at(in_transit, now - timedelta(hours=18)),
        at(out_for_delivery, now - timedelta(hours=3)),
        at(delivered, now - timedelta(minutes=30)),
        at(examples.load(RETURNS, "return.requested"), now - timedelta(minutes=5)),
    ]


def pickup_order(now: datetime) -> dict[str, Any]:
    """ord-20001 (Emma Clarke, English): accepted a moment ago, for a Zásilkovna point."""
    english = upcoming(at(examples.load(ORDERS, "order.accepted"), now - timedelta(minutes=2)))
    point = examples.load(SHIPMENTS, "shipment.at_pickup_point")["data"]["point"]
    english.update(id="evt-demo-20001-accepted", subject="ord-20001")
    english["data"].update(
        order_number="20001",
        items=[{"name": "Monstera deliciosa, 60 cm", "quantity": 1}],
        total={"amount": "689.00", "currency": "CZK"},
        delivery={"method": "pickup_point", "point": point},
        carrier="zasilkovna",
    )
    english["data"]["customer"].update(
        first_name="Emma",
        last_name="Clarke",
        email="emma.clarke@example.com",
        phone="+447700900123",
        locale="en",
    )
    return english


def packeta_order(now: datetime) -> list[dict[str, Any]]:
    """ord-20002 (Jana Dvořáková), for a Zásilkovna point: all its shop publishes.

    Accepted and dispatched yesterday, with Packeta's barcode as the tracking number; what
    happens to the packet after that only Packeta's tracking tells.
    """
    order, barcode = "ord-20002", f"Z{PACKET}"
    accepted = event(
        "order.accepted",
        id="evt-demo-20002-accepted",
        subject=order,
        data={
            "order_number": "20002",
            "items": [{"name": "Fíkus Benjamina, 80 cm", "quantity": 1}],
            "total": {"amount": "899.00", "currency": "CZK"},
            "delivery": {"method": "pickup_point", "point": POINT},
            "carrier": "zasilkovna",
        },
    )
    accepted["data"]["customer"].update(
        first_name="Jana",
        last_name="Dvořáková",
        email="jana.dvorakova@example.cz",
        phone="+420602456789",
    )
    yesterday = (now - timedelta(days=1)).date()
    accepted = upcoming(at(accepted, now - timedelta(days=1)), today=yesterday)
    dispatched = at(
        event(
            "shipment.dispatched",
            id="evt-demo-20002-dispatched",
            source=f"/shops/{SHOP}/backend",
            subject=order,
            data={
                "carrier": "zasilkovna",
                "tracking_number": barcode,
                "tracking_url": f"https://sledovani.example.cz/zasilkovna/{barcode}",
            },
        ),
        now - timedelta(hours=20),
    )
    dispatched["data"]["expected_delivery"] = accepted["data"]["promised_delivery"]
    return [accepted, dispatched]


def journeys(now: datetime) -> list[dict[str, Any]]:
    """Every event the shop publishes in the demo, in the order it would publish them."""
    return [*home_order(now), pickup_order(now), *packeta_order(now)]


def last_pickup_day(now: datetime) -> date:
    """Packeta's stored-until for ord-20002: a weekday a few days ahead, when the point is open
    till 19:00 (the day before, the tracker would remind the customer)."""
    day = now.date() + timedelta(days=3)
    return day + timedelta(days=7 - day.weekday()) if day.weekday() >= 5 else day


async def ready_for_pickup(packeta: PacketaFake, now: datetime) -> None:
    """Once couriers has asked Packeta about ord-20002's packet (which arrived at a branch last
    night), the packet is ready for pickup at the customer's point."""
    # The fake has no event to wait on: its requests are a list, looked at ten times a second.
    while not any(packet == PACKET for _, packet in packeta.requests):  # noqa: ASYNC110
        await asyncio.sleep(0.1)
    ready = datetime.now(UTC).replace(microsecond=0)
    packeta.add_status(PACKET, 5, ready, branch_id=POINT["id"], stored_until=last_pickup_day(now))
