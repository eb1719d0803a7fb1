"""Česká pošta's B2B getParcelStatus answers, read from recorded fixtures."""

import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from orderpulse_couriers.carriers import ceska_posta
from orderpulse_couriers.reports import Milestone, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

FIXTURES = Path(__file__).parent.parent / "fixtures" / "ceska_posta"
PRAGUE = ZoneInfo("Europe/Prague")

# Česká pošta's "Stav zásilky" list.
DOCUMENTED_CODES = [
    "21",
    "75",
    "51",
    "8D",
    "8E",
    "82",
    "8T",
    "8U",
    "8Z",
    "88",
    "91",
    "95",
    "96",
    "97",
    "98",
    "9B",
    "9E",
    "9V",
]
# The codes of the example answer in Česká pošta's B2B POL documentation (getParcelState).
EXAMPLE_CODES = ["21", "-F", "-I", "-B", "51", "53", "91"]


def payload() -> bytes:
    return (FIXTURES / "parcel_status.json").read_bytes()


def test_a_parcel_kept_at_the_post_office_is_picked_up() -> None:
    reports = [r for r in ceska_posta.read(payload()) if r.tracking_number == "DR1234567890E"]

    assert [(r.code, r.milestone) for r in reports] == [
        ("-M", Milestone.IGNORED),
        ("21", Milestone.HANDED_OVER),
        ("-F", Milestone.IN_TRANSIT),
        ("-I", Milestone.IN_TRANSIT),
        ("-B", Milestone.IN_TRANSIT),
        ("51", Milestone.IN_TRANSIT),
        ("82", Milestone.AT_PICKUP_POINT),
        ("91", Milestone.PICKED_UP),
    ]
    stored = reports[6]
    assert stored.time == datetime(2026, 12, 1, tzinfo=PRAGUE)  # a day, not a time
    assert stored.point_id == "60200"
    assert stored.location == "Brno 2"
    assert stored.stored_until == datetime(2026, 12, 16, 23, 59, 59, tzinfo=PRAGUE)
    assert stored.cash_on_delivery == (Decimal("1299.0"), "CZK")
    assert reports[1].point_id is None and reports[1].stored_until is None
    assert all(r.carrier == "ceska_posta" for r in reports)


def test_a_refused_parcel_goes_back_to_the_sender() -> None:
    reports = [r for r in ceska_posta.read(payload()) if r.tracking_number == "DR9876543210X"]

    assert [(r.code, r.milestone, r.failure) for r in reports] == [
        ("21", Milestone.HANDED_OVER, None),
        ("-F", Milestone.IN_TRANSIT, None),
        ("51", Milestone.IN_TRANSIT, None),
        ("53", Milestone.OUT_FOR_DELIVERY, None),
        ("95", Milestone.RETURNED_TO_SENDER, FailureReason.REFUSED),
        ("9V", Milestone.RETURNED_TO_SENDER, None),
    ]
    assert reports[-1].time == datetime(2026, 12, 4, tzinfo=PRAGUE)
    assert reports[-1].note == "Dodání zásilky odesílateli."


def test_every_documented_code_is_mapped() -> None:
    assert set(DOCUMENTED_CODES) <= set(ceska_posta.CODES)
    assert set(EXAMPLE_CODES) <= set(ceska_posta.CODES)
    assert set(ceska_posta.FAILURES) <= set(ceska_posta.CODES)


def test_an_unknown_code_is_reported_without_a_milestone() -> None:
    answer = json.loads(payload())
    answer["detail"][1]["parcelStatuses"][2]["id"] = "X7"

    report = ceska_posta.read(json.dumps(answer).encode())[10]

    assert (report.tracking_number, report.code, report.milestone) == ("DR9876543210X", "X7", None)


@pytest.mark.parametrize(
    "broken",
    [
        payload()[:300],
        b"null",
        b'{"errors": [{"code": "INVALID_PARCEL"}]}',
        payload().replace(b'"date": "2026-12-02", "text": "Do', b'"date": "Brno 2", "text": "Do'),
        payload().replace(b'"depositTo": "2026-12-16"', b'"depositTo": "DR1234567890E"'),
        payload().replace(b'"idParcel": "DR9876543210X"', b'"idParcel": null'),
    ],
)
def test_a_malformed_answer_is_unreadable_and_quotes_nothing(broken: bytes) -> None:
    with pytest.raises(UnreadablePayload) as raised:
        ceska_posta.read(broken)

    message = str(raised.value)
    for recorded in ("DR1234567890E", "DR9876543210X", "Brno", "Praha", "60200"):
        assert recorded not in message
