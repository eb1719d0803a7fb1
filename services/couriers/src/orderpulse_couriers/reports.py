"""What a carrier said about a parcel, in our terms: the one shape every carrier module reads its
payloads into, so that the rest of the service never sees a carrier's format."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from orderpulse_schemas.shipments import FailureReason


class Milestone(StrEnum):
    """The `shipments.v1` fact a carrier's status code means; `IGNORED`: documented, but nothing
    a customer needs to hear or the tracker needs to know (label printed, data received, ...)."""

    HANDED_OVER = "handed_over"  # the carrier has the parcel (the first scan after the shop)
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    AT_PICKUP_POINT = "at_pickup_point"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    DELIVERY_FAILED = "delivery_failed"
    DELAYED = "delayed"
    RETURNED_TO_SENDER = "returned_to_sender"
    IGNORED = "ignored"


class UnreadablePayload(ValueError):
    """A payload that is not what the carrier documents. Its message names what is wrong and
    never quotes the payload: payloads hold names, addresses and phone numbers."""


@dataclass(frozen=True, slots=True)
class Report:
    """One status a carrier reported for one parcel. `milestone` is None for a code the
    carrier's documentation does not list: counted and logged by the service, never fatal."""

    carrier: str  # our code: packeta, inpost, ppl, dpd, gls, ceska_posta
    tracking_number: str
    code: str  # the carrier's own status code, as sent
    milestone: Milestone | None
    time: datetime  # when it happened, timezone-aware
    location: str | None = None  # depot, city or point name, for in_transit
    failure: FailureReason | None = None  # why, for delivery_failed (when the code tells)
    note: str | None = None  # the carrier's own words about it, when it sends any
    point_id: str | None = None  # the carrier's id of the pickup point, for at_pickup_point
    pickup_code: str | None = None
    stored_until: datetime | None = None
    cash_on_delivery: tuple[Decimal, str] | None = None  # amount, ISO 4217 currency
