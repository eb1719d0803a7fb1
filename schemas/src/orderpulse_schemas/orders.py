"""`orders.v1`: facts the e-shop backend publishes about an order."""

from datetime import date
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Customer, DateWindow, DelayReason, Delivery, Money


class OrderItem(Payload):
    """One line of the order, as the customer saw it in the basket."""

    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)


class OrderAcceptedData(Payload):
    """The shop accepted the order. The only event that carries the customer's contact details."""

    order_number: str = Field(min_length=1, max_length=40, description="As shown to the customer.")
    customer: Customer
    items: list[OrderItem] = Field(min_length=1)
    total: Money
    delivery: Delivery
    carrier: str = Field(
        min_length=1, description="Carrier code, e.g. `zasilkovna`, `ppl`, `inpost`."
    )
    promised_dispatch: date | None = Field(
        default=None, description="Day the shop promised to ship."
    )
    promised_delivery: DateWindow


class OrderAccepted(CloudEvent):
    """`order.accepted`."""

    type: Literal["order.accepted"] = "order.accepted"
    data: OrderAcceptedData


class OrderDelayedData(Payload):
    """The shop cannot ship on time; the customer must hear why and until when."""

    reason: DelayReason
    reason_text: str | None = Field(
        default=None, max_length=300, description="Shown to the customer; required for `other`."
    )
    new_promised_delivery: DateWindow

    @model_validator(mode="after")
    def _explained(self) -> "OrderDelayedData":
        if self.reason is DelayReason.OTHER and not self.reason_text:
            raise ValueError("reason `other` needs reason_text")
        return self


class OrderDelayed(CloudEvent):
    """`order.delayed` (shop-side delay, before the parcel leaves)."""

    type: Literal["order.delayed"] = "order.delayed"
    data: OrderDelayedData


class CancelReason(StrEnum):
    """Why an order was cancelled."""

    CUSTOMER_REQUEST = "customer_request"
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_FAILED = "payment_failed"
    FRAUD_SUSPECTED = "fraud_suspected"
    OTHER = "other"


class OrderCancelledData(Payload):
    """The order will not be delivered."""

    reason: CancelReason
    reason_text: str | None = Field(default=None, max_length=300)
    refund: Money | None = Field(default=None, description="What is refunded, when paid already.")


class OrderCancelled(CloudEvent):
    """`order.cancelled`."""

    type: Literal["order.cancelled"] = "order.cancelled"
    data: OrderCancelledData


OrderEvent = Annotated[OrderAccepted | OrderDelayed | OrderCancelled, Field(discriminator="type")]
