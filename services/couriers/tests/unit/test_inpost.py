"""InPost ShipX: its documented statuses, its webhook and its tracking answer, read into reports."""

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from orderpulse_couriers.carriers import inpost
from orderpulse_couriers.reports import Milestone, UnreadablePayload
from orderpulse_schemas.shipments import FailureReason

FIXTURES = Path(__file__).parents[1] / "fixtures" / "inpost"
CET = timezone(timedelta(hours=1))

# ShipX "Statuses" (GET /v1/statuses), in its order: the 53 names of InPost's Magento module
# (InPost-Magento/smartmage_inpost, Model/Config/Source/Status.php), the same in
# moku-systems/inpost-shipx (src/types/status/status.ts).
DOCUMENTED = [
    "created",
    "offers_prepared",
    "offer_selected",
    "confirmed",
    "dispatched_by_sender",
    "collected_from_sender",
    "taken_by_courier",
    "adopted_at_source_branch",
    "sent_from_source_branch",
    "ready_to_pickup_from_pok",
    "ready_to_pickup_from_pok_registered",
    "oversized",
    "adopted_at_sorting_center",
    "sent_from_sorting_center",
    "adopted_at_target_branch",
    "out_for_delivery",
    "ready_to_pickup",
    "pickup_reminder_sent",
    "delivered",
    "pickup_time_expired",
    "avizo",
    "claimed",
    "returned_to_sender",
    "canceled",
    "other",
    "dispatched_by_sender_to_pok",
    "out_for_delivery_to_address",
    "pickup_reminder_sent_address",
    "rejected_by_receiver",
    "undelivered_wrong_address",
    "undelivered_incomplete_address",
    "undelivered_unknown_receiver",
    "undelivered_cod_cash_receiver",
    "taken_by_courier_from_pok",
    "undelivered",
    "return_pickup_confirmation_to_sender",
    "ready_to_pickup_from_branch",
    "delay_in_delivery",
    "redirect_to_box",
    "canceled_redirect_to_box",
    "readdressed",
    "undelivered_no_mailbox",
    "undelivered_not_live_address",
    "undelivered_lack_of_access_letterbox",
    "missing",
    "stack_in_customer_service_point",
    "stack_parcel_pickup_time_expired",
    "unstack_from_customer_service_point",
    "courier_avizo_in_customer_service_point",
    "taken_by_courier_from_customer_service_point",
    "stack_in_box_machine",
    "unstack_from_box_machine",
    "stack_parcel_in_box_machine_pickup_time_expired",
]


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def test_every_documented_status_is_mapped_or_ignored() -> None:
    assert len(DOCUMENTED) == len(set(DOCUMENTED))
    assert set(inpost.CODES) == set(DOCUMENTED)


def test_failure_reasons_only_for_failures() -> None:
    assert all(inpost.CODES[code] is Milestone.DELIVERY_FAILED for code in inpost.FAILURES)


@pytest.mark.parametrize(
    ("code", "milestone", "failure"),
    [
        # "courier did not find the recipient; next attempt next working day"
        ("pickup_reminder_sent_address", Milestone.DELIVERY_FAILED, FailureReason.RECIPIENT_ABSENT),
        # "courier again did not find the recipient; the parcel set off back to the sender"
        ("avizo", Milestone.RETURNED_TO_SENDER, None),
        # "cannot deliver - return to sender"
        ("undelivered_lack_of_access_letterbox", Milestone.RETURNED_TO_SENDER, None),
        # it still waits in the Paczkomat until the courier takes it back
        ("pickup_time_expired", Milestone.IGNORED, None),
    ],
)
def test_statuses_mean_what_shipx_describes(
    code: str, milestone: Milestone, failure: FailureReason | None
) -> None:
    payload = fixture("webhook_ready_to_pickup.json").replace(
        b'"ready_to_pickup"', f'"{code}"'.encode()
    )

    (report,) = inpost.read(payload)

    assert (report.milestone, report.failure, report.stored_until) == (milestone, failure, None)


def test_a_webhook_says_the_parcel_is_in_the_locker() -> None:
    (report,) = inpost.read(fixture("webhook_ready_to_pickup.json"))

    assert report.carrier == "inpost"
    assert report.tracking_number == "602677439331630337653846"
    assert report.code == "ready_to_pickup"
    assert report.milestone is Milestone.AT_PICKUP_POINT
    assert report.time == datetime(2026, 3, 3, 10, 5, 31, tzinfo=CET)
    assert report.stored_until == datetime(2026, 3, 5, 10, 5, 31, tzinfo=CET)  # 48 hours


def test_a_parcel_in_a_temporary_locker_gets_no_deadline() -> None:
    payload = fixture("webhook_ready_to_pickup.json").replace(
        b'"ready_to_pickup"', b'"stack_in_box_machine"'
    )

    (report,) = inpost.read(payload)

    assert report.milestone is Milestone.AT_PICKUP_POINT
    assert report.stored_until is None  # not where the customer chose: no notice of that point


def test_the_documented_webhook_example() -> None:
    (report,) = inpost.read(fixture("webhook_delivered.json"))

    assert report.milestone is Milestone.DELIVERED
    assert report.time == datetime(2020, 3, 20, 14, 8, 42, tzinfo=UTC)


