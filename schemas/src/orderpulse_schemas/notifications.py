"""`notifications.v1`: what the customer must hear, requested from the notifier.

The requester (status-tracker, returns) decides *what* and *when*; the notifier decides *how*
(channels, consent, quiet hours, retries). Each request carries every fact its message needs,
typed per kind, so the notifier never looks anything up but the shop's own configuration.
"""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.orders import CancelReason, OrderItem
from orderpulse_schemas.returns import (
    ReturnData,
    ReturnLabelIssuedData,
    ReturnRefundedData,
    ReturnRejectedData,
    ReturnRequestedData,
)
from orderpulse_schemas.shipments import (
    ShipmentAtPickupPointData,
    ShipmentDeliveryFailedData,
    ShipmentDispatchedData,
    ShipmentOutForDeliveryData,
)
from orderpulse_schemas.values import Customer, DateWindow, DelayReason, Delivery, Money


class OrderAcceptedNotice(Payload):
    """Thank you, we have your order: what, how much, where to and by when."""

    kind: Literal["order_accepted"] = "order_accepted"
    items: list[OrderItem]
    total: Money
    delivery: Delivery
    promised_delivery: DateWindow


class OrderDispatchedNotice(ShipmentDispatchedData):
    """The parcel is on its way, with the tracking link."""

    kind: Literal["order_dispatched"] = "order_dispatched"


class DelaySource(StrEnum):
    """Who noticed the delay."""

    SHOP = "shop"
    CARRIER = "carrier"
    OVERDUE = "overdue"


class OrderDelayedNotice(Payload):
    """Late: always why, and the new date when it is known."""

    kind: Literal["order_delayed"] = "order_delayed"
    source: DelaySource
    reason: DelayReason | None = Field(default=None, description="None only when `overdue`.")
    reason_text: str | None = None
    new_expected_delivery: DateWindow | None = None
    last_progress_on: date | None = Field(default=None, description="Last carrier scan, if any.")

    @model_validator(mode="after")
    def _explained(self) -> "OrderDelayedNotice":
        if self.reason is None and self.source is not DelaySource.OVERDUE:
            raise ValueError("a `shop` or `carrier` delay needs its reason")
        return self


class AtPickupPointNotice(ShipmentAtPickupPointData):
    """Waiting at the pickup point (or, as a reminder, still waiting)."""

    kind: Literal["at_pickup_point", "pickup_reminder"] = "at_pickup_point"


class OutForDeliveryNotice(ShipmentOutForDeliveryData):
    """The courier comes today."""

    kind: Literal["out_for_delivery"] = "out_for_delivery"


class ReceivedNotice(Payload):
    """Delivered to the door or picked up."""

    kind: Literal["delivered", "picked_up"]
    received_at: AwareDatetime


class DeliveryFailedNotice(ShipmentDeliveryFailedData):
    """A delivery attempt failed: why, and what happens next."""

    kind: Literal["delivery_failed"] = "delivery_failed"


class ReturnedToSenderNotice(Payload):
    """The parcel goes back to the shop."""

    kind: Literal["returned_to_sender"] = "returned_to_sender"
    reason_text: str | None = None


class OrderCancelledNotice(Payload):
    """The order is cancelled: why, and the refund if any."""

    kind: Literal["order_cancelled"] = "order_cancelled"
    reason: CancelReason
    reason_text: str | None = None
    refund: Money | None = None


class ReturnInstructionsNotice(Payload):
    """How to return, and until when (or, as a reminder, that the window closes soon)."""

    kind: Literal["return_instructions", "return_window_closing"] = "return_instructions"
    withdrawal_deadline: date


class ReturnRequestedNotice(ReturnRequestedData):
    """Acknowledgement of the withdrawal, with its date and time."""

    kind: Literal["return_requested"] = "return_requested"
    requested_at: AwareDatetime


class ReturnLabelIssuedNotice(ReturnLabelIssuedData):
    """The return label is ready."""

    kind: Literal["return_label_issued"] = "return_label_issued"


class ReturnReceivedNotice(ReturnData):
    """The shop has the goods back."""

    kind: Literal["return_received"] = "return_received"


class ReturnRefundedNotice(ReturnRefundedData):
    """The money is on its way back."""

    kind: Literal["return_refunded"] = "return_refunded"


class ReturnRejectedNotice(ReturnRejectedData):
    """The return was not accepted: why, and what next."""

    kind: Literal["return_rejected"] = "return_rejected"


Notice = Annotated[
    OrderAcceptedNotice
    | OrderDispatchedNotice
    | OrderDelayedNotice
    | AtPickupPointNotice
    | OutForDeliveryNotice
    | ReceivedNotice
    | DeliveryFailedNotice
    | ReturnedToSenderNotice
    | OrderCancelledNotice
    | ReturnInstructionsNotice
    | ReturnRequestedNotice
    | ReturnLabelIssuedNotice
    | ReturnReceivedNotice
    | ReturnRefundedNotice
    | ReturnRejectedNotice,
    Field(discriminator="kind"),
]


class NotificationRequestedData(Payload):
    """Tell this customer this notice about this order."""

    notification_id: str = Field(
        min_length=1, description="Deterministic, derived from the cause: the idempotency key."
    )
    order_number: str
    customer: Customer
    notice: Notice


class NotificationRequested(CloudEvent):
    """`notification.requested`."""

    type: Literal["notification.requested"] = "notification.requested"
    data: NotificationRequestedData
