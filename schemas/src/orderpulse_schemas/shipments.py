"""`shipments.v1`: facts courier integrations publish about the parcels of an order."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, AwareDatetime, Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import DateWindow, DelayReason, Money, PickupPoint


class Parcel(Payload):
    """Which parcel of the order an event is about."""

    carrier: str = Field(
        min_length=1, description="Carrier code, e.g. `zasilkovna`, `ppl`, `inpost`."
    )
    tracking_number: str = Field(min_length=1, max_length=60)


class ShipmentDispatchedData(Parcel):
    """The parcels left the warehouse."""

    tracking_url: AnyHttpUrl | None = None
    parcel_count: int = Field(default=1, ge=1, description="Parcels of the order in total.")
    expected_delivery: DateWindow


class ShipmentDispatched(CloudEvent):
    """`shipment.dispatched`."""

    type: Literal["shipment.dispatched"] = "shipment.dispatched"
    data: ShipmentDispatchedData


class ShipmentInTransitData(Parcel):
    """A transit scan. Recorded, never announced on its own."""

    location: str | None = Field(default=None, max_length=100, description="Depot or city.")


class ShipmentInTransit(CloudEvent):
    """`shipment.in_transit`."""

    type: Literal["shipment.in_transit"] = "shipment.in_transit"
    data: ShipmentInTransitData


class ShipmentDelayedData(Parcel):
    """The carrier will be late; the customer must hear why and until when."""

    reason: DelayReason
    reason_text: str | None = Field(default=None, max_length=300)
    new_expected_delivery: DateWindow

    @model_validator(mode="after")
    def _explained(self) -> "ShipmentDelayedData":
        if self.reason is DelayReason.OTHER and not self.reason_text:
            raise ValueError("reason `other` needs reason_text")
        return self


class ShipmentDelayed(CloudEvent):
    """`shipment.delayed`."""

    type: Literal["shipment.delayed"] = "shipment.delayed"
    data: ShipmentDelayedData


class ShipmentOutForDeliveryData(Parcel):
    """The courier is on the way today."""

    window_start: AwareDatetime
    window_end: AwareDatetime
    courier_phone: str | None = Field(default=None, pattern=r"^\+[1-9][0-9]{6,14}$")

    @model_validator(mode="after")
    def _ordered(self) -> "ShipmentOutForDeliveryData":
        if self.window_end < self.window_start:
            raise ValueError("window_end must not be before window_start")
        return self


class ShipmentOutForDelivery(CloudEvent):
    """`shipment.out_for_delivery`."""

    type: Literal["shipment.out_for_delivery"] = "shipment.out_for_delivery"
    data: ShipmentOutForDeliveryData


class ShipmentAtPickupPointData(Parcel):
    """The parcel waits at a pickup point."""

    point: PickupPoint
    pickup_code: str = Field(min_length=1, max_length=40)
    stored_until: AwareDatetime = Field(description="After this the parcel goes back to the shop.")
    cash_on_delivery: Money | None = Field(default=None, description="To pay at pickup, if any.")


class ShipmentAtPickupPoint(CloudEvent):
    """`shipment.at_pickup_point`."""

    type: Literal["shipment.at_pickup_point"] = "shipment.at_pickup_point"
    data: ShipmentAtPickupPointData


class ShipmentDelivered(CloudEvent):
    """`shipment.delivered`: handed over at the door; `time` is when."""

    type: Literal["shipment.delivered"] = "shipment.delivered"
    data: Parcel


class ShipmentPickedUp(CloudEvent):
    """`shipment.picked_up`: collected at the pickup point; `time` is when."""

    type: Literal["shipment.picked_up"] = "shipment.picked_up"
    data: Parcel


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

    reason: FailureReason
    reason_text: str | None = Field(default=None, max_length=300)
    next_attempt: date | None = Field(default=None, description="When the carrier tries again.")
    customer_action: CustomerAction = CustomerAction.NONE
    action_url: AnyHttpUrl | None = Field(default=None, description="Where to arrange it.")


class ShipmentDeliveryFailed(CloudEvent):
    """`shipment.delivery_failed`."""

    type: Literal["shipment.delivery_failed"] = "shipment.delivery_failed"
    data: ShipmentDeliveryFailedData


class ShipmentReturnedToSenderData(Parcel):
    """The parcel goes back to the shop (not collected, refused, undeliverable)."""

    reason_text: str | None = Field(default=None, max_length=300)


class ShipmentReturnedToSender(CloudEvent):
    """`shipment.returned_to_sender`."""

    type: Literal["shipment.returned_to_sender"] = "shipment.returned_to_sender"
    data: ShipmentReturnedToSenderData


ShipmentEvent = Annotated[
    ShipmentDispatched
    | ShipmentInTransit
    | ShipmentDelayed
    | ShipmentOutForDelivery
    | ShipmentAtPickupPoint
    | ShipmentDelivered
    | ShipmentPickedUp
    | ShipmentDeliveryFailed
    | ShipmentReturnedToSender,
    Field(discriminator="type"),
]
