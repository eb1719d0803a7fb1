"""A followed parcel and what carriers' reports about it publish: once each, never backwards."""

import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from orderpulse_couriers.carriers import inpost, packeta
from orderpulse_couriers.parcels import (
    SOURCE,
    Decision,
    Followed,
    Skip,
    decide,
    event_id,
    status_key,
)
from orderpulse_couriers.reports import Milestone, Report
from orderpulse_schemas.envelope import CloudEvent
from orderpulse_schemas.shipments import FailureReason, ShipmentEvent
from orderpulse_schemas.values import Address, Money, PickupPoint, PointKind

FIXTURES = Path(__file__).parents[1] / "fixtures"
PRAGUE = ZoneInfo("Europe/Prague")
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=PRAGUE)
NOW = datetime(2026, 3, 20, 12, 0, tzinfo=PRAGUE)
PACKET = "Z 123 4567 890"
POINT = PickupPoint(
    id="4321",
    name="Praha 2, Vinohradská 48",
    address=Address(
        street="Vinohradská 1511/48", city="Praha 2", postal_code="120 00", country="CZ"
    ),
    kind=PointKind.COUNTER,
)
PARCEL = Followed(
    shop_id="kvetinac-cz",
    order_id="ord-10046",
    carrier="packeta",
    tracking_number=PACKET,
    tracking_url="https://tracking.packeta.com/cs/?id=Z1234567890",
    point=POINT,
)
EVENTS: TypeAdapter[CloudEvent] = TypeAdapter(ShipmentEvent)


def fixture(*parts: str) -> bytes:
    return FIXTURES.joinpath(*parts).read_bytes()


def report(milestone: Milestone | None, hours: float, code: str = "", **fields: object) -> Report:
    """A Packeta report about PARCEL, `hours` after T0."""
    return Report(
        carrier="packeta",
        tracking_number=PACKET,
        code=code or (milestone.value if milestone else "x"),
        milestone=milestone,
        time=T0 + timedelta(hours=hours),
        **fields,  # type: ignore[arg-type]
    )


def at_point(hours: float = 20, **fields: object) -> Report:
    complete: dict[str, object] = {
        "point_id": "4321",
        "pickup_code": "483921",
        "stored_until": datetime(2026, 3, 10, 23, 59, 59, tzinfo=PRAGUE),
    }
    return report(Milestone.AT_PICKUP_POINT, hours, "5", **{**complete, **fields})


def types(decision: Decision) -> list[str]:
    return [event.type for event in decision.events]


def reasons(decision: Decision) -> list[tuple[str, Skip]]:
    return [(skipped.report.code, skipped.reason) for skipped in decision.skipped]


# Journeys from the carriers' documented answers


def test_packeta_pickup_point_journey_polled_three_times() -> None:
    history = packeta.read(fixture("packeta", "packet_tracking_picked_up.xml"), packet_id=PACKET)

    first = decide(PARCEL, history[:5], NOW)  # accepted, on the way, ready for pickup
    assert types(first) == ["shipment.in_transit"] * 3
    assert reasons(first) == [("1", Skip.IGNORED), ("5", Skip.INCOMPLETE)]
    assert first.skipped[1].fields == ("stored_until",)

    # packetStatus adds storedUntil; Packeta sends the customer the pickup code itself.
    (status,) = packeta.read(
        fixture("packeta", "packet_status_ready_for_pickup.xml"), packet_id=PACKET
    )
    second = decide(first.parcel, [status], NOW)
    assert types(second) == ["shipment.at_pickup_point"]
    assert second.events[0].data.pickup_code is None  # type: ignore[attr-defined]

    third = decide(second.parcel, history, NOW)  # the whole history again, now with the pickup
    assert types(third) == ["shipment.picked_up"]
    assert [r for _, r in reasons(third)] == [Skip.IGNORED] + [Skip.ALREADY_HEARD] * 4
    assert third.parcel.finished
    assert [e.time for e in third.events] == [history[-1].time]


