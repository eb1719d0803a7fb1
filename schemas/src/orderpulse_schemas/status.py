"""`order-status.v1`: the status-tracker's canonical view of each order, for other services."""

from enum import StrEnum
from typing import Literal

from pydantic import Field

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Customer


class OrderStatus(StrEnum):
    """Where an order is in its lifecycle."""

    ACCEPTED = "accepted"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    DELAYED = "delayed"
    AT_PICKUP_POINT = "at_pickup_point"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    PICKED_UP = "picked_up"
    RETURNED_TO_SENDER = "returned_to_sender"
    CANCELLED = "cancelled"


class OrderStatusChangedData(Payload):
    """The order moved to a new status because of the event `cause_id`."""

    order_number: str = Field(description="The shop's order number, as shown to the customer.")
    status: OrderStatus = Field(description="The status the order is in now.")
    previous_status: OrderStatus | None = Field(
        default=None, description="The status before; null for the first one."
    )
    cause_id: str = Field(description="`id` of the event that caused the change.")
    customer: Customer | None = Field(
        default=None,
        description="Personal data. Only on `delivered` and `picked_up`: the returns service "
        "needs it to send the return instructions.",
    )


class OrderStatusChanged(CloudEvent):
    """`order.status_changed`; `time` is when the underlying fact happened."""

    type: Literal["order.status_changed"] = Field(
        default="order.status_changed", description="The event type, always `order.status_changed`."
    )
    data: OrderStatusChangedData = Field(description="The event's payload.")