def test_a_webhook_of_a_parcel_returned_to_sender() -> None:
    (report,) = inpost.read(fixture("webhook_returned_to_sender.json"))

    assert report.milestone is Milestone.RETURNED_TO_SENDER


def test_webhooks_with_nothing_to_report() -> None:
    assert inpost.read(fixture("webhook_shipment_confirmed.json")) == []
    assert inpost.read(fixture("webhook_no_tracking_number.json")) == []


def test_an_unknown_status_is_reported_without_a_milestone() -> None:
    payload = fixture("webhook_ready_to_pickup.json").replace(
        b'"ready_to_pickup"', b'"teleported_to_receiver"'
    )

    (report,) = inpost.read(payload)

    assert report.code == "teleported_to_receiver"
    assert report.milestone is None


def test_a_locker_journey_from_the_tracking_answer() -> None:
    reports = inpost.read(fixture("tracking_locker_picked_up.json"))

    assert [(r.code, r.milestone) for r in reports] == [
        ("confirmed", Milestone.IGNORED),
        ("dispatched_by_sender", Milestone.HANDED_OVER),
        ("taken_by_courier", Milestone.HANDED_OVER),
        ("adopted_at_source_branch", Milestone.IN_TRANSIT),
        ("adopted_at_sorting_center", Milestone.IN_TRANSIT),
        ("sent_from_sorting_center", Milestone.IN_TRANSIT),
        ("adopted_at_target_branch", Milestone.IN_TRANSIT),
        ("out_for_delivery", Milestone.OUT_FOR_DELIVERY),
        ("ready_to_pickup", Milestone.AT_PICKUP_POINT),
        ("delivered", Milestone.PICKED_UP),
    ]
    at_point = reports[8]
    assert at_point.point_id == "KRA01M"
    assert at_point.time == datetime(2026, 3, 3, 10, 5, 31, tzinfo=CET)
    assert at_point.pickup_code is None  # not in ShipX's tracking answer
    assert at_point.stored_until == at_point.time + timedelta(hours=48)
    assert reports[3].location == "Warszawa"
    assert reports[3].point_id is None


def test_a_refusal_from_the_tracking_answer_says_why() -> None:
    reports = inpost.read(fixture("tracking_courier_refused.json"))

    assert [(r.milestone, r.failure) for r in reports] == [
        (Milestone.HANDED_OVER, None),
        (Milestone.OUT_FOR_DELIVERY, None),
        (Milestone.DELIVERY_FAILED, FailureReason.REFUSED),
        (Milestone.RETURNED_TO_SENDER, None),
    ]


def test_a_time_without_offset_is_warsaw_time() -> None:
    body = json.loads(fixture("webhook_ready_to_pickup.json"))
    body["event_ts"] = "2026-07-01T12:00:00"

    (report,) = inpost.read(json.dumps(body).encode())

    assert report.time.utcoffset() == timedelta(hours=2)


PERSONAL = {"receiver": {"name": "Anna Kowalska", "phone": "600123456"}}


@pytest.mark.parametrize(
    "payload",
    [
        b'{"event": "shipment_status_changed", "receiver": {"name": "Anna Kowalska"',
        json.dumps(
            {
                **PERSONAL,
                "event": "shipment_status_changed",
                "event_ts": "wczoraj",
                "payload": {"status": "delivered", "tracking_number": "6026"},
            }
        ).encode(),
        json.dumps(
            {**PERSONAL, "event": "shipment_status_changed", "payload": "Anna Kowalska"}
        ).encode(),
        json.dumps({**PERSONAL, "event": "parcel_teleported"}).encode(),
        json.dumps(
            {**PERSONAL, "tracking_number": "6026", "tracking_details": "Anna Kowalska"}
        ).encode(),
        json.dumps([PERSONAL]).encode(),
        b"\xff\xfe Anna Kowalska",
    ],
)
def test_a_malformed_payload_is_refused_without_quoting_it(payload: bytes) -> None:
    with pytest.raises(UnreadablePayload) as refused:
        inpost.read(payload)

    message = str(refused.value)
    assert "Kowalska" not in message
    assert "600123456" not in message


@pytest.mark.parametrize(
    ("address", "sent"),
    [
        ("91.216.25.1", True),
        ("91.216.25.254", True),
        ("91.216.26.1", False),  # next to the range: forged
        ("203.0.113.7", False),
        ("2001:db8::1", False),
        ("", False),  # missing
        ("not an address", False),
    ],
)
def test_webhooks_come_from_the_documented_range(address: str, sent: bool) -> None:
    assert inpost.sent_from_inpost(address) is sent


def test_the_target_locker_is_named_only_where_the_customer_chose_to_collect() -> None:
    body = json.loads(fixture("tracking_locker_picked_up.json"))
    ready = next(d for d in body["tracking_details"] if d["status"] == "ready_to_pickup")
    body["tracking_details"].append({**ready, "status": "stack_in_box_machine"})

    reports = inpost.read(json.dumps(body).encode())

    waiting = {r.code: r.point_id for r in reports if r.milestone is Milestone.AT_PICKUP_POINT}
    assert waiting == {"ready_to_pickup": "KRA01M", "stack_in_box_machine": None}
