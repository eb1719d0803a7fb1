"""`shipments.v1`: facts courier integrations publish about the parcels of an order."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import DateWindow, Day, DelayReason, Moment, Money, PickupPoint


class Parcel(Payload):
    """Which parcel of the order an event is about."""

    carrier: str = Field(
        min_length=1, description="Carrier code, e.g. `zasilkovna`, `ppl`, `inpost`."
    )
    tracking_number: str = Field(
        min_length=1,
        max_length=60,
        description="The carrier's tracking number of the parcel; shown to the customer.",
    )


class ShipmentDispatchedData(Parcel):
    """The parcels left the warehouse."""

    tracking_url: AnyHttpUrl | None = Field(
        default=None,
        description="The carrier's tracking page of the parcel, linked for the customer.",
    )
    parcel_count: int = Field(default=1, ge=1, description="Parcels of the order in total.")
    expected_delivery: DateWindow = Field(
        description="Days the carrier expects to deliver; shown to the customer."
    )


class ShipmentDispatched(CloudEvent):
    """`shipment.dispatched`."""

    type: Literal["shipment.dispatched"] = Field(
        default="shipment.dispatched", description="The event type, always `shipment.dispatched`."
    )
    data: ShipmentDispatchedData = Field(description="The event's payload.")


class ShipmentInTransitData(Parcel):
    """A transit scan. Recorded, never announced on its own."""

    location: str | None = Field(default=None, max_length=100, description="Depot or city.")


class ShipmentInTransit(CloudEvent):
    """`shipment.in_transit`."""

    type: Literal["shipment.in_transit"] = Field(
        default="shipment.in_transit", description="The event type, always `shipment.in_transit`."
    )
    data: ShipmentInTransitData = Field(description="The event's payload.")


class ShipmentDelayedData(Parcel):
    """The carrier will be late; the customer must hear why and until when."""

    reason: DelayReason = Field(
        description="Why the parcel is late; the notifier words it for the customer."
    )
    reason_text: str | None = Field(
        default=None,
        max_length=300,
        description="Free text shown to the customer as written; required for `other`.",
    )
    new_expected_delivery: DateWindow = Field(
        description="The carrier's new delivery estimate; shown to the customer."
    )

    @model_validator(mode="after")
    def _explained(self) -> "ShipmentDelayedData":
        if self.reason is DelayReason.OTHER and not self.reason_text:
            raise ValueError("reason `other` needs reason_text")
        return self


class ShipmentDelayed(CloudEvent):
    """`shipment.delayed`."""

    type: Literal["shipment.delayed"] = Field(
        default="shipment.delayed", description="The event type, always `shipment.delayed`."
    )
    data: ShipmentDelayedData = Field(description="The event's payload.")


class ShipmentOutForDeliveryData(Parcel):
    """The courier is on the way today."""

    window_start: Moment = Field(
        description="Start of the time slot the courier is expected in; shown to the customer."
    )
    window_end: Moment = Field(description="End of the time slot; not before `window_start`.")
    courier_phone: str | None = Field(
        default=None,
        pattern=r"^\+[1-9][0-9]{6,14}$",
        description="The courier's phone number in E.164, for the customer to call.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "ShipmentOutForDeliveryData":
        if self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
        return self


class ShipmentOutForDelivery(CloudEvent):
    """`shipment.out_for_delivery`."""

    type: Literal["shipment.out_for_delivery"] = Field(
        default="shipment.out_for_delivery",
        description="The event type, always `shipment.out_for_delivery`.",
    )
    data: ShipmentOutForDeliveryData = Field(description="The event's payload.")


class ShipmentAtPickupPointData(Parcel):
    """The parcel waits at a pickup point."""

    point: PickupPoint = Field(description="Where the parcel waits; shown to the customer.")
    pickup_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="Code the customer gives or types in to collect the parcel. Absent: the "
        "carrier sends the code to the customer itself (InPost and Packeta do, by SMS or e-mail "
        "and in their apps), and the customer is told so instead.",
    )
    stored_until: Moment = Field(description="After this the parcel goes back to the shop.")
    cash_on_delivery: Money | None = Field(default=None, description="To pay at pickup, if any.")
    card_accepted: bool | None = Field(
        default=None,
        description="Whether `cash_on_delivery` can be paid by card (at the counter, at the "
        "locker or in the carrier's app); false: in cash only. Absent: not known, and the "
        "customer is told neither.",
    )
    tracking_url: AnyHttpUrl | None = Field(
        default=None,
        description="The carrier's tracking page of the parcel, linked for the customer. Absent: "
        "the status-tracker links the one `shipment.dispatched` gave for the parcel, if any.",
    )
    storage_extension_url: AnyHttpUrl | None = Field(
        default=None,
        description="Where the customer can ask for more days to collect the parcel, when the "
        "carrier offers it (Packeta and InPost do); linked in the email.",
    )


class ShipmentAtPickupPoint(CloudEvent):
    """`shipment.at_pickup_point`."""

    type: Literal["shipment.at_pickup_point"] = Field(
        default="shipment.at_pickup_point",
        description="The event type, always `shipment.at_pickup_point`.",
    )
    data: ShipmentAtPickupPointData = Field(description="The event's payload.")


class ShipmentDelivered(CloudEvent):
    """`shipment.delivered`: handed over at the door; `time` is when."""

    type: Literal["shipment.delivered"] = Field(
        default="shipment.delivered", description="The event type, always `shipment.delivered`."
    )
    data: Parcel = Field(description="The event's payload.")


class ShipmentPickedUp(CloudEvent):
    """`shipment.picked_up`: collected at the pickup point; `time` is when."""

    type: Literal["shipment.picked_up"] = Field(
        default="shipment.picked_up", description="The event type, always `shipment.picked_up`."
    )
    data: Parcel = Field(description="The event's payload.")


class FailureReason(StrEnum):
    """Why a delivery attempt failed."""

    RECIPIENT_ABSENT = "recipient_absent"
    ADDRESS_NOT_FOUND = "address_not_found"
    REFUSED = "refused"
    NO_ACCESS = "no_access"
    DAMAGED = "damaged"
    OTHER = "other"


class CustomerAction(StrEnum):
    """What the customer must do after a failed attempt."""

    NONE = "none"
    ARRANGE_REDELIVERY = "arrange_redelivery"
    COLLECT_AT_DEPOT = "collect_at_depot"
    CONTACT_CARRIER = "contact_carrier"


class ShipmentDeliveryFailedData(Parcel):
    """A delivery attempt failed; the customer must hear why and what happens next."""

    reason: FailureReason = Field(
        description="Why the attempt failed; the notifier words it for the customer."
    )
    reason_text: str | None = Field(
        default=None,
        max_length=300,
        description="Free text shown to the customer as written, e.g. to explain `other`.",
    )
    next_attempt: Day | None = Field(default=None, description="When the carrier tries again.")
    customer_action: CustomerAction = Field(
        default=CustomerAction.NONE,
        description="What the customer must do next, if anything; shown to the customer.",
    )
    action_url: AnyHttpUrl | None = Field(default=None, description="Where to arrange it.")


class ShipmentDeliveryFailed(CloudEvent):
    """`shipment.delivery_failed`."""

    type: Literal["shipment.delivery_failed"] = Field(
        default="shipment.delivery_failed",
        description="The event type, always `shipment.delivery_failed`.",
    )
    data: ShipmentDeliveryFailedData = Field(description="The event's payload.")


class ShipmentReturnedToSenderData(Parcel):
    """The parcel goes back to the shop (not collected, refused, undeliverable)."""

    reason_text: str | None = Field(
        default=None,
        max_length=300,
        description="Why the parcel goes back, free text shown to the customer as written.",
    )


class ShipmentReturnedToSender(CloudEvent):
    """`shipment.returned_to_sender`."""

    type: Literal["shipment.returned_to_sender"] = Field(
        default="shipment.returned_to_sender",
        description="The event type, always `shipment.returned_to_sender`.",
    )
    data: ShipmentReturnedToSenderData = Field(description="The event's payload.")


ShipmentEvents = (
    ShipmentDispatched
    | ShipmentInTransit
    | ShipmentDelayed
    | ShipmentOutForDelivery
    | ShipmentAtPickupPoint
    | ShipmentDelivered
    | ShipmentPickedUp
    | ShipmentDeliveryFailed
    | ShipmentReturnedToSender
)
"""Every event of the topic, for a consumer that unions them with its own types."""
ShipmentEvent = Annotated[ShipmentEvents, Field(discriminator="type")]
