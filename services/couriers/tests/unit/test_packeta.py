"""Packeta: its documented status codes and its API's answers, read into reports."""

import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderpulse_couriers.carriers import packeta
from orderpulse_couriers.reports import Milestone, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

FIXTURES = Path(__file__).parents[1] / "fixtures" / "packeta"
PRAGUE = ZoneInfo("Europe/Prague")
PACKET = "Z 123 4567 890"

# "Packet status codes" of Packeta's API reference, as Packeta's own shop modules list them.
DOCUMENTED = {
    "1": "received data",
    "2": "arrived",
    "3": "prepared for departure",
    "4": "departed",
    "5": "ready for pickup",
    "6": "handed to carrier",
    "7": "delivered",
    "9": "posted back",
    "10": "returned",
    "11": "cancelled",
    "12": "collected",
    "14": "customs",
    "15": "reverse packet arrived",
    "16": "delivery attempt",
    "17": "rejected by recipient",
    "999": "unknown",
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_every_documented_code_is_mapped_or_ignored() -> None:
    assert set(packeta.CODES) == set(DOCUMENTED)


def test_failure_reasons_only_for_failures() -> None:
    assert all(packeta.CODES[code] is Milestone.DELIVERY_FAILED for code in packeta.FAILURES)


def test_a_pickup_point_journey() -> None:
    reports = packeta.read(fixture("packet_tracking_picked_up.xml"), packet_id=PACKET)

    assert [(r.code, r.milestone) for r in reports] == [
        ("1", Milestone.IGNORED),
        ("2", Milestone.HANDED_OVER),
        ("3", Milestone.IN_TRANSIT),
        ("4", Milestone.IN_TRANSIT),
        ("5", Milestone.AT_PICKUP_POINT),
        ("7", Milestone.PICKED_UP),
    ]
    assert {r.carrier for r in reports} == {"packeta"}
    assert {r.tracking_number for r in reports} == {PACKET}
    at_point = reports[4]
    assert at_point.time == datetime(2026, 3, 3, 10, 5, 31, tzinfo=PRAGUE)
    assert at_point.time.utcoffset() is not None
    assert at_point.point_id == "4321"
    assert at_point.note == "Zásilka je připravena k vyzvednutí."
    assert reports[3].point_id is None


def test_a_packet_never_collected_goes_back() -> None:
    reports = packeta.read(fixture("packet_tracking_not_collected.xml"), packet_id=PACKET)

    assert [r.milestone for r in reports][-3:] == [
        Milestone.AT_PICKUP_POINT,
        Milestone.RETURNED_TO_SENDER,
        Milestone.RETURNED_TO_SENDER,
    ]
    assert reports[-2].time == datetime(2026, 3, 11, 6, 12, 40, tzinfo=PRAGUE)


def test_a_refusal_at_the_door_says_why() -> None:
    reports = packeta.read(fixture("packet_tracking_home_refused.xml"), packet_id=PACKET)

    assert [(r.code, r.milestone, r.failure) for r in reports] == [
        ("12", Milestone.HANDED_OVER, None),
        ("16", Milestone.DELIVERY_FAILED, None),
        ("17", Milestone.DELIVERY_FAILED, FailureReason.REFUSED),
    ]


def test_delivered_without_a_pickup_point_is_a_delivery() -> None:
    reports = packeta.read(fixture("packet_tracking_home_delivered.xml"), packet_id=PACKET)

    assert reports[-1].code == "7"
    assert reports[-1].milestone is Milestone.DELIVERED


def test_packet_status_gives_stored_until() -> None:
    (report,) = packeta.read(fixture("packet_status_ready_for_pickup.xml"), packet_id=PACKET)

    assert report.milestone is Milestone.AT_PICKUP_POINT
    assert report.point_id == "4321"
    assert report.stored_until == datetime(2026, 3, 10, 23, 59, 59, tzinfo=PRAGUE)
    assert report.pickup_code is None  # Packeta's status answers do not carry it


def test_an_unknown_code_is_reported_without_a_milestone() -> None:
    payload = fixture("packet_status_ready_for_pickup.xml").replace(
        b"<statusCode>5</statusCode>", b"<statusCode>31</statusCode>"
    )

    (report,) = packeta.read(payload, packet_id=PACKET)

    assert report.code == "31"
    assert report.milestone is None
    assert report.point_id is None


def test_a_history_out_of_order_is_read_oldest_first() -> None:
    answer = ET.fromstring(fixture("packet_tracking_picked_up.xml"))
    result = answer.find("result")
    assert result is not None
    result[:] = reversed(list(result))

    reports = packeta.read(ET.tostring(answer), packet_id=PACKET)

    assert [r.code for r in reports] == ["1", "2", "3", "4", "5", "7"]


def test_an_empty_history_has_no_reports() -> None:
    payload = b"<response><status>ok</status><result></result></response>"

    assert packeta.read(payload, packet_id=PACKET) == []


@pytest.mark.parametrize(
    "payload",
    [
        b"<response><status>ok</status><result><record><dateTime>2026",
        b"<response><status>ok</status><result><record><dateTime>yesterday</dateTime>"
        b"<statusCode>5</statusCode><statusText>Jana Nov\xc3\xa1kov\xc3\xa1, +420 777 123 456"
        b"</statusText></record></result></response>",
        b"<response><status>ok</status><result><record><dateTime>2026-03-02T09:15:12"
        b"</dateTime><statusCode>ready</statusCode><statusText>Jana Nov\xc3\xa1kov\xc3\xa1"
        b"</statusText></record></result></response>",
        b"<packetTracking><record><statusText>Jana Nov\xc3\xa1kov\xc3\xa1</statusText></record>"
        b"</packetTracking>",
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "Jana Nov\xc3\xa1kov\xc3\xa1">]>'
        b"<response><status>ok</status><result>&a;</result></response>",
        b"",
    ],
)
def test_a_malformed_answer_is_refused_without_quoting_it(payload: bytes) -> None:
    with pytest.raises(UnreadablePayload) as refused:
        packeta.read(payload, packet_id=PACKET)

    message = str(refused.value)
    assert "Nováková" not in message
    assert "777" not in message


def test_a_fault_is_refused_without_quoting_it() -> None:
    with pytest.raises(UnreadablePayload) as refused:
        packeta.read(fixture("packet_tracking_fault.xml"), packet_id=PACKET)

    assert "1234567890" not in str(refused.value)