def test_packeta_never_collected_goes_back_once() -> None:
    history = packeta.read(
        fixture("packeta", "packet_tracking_not_collected.xml"), packet_id=PACKET
    )

    decision = decide(PARCEL, history, NOW)

    assert types(decision) == ["shipment.in_transit", "shipment.returned_to_sender"]
    assert reasons(decision) == [
        ("1", Skip.IGNORED),
        ("5", Skip.INCOMPLETE),
        ("10", Skip.FINISHED),  # posted back (9) was the final word; returned (10) adds nothing
    ]
    back = decision.events[-1]
    assert back.data.reason_text == "Zásilka je na cestě zpět k odesílateli."  # type: ignore[attr-defined]


INPOST = replace(
    PARCEL,
    shop_id="sklep-pl",
    order_id="zam-2041",
    carrier="inpost",
    tracking_number="602677439331630337653846",
    tracking_url=None,
    point=POINT.model_copy(update={"id": "KRA01M", "kind": PointKind.LOCKER}),
)


def test_inpost_locker_journey_then_a_late_webhook() -> None:
    history = inpost.read(fixture("inpost", "tracking_locker_picked_up.json"))

    decision = decide(INPOST, history, NOW)

    assert types(decision) == ["shipment.in_transit"] * 6 + [
        "shipment.at_pickup_point",
        "shipment.picked_up",
    ]
    locations = [e.data.location for e in decision.events[:6]]  # type: ignore[attr-defined]
    assert locations == [None, None, "Warszawa", "Warszawa", "Warszawa", "Kraków"]
    waiting = decision.events[6].data
    assert waiting.point.id == "KRA01M"  # type: ignore[attr-defined]
    assert waiting.stored_until == history[8].time + timedelta(hours=48)  # type: ignore[attr-defined]
    assert reasons(decision) == [
        ("confirmed", Skip.IGNORED),
        ("out_for_delivery", Skip.INCOMPLETE),  # no time slot in ShipX tracking
    ]
    late = inpost.read(fixture("inpost", "webhook_ready_to_pickup.json"))
    # the webhook of a status already read from tracking: the same status, heard before
    assert reasons(decide(decision.parcel, late, NOW)) == [("ready_to_pickup", Skip.ALREADY_HEARD)]


def test_inpost_never_collected_webhook_then_tracking() -> None:
    parcel = replace(INPOST, tracking_number="602677439331630337653853", point=None)
    webhook = inpost.read(fixture("inpost", "webhook_returned_to_sender.json"))
    history = inpost.read(fixture("inpost", "tracking_locker_not_collected.json"))

    pushed = decide(parcel, webhook, NOW)
    polled = decide(pushed.parcel, history, NOW)

    assert types(pushed) == ["shipment.returned_to_sender"]
    assert polled.events == ()  # the same status, heard again with its offset written otherwise
    assert ("returned_to_sender", Skip.ALREADY_HEARD) in reasons(polled)
    assert {r for _, r in reasons(polled)} == {Skip.IGNORED, Skip.ALREADY_HEARD, Skip.FINISHED}


def test_every_event_is_a_valid_shipments_v1_message() -> None:
    history = packeta.read(
        fixture("packeta", "packet_tracking_not_collected.xml"), packet_id=PACKET
    )
    reports = [*history[:2], at_point(30), *history[3:]]

    for event in decide(PARCEL, reports, NOW).events:
        again = EVENTS.validate_json(event.model_dump_json())
        assert again == event
        assert (event.subject, event.shopid) == ("ord-10046", "kvetinac-cz")
        assert event.source == f"{SOURCE}/packeta"


# A status heard twice publishes once, with the same id


