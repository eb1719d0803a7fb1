"""MyGLS GetParcelStatuses answers, read from recorded fixtures."""

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderpulse_couriers.carriers import gls
from orderpulse_couriers.reports import Milestone, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

FIXTURES = Path(__file__).parent.parent / "fixtures" / "gls"
CET = timezone(timedelta(hours=1))
PRAGUE = ZoneInfo("Europe/Prague")

# The parcel status codes of the MyGLS manual's appendix.
DOCUMENTED_CODES = [
    *map(str, range(1, 10)),
    *map(str, range(11, 40)),
    "43",
    "44",
    "46",
    "47",
    "51",
    "52",
    "53",
    "55",
    "56",
    "57",
    "58",
    *map(str, range(80, 92)),
    "94",
]


def payload(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_a_parcelshop_parcel_is_handed_over_waits_and_is_picked_up() -> None:
    reports = gls.read(payload("parcelshop_collected.json"))

    assert [(r.code, r.milestone) for r in reports] == [
        ("51", Milestone.IGNORED),
        ("1", Milestone.HANDED_OVER),
        ("2", Milestone.IN_TRANSIT),
        ("3", Milestone.IN_TRANSIT),
        ("4", Milestone.OUT_FOR_DELIVERY),
        ("55", Milestone.AT_PICKUP_POINT),
        ("5", Milestone.PICKED_UP),
    ]
    assert reports[1].time == datetime(2026, 11, 30, 16, 45, tzinfo=CET)
    assert reports[5].time == datetime(2026, 12, 1, 11, 20, tzinfo=CET)
    assert reports[5].location == "Brno"
    assert reports[5].note == "Zásilka byla doručena do GLS ParcelShopu."
    assert {r.tracking_number for r in reports} == {"601234567"}
    assert all(r.carrier == "gls" for r in reports)


def test_a_refused_parcel_goes_back() -> None:
    reports = gls.read(payload("refused_returned.json"))

    assert [(r.code, r.milestone, r.failure) for r in reports] == [
        ("1", Milestone.HANDED_OVER, None),
        ("4", Milestone.OUT_FOR_DELIVERY, None),
        ("12", Milestone.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT),
        ("4", Milestone.OUT_FOR_DELIVERY, None),
        ("17", Milestone.DELIVERY_FAILED, FailureReason.REFUSED),
        ("23", Milestone.RETURNED_TO_SENDER, None),
    ]
    assert reports[4].time == datetime(2026, 12, 3, 10, 15, tzinfo=PRAGUE)  # ISO, no offset
    assert reports[-1].time == datetime(2026, 12, 4, 9, 30, tzinfo=CET)
    assert reports[0].tracking_number == "601234568"


def test_every_documented_code_is_mapped() -> None:
    assert set(DOCUMENTED_CODES) <= set(gls.CODES)
    assert set(gls.FAILURES) <= set(gls.CODES)
    assert all(gls.CODES[code] is Milestone.DELIVERY_FAILED for code in gls.FAILURES)


def test_an_unknown_code_is_reported_without_a_milestone() -> None:
    answer = json.loads(payload("parcelshop_collected.json"))
    answer["ParcelStatusList"][2]["StatusCode"] = "54"

    report = gls.read(json.dumps(answer).encode())[2]

    assert (report.code, report.milestone) == ("54", None)


def test_a_zero_padded_code_is_the_same_status() -> None:
    answer = json.loads(payload("parcelshop_collected.json"))
    answer["ParcelStatusList"][6]["StatusCode"] = "05"

    assert gls.read(json.dumps(answer).encode())[-1].milestone is Milestone.PICKED_UP


@pytest.mark.parametrize(
    "broken",
    [
        payload("not_found.json"),
        payload("refused_returned.json")[:-3],
        b"[]",
        payload("refused_returned.json").replace(b"2026-12-03T10:15:00", b"Petr Svoboda"),
        payload("parcelshop_collected.json").replace(b"/Date(1796313900000", b"/Date(" + b"9" * 30),
        payload("parcelshop_collected.json").replace(b'"StatusCode": "4"', b'"StatusCode": {}'),
    ],
)
def test_a_malformed_answer_is_unreadable_and_quotes_nothing(broken: bytes) -> None:
    with pytest.raises(UnreadablePayload) as raised:
        gls.read(broken)

    message = str(raised.value)
    for personal in ("Nováková", "Svoboda", "+420", "NOVAKOVA", "601234", "OBJ-2026"):
        assert personal not in message
