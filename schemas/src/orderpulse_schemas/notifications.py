"""`notifications.v1`: what the customer must hear, requested from the notifier.

The requester (status-tracker, returns) decides *what* and *when*; the notifier decides *how*
(channels, consent, quiet hours, retries). Each request carries every fact its message needs,
typed per kind, so the notifier never looks anything up but the shop's own configuration.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.orders import CancelReason, OrderItem, PaymentMethod
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
from orderpulse_schemas.values import (
    Customer,
    DateWindow,
    Day,
    DelayReason,
    Delivery,
    Moment,
    Money,
    PickupPoint,
)


class OrderAcceptedNotice(Payload):
    """Thank you, we have your order: what, how much, where to and by when."""

    kind: Literal["order_accepted"] = Field(
        default="order_accepted", description="Always `order_accepted`."
    )
    items: list[OrderItem] = Field(description="The ordered lines.")
    total: Money = Field(description="Order total.")
    delivery: Delivery = Field(
        description="Where the order goes, by `method`: `home` (to the door) or `pickup_point`."
    )
    promised_delivery: DateWindow = Field(description="Days the shop promised delivery.")
    carrier: str | None = Field(
        default=None, description="Carrier code, e.g. `zasilkovna`: who delivers, if known."
    )
    delivery_price: Money | None = Field(
        default=None, description="What the customer pays for delivery (`0.00`: free)."
    )
    payment_method: PaymentMethod | None = Field(
        default=None, description="How the customer pays, if the shop said."
    )
    payment_price: Money | None = Field(
        default=None, description="The payment method's fee, e.g. for cash on delivery."
    )


class OrderDispatchedNotice(ShipmentDispatchedData):
    """The parcel is on its way, with the tracking link."""

    kind: Literal["order_dispatched"] = Field(
        default="order_dispatched", description="Always `order_dispatched`."
    )


class DelaySource(StrEnum):
    """Who noticed the delay."""

    SHOP = "shop"
    CARRIER = "carrier"
    OVERDUE = "overdue"


class OrderDelayedNotice(Payload):
    """Late: always why, and the new date when it is known."""

    kind: Literal["order_delayed"] = Field(
        default="order_delayed", description="Always `order_delayed`."
    )
    source: DelaySource = Field(
        description="Who noticed: `shop`, `carrier`, or `overdue` (expected days passed, no news)."
    )
    reason: DelayReason | None = Field(default=None, description="None only when `overdue`.")
    reason_text: str | None = Field(
        default=None,
        description="Free text from the delay event, shown to the customer as written.",
    )
    new_expected_delivery: DateWindow | None = Field(
        default=None, description="The new expected delivery, when known."
    )
    last_progress_on: Day | None = Field(default=None, description="Last carrier scan, if any.")

    @model_validator(mode="after")
    def _explained(self) -> "OrderDelayedNotice":
        if self.reason is None and self.source is not DelaySource.OVERDUE:
            raise ValueError("a `shop` or `carrier` delay needs its reason")
        return self


class AtPickupPointNotice(ShipmentAtPickupPointData):
    """Waiting at the pickup point (or, as a reminder, still waiting)."""

    kind: Literal["at_pickup_point", "pickup_reminder"] = Field(
        default="at_pickup_point",
        description="`at_pickup_point` on arrival, `pickup_reminder` while it still waits.",
    )


class OutForDeliveryNotice(ShipmentOutForDeliveryData):
    """The courier comes today."""

    kind: Literal["out_for_delivery"] = Field(
        default="out_for_delivery", description="Always `out_for_delivery`."
    )


class ReceivedNotice(Payload):
    """Delivered to the door or picked up."""

    kind: Literal["delivered", "picked_up"] = Field(
        description="`delivered` at the door or `picked_up` at the pickup point."
    )
    received_at: Moment = Field(
        description="When the parcel was delivered or picked up, with a UTC offset."
    )


class DeliveryFailedNotice(ShipmentDeliveryFailedData):
    """A delivery attempt failed: why, and what happens next."""

    kind: Literal["delivery_failed"] = Field(
        default="delivery_failed", description="Always `delivery_failed`."
    )


class ReturnedToSenderNotice(Payload):
    """The parcel goes back to the shop."""

    kind: Literal["returned_to_sender"] = Field(
        default="returned_to_sender", description="Always `returned_to_sender`."
    )
    reason_text: str | None = Field(
        default=None,
        description="Why the parcel goes back, free text shown to the customer as written.",
    )


class OrderCancelledNotice(Payload):
    """The order is cancelled: why, and the refund if any."""

    kind: Literal["order_cancelled"] = Field(
        default="order_cancelled", description="Always `order_cancelled`."
    )
    reason: CancelReason = Field(description="Why the order was cancelled.")
    reason_text: str | None = Field(
        default=None,
        description="Free text from the cancellation, shown to the customer as written.",
    )
    refund: Money | None = Field(default=None, description="What is refunded, when paid already.")


class ReturnInstructionsNotice(Payload):
    """How to return, and until when (or, as a reminder, that the window closes soon)."""

    kind: Literal["return_instructions", "return_window_closing"] = Field(
        default="return_instructions",
        description="`return_instructions` after delivery, `return_window_closing` as a reminder.",
    )
    withdrawal_deadline: Day = Field(
        description="Last day the customer may withdraw from the purchase."
    )
    received: Literal["delivered", "picked_up"] | None = Field(
        default=None,
        description="Set when the shop merges the instructions into the arrival message, which "
        "then opens with the news that the order was delivered or picked up.",
    )
    return_code: str | None = Field(
        default=None,
        max_length=40,
        description="Code the customer shows at the drop-off point (also as a QR code), if any.",
    )
    return_url: AnyHttpUrl | None = Field(
        default=None, description="This order's page in the shop's returns portal, if any."
    )
    dropoff_point: PickupPoint | None = Field(
        default=None,
        description="The drop-off point nearest the customer, e.g. where they collected the order.",
    )


class ReturnRequestedNotice(ReturnRequestedData):
    """Acknowledgement of the withdrawal, with its date and time."""

    kind: Literal["return_requested"] = Field(
        default="return_requested", description="Always `return_requested`."
    )
    requested_at: Moment = Field(description="When the customer withdrew, with a UTC offset.")
    refund_by: Day | None = Field(
        default=None,
        description="Last day of the 14 days the shop has to refund, counted from `requested_at`.",
    )


class ReturnLabelIssuedNotice(ReturnLabelIssuedData):
    """The return label is ready."""

    kind: Literal["return_label_issued"] = Field(
        default="return_label_issued", description="Always `return_label_issued`."
    )


class ReturnReceivedNotice(ReturnData):
    """The shop has the goods back."""

    kind: Literal["return_received"] = Field(
        default="return_received", description="Always `return_received`."
    )
    refund_by: Day | None = Field(
        default=None,
        description="Last day the shop may refund: 14 days from the withdrawal, or the day the "
        "goods came back if later. None when the requester did not hear of the withdrawal.",
    )


class ReturnRefundedNotice(ReturnRefundedData):
    """The money is on its way back."""

    kind: Literal["return_refunded"] = Field(
        default="return_refunded", description="Always `return_refunded`."
    )


class ReturnRejectedNotice(ReturnRejectedData):
    """The return was not accepted: why, and what next."""

    kind: Literal["return_rejected"] = Field(
        default="return_rejected", description="Always `return_rejected`."
    )


class ReviewRequestNotice(Payload):
    """Some days after the order arrived: thanks, and a request to review the shop.

    Sent only to customers who consented to it (`consent.reviews`), never after a return was
    requested for the order; every email carries a one-click link to stop them.
    """

    kind: Literal["review_request"] = Field(
        default="review_request", description="Always `review_request`."
    )
    received: Literal["delivered", "picked_up"] = Field(
        description="How the order arrived: `delivered` to the door or `picked_up` at a point."
    )
    received_at: Moment = Field(
        description="When the order was delivered or picked up, with a UTC offset."
    )
    review_url: AnyHttpUrl = Field(
        description="Where the customer writes the review (e.g. Heureka, Ceneo, Google), from "
        "the shop's `reviews.link` in the shops file."
    )


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
    | ReturnRejectedNotice
    | ReviewRequestNotice,
    Field(discriminator="kind"),
]


class NotificationRequestedData(Payload):
    """Tell this customer this notice about this order."""

    notification_id: str = Field(
        min_length=1, description="Deterministic, derived from the cause: the idempotency key."
    )
    cause_id: str | None = Field(
        default=None,
        description="`id` of the event that made the service ask (a shop's, a carrier's or its "
        "own); the notifier copies it into every outcome.",
    )
    order_number: str = Field(description="The shop's order number, as shown to the customer.")
    customer: Customer = Field(
        description="Who to tell, in which language and on which channels. Personal data."
    )
    notice: Notice = Field(
        description="What to tell the customer: one notice, its fields chosen by `kind`."
    )


class NotificationRequested(CloudEvent):
    """`notification.requested`."""

    type: Literal["notification.requested"] = Field(
        default="notification.requested",
        description="The event type, always `notification.requested`.",
    )
    data: NotificationRequestedData = Field(description="The event's payload.")