def test_a_replay_publishes_nothing_and_changes_nothing() -> None:
    reports = [report(Milestone.HANDED_OVER, 1), at_point(), report(Milestone.PICKED_UP, 30)]
    first = decide(PARCEL, reports, NOW)

    again = decide(first.parcel, reports, NOW)

    assert len(first.events) == 3
    assert again.events == ()
    assert again.parcel == first.parcel
    assert [r for _, r in reasons(again)] == [Skip.ALREADY_HEARD] * 3


def test_the_same_status_twice_in_one_answer_publishes_once() -> None:
    twice = [report(Milestone.IN_TRANSIT, 1, "4"), report(Milestone.IN_TRANSIT, 1, "4")]

    decision = decide(PARCEL, twice, NOW)

    assert len(decision.events) == 1
    assert reasons(decision) == [("4", Skip.ALREADY_HEARD)]


def test_a_status_is_the_same_whatever_offset_it_is_written_with() -> None:
    prague = report(Milestone.IN_TRANSIT, 1, "4")
    utc = replace(prague, time=prague.time.astimezone(ZoneInfo("UTC")))

    assert status_key(prague) == status_key(utc)
    assert event_id(prague) == event_id(utc)


def test_event_ids_are_derived_from_carrier_parcel_code_and_time() -> None:
    transit = report(Milestone.IN_TRANSIT, 1, "4")
    (event,) = decide(PARCEL, [transit], NOW).events  # a crash, then the same report again:
    (rebuilt,) = decide(PARCEL, [transit], NOW).events

    assert event.id == rebuilt.id
    assert uuid.UUID(event.id).version == 5
    assert event.id != event_id(replace(transit, code="3"))
    assert event.id != event_id(replace(transit, time=transit.time + timedelta(seconds=1)))
    assert event.id != event_id(replace(transit, tracking_number="Z 999"))
    assert event.id != event_id(replace(transit, carrier="ppl"))


# Time order: never backwards, the final word wins, nothing after it


def test_reports_are_taken_in_time_order() -> None:
    newest_first = [report(Milestone.PICKED_UP, 30), at_point(), report(Milestone.IN_TRANSIT, 1)]

    decision = decide(PARCEL, newest_first, NOW)

    assert types(decision) == [
        "shipment.in_transit",
        "shipment.at_pickup_point",
        "shipment.picked_up",
    ]


def test_an_older_status_never_moves_the_parcel_backwards() -> None:
    waiting = decide(PARCEL, [at_point(20)], NOW)

    late = decide(waiting.parcel, [report(Milestone.IN_TRANSIT, 10, "4")], NOW)

    assert late.events == ()
    assert reasons(late) == [("4", Skip.OUT_OF_ORDER)]
    assert late.parcel == waiting.parcel


def test_a_newer_status_moves_on_whatever_its_milestone() -> None:
    """Order is the carrier's time, not a ranking: a parcel redirected from its point travels."""
    waiting = decide(PARCEL, [at_point(20)], NOW)

    moved = decide(waiting.parcel, [report(Milestone.IN_TRANSIT, 21, "4")], NOW)

    assert types(moved) == ["shipment.in_transit"]
    assert moved.parcel.last is Milestone.IN_TRANSIT


def test_a_final_status_wins_even_when_it_comes_late() -> None:
    travelling = decide(PARCEL, [report(Milestone.IN_TRANSIT, 11, "4")], NOW)

    delivered = decide(travelling.parcel, [report(Milestone.PICKED_UP, 10, "7")], NOW)

    assert types(delivered) == ["shipment.picked_up"]
    assert delivered.parcel.finished


def test_delivered_is_a_pickup_when_the_order_chose_a_point() -> None:
    """ShipX's webhook says "delivered" when the customer empties the Paczkomat."""
    delivered = report(Milestone.DELIVERED, 30, "delivered")

    assert types(decide(PARCEL, [delivered], NOW)) == ["shipment.picked_up"]
    home = replace(PARCEL, point=None)
    assert types(decide(home, [delivered], NOW)) == ["shipment.delivered"]


