"""`order-status.v1`: the status-tracker's canonical view of each order, for other services."""

from enum import StrEnum
from typing import Literal

from pydantic import Field

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Customer, PickupPoint


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle. A delay is no status: it moves the expected date, and
    the order stays where it was (the customer hears of it as an `order_delayed` notice)."""

    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    AT_PICKUP_POINT = "at_pickup_point"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"


class CollectionPoint(Payload):
    """Where the customer collected the order, and whose point it is."""

    carrier: str = Field(min_length=1, description="Carrier code of the point, e.g. `zasilkovna`.")
    point: PickupPoint = Field(description="The pickup point the order was collected from.")


class OrderStatusChangedData(Payload):
    """The order moved to a new status because of the event `cause_id`."""

    order_number: str = Field(description="The shop's order number, as shown to the customer.")
    status: OrderStatus = Field(
        description="The status the order is in now. A delay is none: it moves the expected "
        "date, and the customer hears of it in an `order_delayed` notice."
    )
    previous_status: OrderStatus | None = Field(
        default=None, description="The status before; null for the first one."
    )
    cause_id: str = Field(description="`id` of the event that caused the change.")
    customer: Customer | None = Field(
        default=None,
        description="Personal data. Only on `delivered` and `picked_up`: the returns service "
        "needs it to send the return instructions.",
    )
    collected_from: CollectionPoint | None = Field(
        default=None,
        description="Only on `picked_up`: where the customer collected the order; the returns "
        "service offers it as the nearest drop-off point.",
    )


class OrderStatusChanged(CloudEvent):
    """`order.status_changed`; `time` is when the underlying fact happened."""

    type: Literal["order.status_changed"] = Field(
        default="order.status_changed", description="The event type, always `order.status_changed`."
    )
    data: OrderStatusChangedData = Field(description="The event's payload.")
