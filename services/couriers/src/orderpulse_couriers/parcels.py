"""A followed parcel and what a carrier's reports about it publish: the service's pure core.

`decide` turns reports into `shipments.v1` events, at most once per status and never backwards:
- a status is keyed by its carrier code and time; a key already published is skipped, and the
  event's id is a uuid5 of carrier, tracking number, code and time, so a re-publish after a crash
  (or an event built twice from a webhook and a poll) is deduplicated downstream too;
- reports are taken in time order; one older than the last published milestone is out of order
  and skipped, unless it is final (delivered, picked up, returned to sender): the final word wins,
  and after it nothing more is published;
- an event is built from what the carrier said and what the order said, never invented: a
  required field neither can give (the last day at a point, a delivery window, a new date) skips the
  report as incomplete, and a report the contract's model refuses is skipped as invalid.
Notes and places longer than the contract allows are clipped (the carrier's words are told with
an ellipsis, rather than the fact not at all).
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from pydantic import ValidationError

from orderpulse_couriers.reports import Milestone, Report
from orderpulse_schemas.envelope import CLOCK_SKEW, EARLIEST_TIME, CloudEvent
from orderpulse_schemas.shipments import (
    FailureReason,
    Parcel,
    ShipmentAtPickupPoint,
    ShipmentAtPickupPointData,
    ShipmentDelivered,
    ShipmentDeliveryFailed,
    ShipmentDeliveryFailedData,
    ShipmentInTransit,
    ShipmentInTransitData,
    ShipmentPickedUp,
    ShipmentReturnedToSender,
    ShipmentReturnedToSenderData,
)
from orderpulse_schemas.values import Money, PickupPoint

SOURCE = "/orderpulse/couriers"
_NAMESPACE = uuid.UUID("bbf6e6e4-aa7a-47bc-bd46-adaa4bec07e7")
FINAL = frozenset({Milestone.DELIVERED, Milestone.PICKED_UP, Milestone.RETURNED_TO_SENDER})
NOTE_LENGTH, LOCATION_LENGTH = 300, 100  # the contract's `reason_text` and `location` limits


@dataclass(frozen=True, slots=True)
class Followed:
    """A parcel the service follows: whose it is, where it should wait, and what was published.

    `heard` holds the keys (`status_key`) of the statuses published for it: a replay is told
    apart from a late report, and a parcel publishes a dozen statuses at most, so the set stays
    small (the parcel is forgotten after its final status). Statuses skipped are not kept: an
    incomplete one may come back complete (Packeta's `packetStatus` adds `storedUntil`).
    """

    shop_id: str
    order_id: str
    carrier: str  # our carrier code, as the carrier modules' `CARRIER`
    tracking_number: str
    tracking_url: str | None = None
    point: PickupPoint | None = None  # the pickup point the customer chose, from the order
    last: Milestone | None = None  # the last milestone published
    last_time: datetime | None = None  # the carrier's time of it
    heard: frozenset[str] = frozenset()

    @property
    def key(self) -> tuple[str, str]:
        """(carrier, tracking number): the parcel's identity."""
        return self.carrier, self.tracking_number

    @property
    def finished(self) -> bool:
        """Whether the parcel's final status is published: nothing more will be."""
        return self.last in FINAL


class Skip(StrEnum):
    """Why a report published nothing."""

    OTHER_PARCEL = "other_parcel"  # the report is about another parcel: the caller's mistake
    UNKNOWN_CODE = "unknown_code"  # a code the carrier's documentation does not list: counted
    IGNORED = "ignored"  # documented, but nothing anyone needs to hear
    ALREADY_HEARD = "already_heard"  # published before (a replayed webhook, overlapping polls)
    FINISHED = "finished"  # the parcel's final status is already published
    OUT_OF_ORDER = "out_of_order"  # older than the last milestone published
    INCOMPLETE = "incomplete"  # a field the contract requires is not known
    INVALID = "invalid"  # the contract's model refuses it (or its time is impossible)


@dataclass(frozen=True, slots=True)
class Skipped:
    """A report that published nothing, why, and (for incomplete or invalid) which fields."""

    report: Report
    reason: Skip
    fields: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Decision:
    """The parcel after the reports, the events to publish (in order) and what was skipped."""

    parcel: Followed
    events: tuple[CloudEvent, ...] = ()
    skipped: tuple[Skipped, ...] = ()


class _Incomplete(Exception):
    """The fields a report cannot give but the event requires."""


def status_key(report: Report) -> str:
    """What makes a status the same status: its code and its time (in UTC, so that a webhook's
    `+0100` and a tracking answer's `+01:00` agree)."""
    return f"{report.code}@{report.time.astimezone(UTC).isoformat()}"


def event_id(report: Report) -> str:
    """A deterministic id from the status, so a re-published status is the very same event."""
    cause = "/".join((report.carrier, report.tracking_number, status_key(report)))
    return str(uuid.uuid5(_NAMESPACE, cause))


def decide(parcel: Followed, reports: Sequence[Report], now: datetime) -> Decision:
    """What `reports` publish about `parcel`, taken oldest first; `now` refuses a status dated
    beyond the clock skew consumers tolerate (they would dead-letter its event)."""
    events: list[CloudEvent] = []
    skipped: list[Skipped] = []
    for report in sorted(reports, key=lambda report: report.time):
        reason = _screen(parcel, report, now)
        if reason is not None:
            skipped.append(Skipped(report, reason))
            continue
        try:
            event = _event(parcel, report)
        except _Incomplete as missing:
            skipped.append(Skipped(report, Skip.INCOMPLETE, missing.args))
            continue
        except ValidationError as error:  # fields only: the values may be personal data
            refused = tuple(".".join(map(str, e["loc"])) for e in error.errors())
            skipped.append(Skipped(report, Skip.INVALID, refused))
            continue
        events.append(event)
        parcel = replace(
            parcel,
            last=report.milestone,
            last_time=report.time,
            heard=parcel.heard | {status_key(report)},
        )
    return Decision(parcel, tuple(events), tuple(skipped))


def _screen(parcel: Followed, report: Report, now: datetime) -> Skip | None:
    """Why `report` must publish nothing whatever it holds, or None."""
    if (report.carrier, report.tracking_number) != (parcel.carrier, parcel.tracking_number):
        return Skip.OTHER_PARCEL
    if report.milestone is None:
        return Skip.UNKNOWN_CODE
    if report.milestone is Milestone.IGNORED:
        return Skip.IGNORED
    if status_key(report) in parcel.heard:
        return Skip.ALREADY_HEARD
    if parcel.finished:
        return Skip.FINISHED
    if not EARLIEST_TIME <= report.time <= now + CLOCK_SKEW:
        return Skip.INVALID
    late = parcel.last_time is not None and report.time < parcel.last_time
    if late and report.milestone not in FINAL:
        return Skip.OUT_OF_ORDER
    return None


def _event(parcel: Followed, report: Report) -> CloudEvent:
    """The `shipments.v1` event of `report`, validated by the contract's model."""
    envelope = {
        "id": event_id(report),
        "source": f"{SOURCE}/{parcel.carrier}",
        "time": report.time,
        "subject": parcel.order_id,
        "shopid": parcel.shop_id,
    }
    which = {"carrier": parcel.carrier, "tracking_number": parcel.tracking_number}
    note = _clip(report.note, NOTE_LENGTH)
    match report.milestone:
        # The shop announced `shipment.dispatched` itself: the carrier's first scan is transit.
        case Milestone.HANDED_OVER | Milestone.IN_TRANSIT:
            location = _clip(report.location, LOCATION_LENGTH)
            return ShipmentInTransit(
                **envelope, data=ShipmentInTransitData(**which, location=location)
            )
        case Milestone.AT_PICKUP_POINT:
            return ShipmentAtPickupPoint(**envelope, data=_at_point(parcel, report, which))
        case Milestone.DELIVERED if parcel.point is None:
            return ShipmentDelivered(**envelope, data=Parcel(**which))
        # To a point the order chose, "delivered" is the customer's pickup (ShipX's webhook says
        # delivered for both, and the tracker closes a pickup-point order on picked up).
        case Milestone.DELIVERED | Milestone.PICKED_UP:
            return ShipmentPickedUp(**envelope, data=Parcel(**which))
        case Milestone.DELIVERY_FAILED:
            reason = report.failure or FailureReason.OTHER
            data = ShipmentDeliveryFailedData(**which, reason=reason, reason_text=note)
            return ShipmentDeliveryFailed(**envelope, data=data)
        case Milestone.RETURNED_TO_SENDER:
            data_back = ShipmentReturnedToSenderData(**which, reason_text=note)
            return ShipmentReturnedToSender(**envelope, data=data_back)
        case Milestone.OUT_FOR_DELIVERY:  # no carrier module reads a time slot
            raise _Incomplete("window_start", "window_end")
        case _:  # DELAYED: no carrier module reads a new date (nor a reason from the list)
            raise _Incomplete("reason", "new_expected_delivery")


def _at_point(parcel: Followed, report: Report, which: dict[str, str]) -> ShipmentAtPickupPointData:
    """At the point the customer chose; a report naming another point publishes no point (the
    customer would be sent to the wrong place), nor one without the last day. The code may be
    absent: InPost and Packeta send it to the customer themselves."""
    missing = [
        name
        for name, absent in (
            ("point", parcel.point is None or report.point_id not in (None, parcel.point.id)),
            ("stored_until", report.stored_until is None),
        )
        if absent
    ]
    if missing:
        raise _Incomplete(*missing)
    cod = report.cash_on_delivery
    return ShipmentAtPickupPointData(
        **which,
        point=parcel.point,
        pickup_code=report.pickup_code,
        stored_until=report.stored_until,
        cash_on_delivery=Money(amount=cod[0], currency=cod[1]) if cod else None,
        tracking_url=parcel.tracking_url,
    )


def _clip(text: str | None, limit: int) -> str | None:
    """`text` within `limit` characters, an ellipsis marking a cut; None when empty."""
    text = (text or "").strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text or None