def test_nothing_is_published_after_the_final_status() -> None:
    done = decide(PARCEL, [report(Milestone.PICKED_UP, 30, "7")], NOW)

    after = decide(
        done.parcel,
        [report(Milestone.IN_TRANSIT, 31, "4"), report(Milestone.RETURNED_TO_SENDER, 40, "10")],
        NOW,
    )

    assert after.events == ()
    assert reasons(after) == [("4", Skip.FINISHED), ("10", Skip.FINISHED)]


# Each milestone's event


def test_handed_over_is_published_as_in_transit() -> None:
    """The shop already said `shipment.dispatched`: the carrier's first scan is transit."""
    (event,) = decide(PARCEL, [report(Milestone.HANDED_OVER, 1, "2", location="Praha")], NOW).events

    assert event.type == "shipment.in_transit"
    assert event.data.location == "Praha"  # type: ignore[attr-defined]


def test_the_envelope_carries_the_carriers_time_the_order_and_the_shop() -> None:
    transit = report(Milestone.IN_TRANSIT, 1, "4", location="Brno")
    (event,) = decide(PARCEL, [transit], NOW).events

    assert (event.time, event.subject, event.shopid) == (transit.time, "ord-10046", "kvetinac-cz")
    assert event.id == event_id(transit)
    assert event.data.carrier == "packeta"  # type: ignore[attr-defined]
    assert event.data.tracking_number == PACKET  # type: ignore[attr-defined]


def test_a_failed_delivery_says_why_when_the_carrier_does() -> None:
    refused = report(
        Milestone.DELIVERY_FAILED, 5, "17", failure=FailureReason.REFUSED, note="Odmítnuto"
    )
    attempt = report(Milestone.DELIVERY_FAILED, 6, "16")

    told, unexplained = decide(PARCEL, [refused, attempt], NOW).events

    assert told.data.reason is FailureReason.REFUSED  # type: ignore[attr-defined]
    assert told.data.reason_text == "Odmítnuto"  # type: ignore[attr-defined]
    assert unexplained.data.reason is FailureReason.OTHER  # type: ignore[attr-defined]
    assert unexplained.data.reason_text is None  # type: ignore[attr-defined]


def test_returned_to_sender_carries_the_carriers_words() -> None:
    back = report(Milestone.RETURNED_TO_SENDER, 50, "9", note="Nevyzvednuto")

    (event,) = decide(PARCEL, [back], NOW).events

    assert event.type == "shipment.returned_to_sender"
    assert event.data.reason_text == "Nevyzvednuto"  # type: ignore[attr-defined]


def test_at_the_pickup_point_with_everything_the_contract_requires() -> None:
    waiting = at_point(cash_on_delivery=(Decimal("689.00"), "CZK"))

    (event,) = decide(PARCEL, [waiting], NOW).events

    assert event.type == "shipment.at_pickup_point"
    data = event.data
    assert data.point == POINT  # type: ignore[attr-defined]
    assert data.pickup_code == "483921"  # type: ignore[attr-defined]
    assert data.stored_until == waiting.stored_until  # type: ignore[attr-defined]
    assert data.cash_on_delivery == Money(amount=Decimal("689.00"), currency="CZK")  # type: ignore[attr-defined]
    assert str(data.tracking_url) == PARCEL.tracking_url  # type: ignore[attr-defined]


def test_at_a_point_the_report_does_not_name_is_the_chosen_point() -> None:
    (event,) = decide(PARCEL, [at_point(point_id=None)], NOW).events

    assert event.data.point == POINT  # type: ignore[attr-defined]


# Incomplete: what no report can tell is not invented


def test_at_another_point_than_the_chosen_one_publishes_no_point() -> None:
    decision = decide(PARCEL, [at_point(point_id="9999")], NOW)

    assert decision.events == ()
    assert decision.skipped[0].reason is Skip.INCOMPLETE
    assert decision.skipped[0].fields == ("point",)


def test_at_a_point_of_a_parcel_without_a_chosen_point() -> None:
    decision = decide(replace(PARCEL, point=None), [at_point()], NOW)

    assert decision.skipped[0].fields == ("point",)


