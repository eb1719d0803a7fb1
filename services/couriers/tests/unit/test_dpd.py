"""DPD's Parcel Life Cycle answers, read from recorded fixtures."""

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderpulse_couriers.carriers import dpd
from orderpulse_couriers.reports import Milestone, UnreadablePayload

FIXTURES = Path(__file__).parent.parent / "fixtures" / "dpd"
PRAGUE = ZoneInfo("Europe/Prague")

# ParcelLifeCycleService/2.0 `status` values, as DPD's documentation lists them.
DOCUMENTED_CODES = [
    "SHIPMENT",
    "ACCEPTED",
    "AT_SENDING_DEPOT",
    "ON_THE_ROAD",
    "AT_DELIVERY_DEPOT",
    "DELIVERED",
]


def payload(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_only_reached_statuses_are_reported() -> None:
    reports = dpd.read(payload("at_delivery_depot.json"))

    assert [(r.code, r.milestone) for r in reports] == [
        ("SHIPMENT", Milestone.IGNORED),
        ("ACCEPTED", Milestone.HANDED_OVER),
        ("AT_SENDING_DEPOT", Milestone.IN_TRANSIT),
        ("ON_THE_ROAD", Milestone.IN_TRANSIT),
        ("AT_DELIVERY_DEPOT", Milestone.IN_TRANSIT),
    ]
    assert reports[1].time == datetime(2026, 11, 30, 16, 45, tzinfo=PRAGUE)
    last = reports[-1]
    assert last.time == datetime(2026, 12, 1, 7, 58, tzinfo=PRAGUE)
    assert last.location == "Brno (CZ)"
    assert last.note == "Zásilka je v doručovacím depu. Doručení plánujeme na zítra."
    assert {r.tracking_number for r in reports} == {"13472012345678"}
    assert all(r.carrier == "dpd" for r in reports)


def test_a_delivered_parcel_with_iso_times() -> None:
    reports = dpd.read(payload("delivered.json"))

    # SHIPMENT is reached but has no date: it cannot be placed in time.
    assert [r.code for r in reports] == [
        "ACCEPTED",
        "AT_SENDING_DEPOT",
        "ON_THE_ROAD",
        "AT_DELIVERY_DEPOT",
        "DELIVERED",
    ]
    assert reports[0].time == datetime(2026, 12, 1, 16, 20, tzinfo=PRAGUE)
    delivered = reports[-1]
    assert delivered.milestone is Milestone.DELIVERED
    assert delivered.time == datetime(2026, 12, 2, 12, 20, 5, tzinfo=UTC)
    assert delivered.note == "Zásilka byla doručena."


def test_every_documented_code_is_mapped() -> None:
    assert set(DOCUMENTED_CODES) <= set(dpd.CODES)


def test_an_unknown_code_is_reported_without_a_milestone() -> None:
    answer = json.loads(payload("at_delivery_depot.json"))
    answer["parcellifecycleResponse"]["parcelLifeCycleData"]["statusInfo"][3]["status"] = "NEW"

    report = dpd.read(json.dumps(answer).encode())[3]

    assert (report.code, report.milestone) == ("NEW", None)


@pytest.mark.parametrize(
    "broken",
    [
        payload("at_delivery_depot.json")[:100],
        b"",
        b'{"parcellifecycleResponse": {"parcelLifeCycleData": null}}',
        payload("delivered.json").replace(b'"2026-12-02T05:30:00"', b'"Petr Svoboda"'),
        payload("delivered.json").replace(b'"parcelLabelNumber": "13472012345679"', b'"x": 1'),
    ],
)
def test_a_malformed_answer_is_unreadable_and_quotes_nothing(broken: bytes) -> None:
    with pytest.raises(UnreadablePayload) as raised:
        dpd.read(broken)

    message = str(raised.value)
    for personal in ("Nováková", "Svoboda", "Petr", "1347201234567"):
        assert personal not in message
