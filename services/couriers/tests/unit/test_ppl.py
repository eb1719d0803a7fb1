"""PPL's CPL shipment tracking answers, read from recorded fixtures."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderpulse_couriers.carriers import ppl
from orderpulse_couriers.reports import Milestone, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ppl"
PRAGUE = ZoneInfo("Europe/Prague")

# The CPL API's ShipmentStates enum, as its documentation lists it.
DOCUMENTED_CODES = [
    "None",
    "Undelivered",
    "Delivered",
    "PickedUpFromSender",
    "DeliveredToPickupPoint",
    "OutForDelivery",
    "NotDelivered",
    "CodPaidDate",
    "BackToSender",
    "Rejected",
    "DataShipment",
    "Active",
    "Canceled",
    "Dormant",
]


def payload() -> bytes:
    return (FIXTURES / "shipments.json").read_bytes()


def test_a_parcelshop_shipment_is_handed_over_waits_at_the_point_and_is_picked_up() -> None:
    reports = [r for r in ppl.read(payload()) if r.tracking_number == "71234567890"]

    assert [(r.code, r.milestone) for r in reports] == [
        ("Active", Milestone.IGNORED),
        ("PickedUpFromSender", Milestone.HANDED_OVER),
        ("ShipmentInTransport", Milestone.IN_TRANSIT),
        ("DeliveredToPickupPoint", Milestone.AT_PICKUP_POINT),
        ("Delivered", Milestone.PICKED_UP),
    ]
    assert reports[1].time == datetime(2026, 11, 30, 16, 45, tzinfo=PRAGUE)
    at_point = reports[3]
    assert at_point.time == datetime(2026, 12, 1, 11, 20, tzinfo=PRAGUE)  # sent without offset
    assert at_point.point_id == "KM10203040"
    assert at_point.cash_on_delivery == (Decimal("1299.00"), "CZK")
    assert at_point.note == "Zásilka uložena na výdejním místě"
    assert all(r.carrier == "ppl" for r in reports)


def test_a_home_delivery_fails_is_refused_and_goes_back() -> None:
    reports = [r for r in ppl.read(payload()) if r.tracking_number == "40987654321"]

    assert [(r.code, r.milestone, r.failure) for r in reports] == [
        ("ShipmentInTransport.TakeOverFromSender", Milestone.HANDED_OVER, None),
        ("OutForDelivery", Milestone.OUT_FOR_DELIVERY, None),
        ("NotDelivered", Milestone.DELIVERY_FAILED, None),
        ("OutForDelivery", Milestone.OUT_FOR_DELIVERY, None),
        ("Rejected", Milestone.DELIVERY_FAILED, FailureReason.REFUSED),
        ("BackToSender", Milestone.RETURNED_TO_SENDER, None),
    ]
    assert reports[2].note == "Nedoručeno – adresát nezastižen"
    assert reports[-1].time == datetime(2026, 12, 4, 9, 30, tzinfo=PRAGUE)
    assert all(r.point_id is None and r.cash_on_delivery is None for r in reports)


def test_times_are_aware() -> None:
    assert all(r.time.tzinfo is not None for r in ppl.read(payload()))


def test_every_documented_code_is_mapped() -> None:
    assert set(DOCUMENTED_CODES) <= set(ppl.CODES)
    assert set(ppl.FAILURES) <= set(ppl.CODES)


def test_an_unknown_code_is_reported_without_a_milestone() -> None:
    answer = json.loads(payload())
    answer[1]["trackAndTrace"]["events"][1]["code"] = "SomethingNew.Tomorrow"

    report = next(r for r in ppl.read(json.dumps(answer).encode()) if r.time.day == 2)

    assert (report.code, report.milestone) == ("SomethingNew.Tomorrow", None)


def test_a_shipment_without_tracking_has_no_reports() -> None:
    answer = [{"shipmentNumber": "40000000001", "trackAndTrace": None}]

    assert ppl.read(json.dumps(answer).encode()) == []


@pytest.mark.parametrize(
    "broken",
    [
        payload()[:-40],  # cut off
        b"<html>502 Bad Gateway</html>",
        json.dumps({"shipments": json.loads(payload())}).encode(),  # not the documented array
        payload().replace(b'"eventDate": "2026-12-02T13:37', b'"eventDate": "Jana Nov'),
        payload().replace(b'"code": "Rejected"', b'"code": null'),
    ],
)
def test_a_malformed_answer_is_unreadable_and_quotes_nothing(broken: bytes) -> None:
    with pytest.raises(UnreadablePayload) as raised:
        ppl.read(broken)

    message = str(raised.value)
    for personal in ("Nováková", "Jana", "Svoboda", "+420", "@example", "Křenová", "40987654321"):
        assert personal not in message