def test_at_a_point_without_pickup_code_but_never_without_the_last_day() -> None:
    no_code = decide(PARCEL, [at_point(pickup_code=None)], NOW)
    no_day = decide(PARCEL, [at_point(stored_until=None)], NOW)

    assert types(no_code) == ["shipment.at_pickup_point"]  # the carrier sends the code itself
    assert (no_day.events, no_day.skipped[0].fields) == ((), ("stored_until",))
    assert no_day.parcel == PARCEL


def test_an_incomplete_status_is_published_when_it_comes_back_complete() -> None:
    incomplete = decide(PARCEL, [at_point(stored_until=None)], NOW)

    complete = decide(incomplete.parcel, [at_point()], NOW)

    assert types(complete) == ["shipment.at_pickup_point"]


def test_out_for_delivery_and_delayed_need_what_no_report_tells() -> None:
    decision = decide(
        PARCEL, [report(Milestone.OUT_FOR_DELIVERY, 1), report(Milestone.DELAYED, 2)], NOW
    )

    assert decision.events == ()
    assert [(s.reason, s.fields) for s in decision.skipped] == [
        (Skip.INCOMPLETE, ("window_start", "window_end")),
        (Skip.INCOMPLETE, ("reason", "new_expected_delivery")),
    ]
    assert decision.parcel == PARCEL


# Skipped for what the report is


def test_unknown_ignored_and_foreign_reports_publish_nothing() -> None:
    decision = decide(
        PARCEL,
        [
            report(None, 1, "18"),
            report(Milestone.IGNORED, 2, "1"),
            replace(report(Milestone.IN_TRANSIT, 3, "4"), tracking_number="Z 999"),
            replace(report(Milestone.IN_TRANSIT, 4, "4"), carrier="ppl"),
        ],
        NOW,
    )

    assert decision.events == ()
    assert [r for _, r in reasons(decision)] == [
        Skip.UNKNOWN_CODE,
        Skip.IGNORED,
        Skip.OTHER_PARCEL,
        Skip.OTHER_PARCEL,
    ]


def test_a_status_dated_in_the_future_is_invalid() -> None:
    ahead = report(Milestone.IN_TRANSIT, 0, "4")
    decision = decide(PARCEL, [ahead], ahead.time - timedelta(minutes=6))

    assert reasons(decision) == [("4", Skip.INVALID)]
    assert types(decide(PARCEL, [ahead], ahead.time - timedelta(minutes=4))) == [
        "shipment.in_transit"
    ]


def test_data_the_contract_refuses_is_skipped_naming_the_fields_only() -> None:
    reports = [
        at_point(20, cash_on_delivery=(Decimal("689.001"), "CZK")),
        at_point(21, pickup_code="9" * 41),
    ]

    decision = decide(PARCEL, reports, NOW)

    assert decision.events == ()
    assert [s.reason for s in decision.skipped] == [Skip.INVALID, Skip.INVALID]
    assert decision.skipped[0].fields == ("amount",)
    assert decision.skipped[1].fields == ("pickup_code",)
    assert decision.parcel == PARCEL


def test_words_longer_than_the_contract_allows_are_clipped_not_lost() -> None:
    long_note = "Příjemce nezastižen. " * 20  # 420 characters
    failed = report(Milestone.DELIVERY_FAILED, 5, "16", note=long_note)
    moved = report(Milestone.IN_TRANSIT, 1, "4", location="Depo " * 30)

    transit, failure = decide(PARCEL, [failed, moved], NOW).events

    text = failure.data.reason_text  # type: ignore[attr-defined]
    assert len(text) <= 300
    assert text.endswith("…")
    assert long_note.startswith(text[:-1])
    assert len(transit.data.location) <= 100  # type: ignore[attr-defined]
    assert transit.data.location.endswith("…")  # type: ignore[attr-defined]
