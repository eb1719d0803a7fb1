"""`orders.v1`: facts the e-shop backend publishes about an order."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Customer, DateWindow, Day, DelayReason, Delivery, Money


class OrderItem(Payload):
    """One line of the order, as the customer saw it in the basket."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Product name as in the basket; shown to the customer.",
    )
    quantity: int = Field(ge=1, description="Number of pieces ordered.")
    unit_price: Money | None = Field(
        default=None,
        description="Price of one piece as the customer pays it (VAT included), in the order's "
        "currency; shown with the line's total in the order confirmation.",
    )

    @property
    def line_price(self) -> Money | None:
        """What the line costs (`unit_price` × `quantity`), if the unit price is known."""
        if self.unit_price is None:
            return None
        amount = self.unit_price.amount * self.quantity
        return Money.model_construct(amount=amount, currency=self.unit_price.currency)


class PaymentMethod(StrEnum):
    """How the customer pays for the order; the notifier words it for the customer."""

    CARD = "card"
    BANK_TRANSFER = "bank_transfer"
    ONLINE_BANKING = "online_banking"
    BLIK = "blik"
    MOBILE_WALLET = "mobile_wallet"
    PAYPAL = "paypal"
    PAY_LATER = "pay_later"
    CASH_ON_DELIVERY = "cash_on_delivery"
    CASH = "cash"


class OrderAcceptedData(Payload):
    """The shop accepted the order. The only event that carries the customer's contact details."""

    order_number: str = Field(min_length=1, max_length=40, description="As shown to the customer.")
    customer: Customer = Field(description="Who the messages about the order go to. Personal data.")
    items: list[OrderItem] = Field(
        min_length=1, description="The ordered lines; shown to the customer."
    )
    total: Money = Field(description="Order total; shown to the customer.")
    delivery: Delivery = Field(
        description="Where the order goes, by `method`: `home` (to the door) or `pickup_point`."
    )
    carrier: str = Field(
        min_length=1, description="Carrier code, e.g. `zasilkovna`, `ppl`, `inpost`."
    )
    promised_dispatch: Day | None = Field(
        default=None, description="Day the shop promised to ship."
    )
    promised_delivery: DateWindow = Field(
        description="Days the shop promised delivery; shown to the customer."
    )
    delivery_price: Money | None = Field(
        default=None,
        description="What the customer pays for delivery (`0.00`: free), included in `total`; "
        "shown to the customer.",
    )
    payment_method: PaymentMethod | None = Field(
        default=None,
        description="How the customer pays: `card` (online), `bank_transfer`, `online_banking` "
        "(a pay-by-link bank button), `blik`, `mobile_wallet` (Apple Pay, Google Pay), `paypal`, "
        "`pay_later` (deferred payment), `cash_on_delivery`, `cash` (in store); shown to the "
        "customer.",
    )
    payment_price: Money | None = Field(
        default=None,
        description="A fee for the payment method, e.g. for cash on delivery, included in "
        "`total`; shown to the customer.",
    )


class OrderAccepted(CloudEvent):
    """`order.accepted`."""

    type: Literal["order.accepted"] = Field(
        default="order.accepted", description="The event type, always `order.accepted`."
    )
    data: OrderAcceptedData = Field(description="The event's payload.")


class OrderDelayedData(Payload):
    """The shop cannot ship on time; the customer must hear why and until when."""

    reason: DelayReason = Field(
        description="Why the order is late; the notifier words it for the customer."
    )
    reason_text: str | None = Field(
        default=None, max_length=300, description="Shown to the customer; required for `other`."
    )
    new_promised_delivery: DateWindow = Field(
        description="The new delivery promise; shown to the customer."
    )

    @model_validator(mode="after")
    def _explained(self) -> "OrderDelayedData":
        if self.reason is DelayReason.OTHER and not self.reason_text:
            raise ValueError("reason `other` needs reason_text")
        return self


class OrderDelayed(CloudEvent):
    """`order.delayed` (shop-side delay, before the parcel leaves)."""

    type: Literal["order.delayed"] = Field(
        default="order.delayed", description="The event type, always `order.delayed`."
    )
    data: OrderDelayedData = Field(description="The event's payload.")


class CancelReason(StrEnum):
    """Why an order was cancelled."""

    CUSTOMER_REQUEST = "customer_request"
    OUT_OF_STOCK = "out_of_stock"
    PAYMENT_FAILED = "payment_failed"
    FRAUD_SUSPECTED = "fraud_suspected"
    OTHER = "other"


class OrderCancelledData(Payload):
    """The order will not be delivered."""

    reason: CancelReason = Field(
        description="Why the order was cancelled; the notifier words it for the customer."
    )
    reason_text: str | None = Field(
        default=None,
        max_length=300,
        description="Free text shown to the customer as written, e.g. to explain `other`.",
    )
    refund: Money | None = Field(default=None, description="What is refunded, when paid already.")


class OrderCancelled(CloudEvent):
    """`order.cancelled`."""

    type: Literal["order.cancelled"] = Field(
        default="order.cancelled", description="The event type, always `order.cancelled`."
    )
    data: OrderCancelledData = Field(description="The event's payload.")


OrderEvents = OrderAccepted | OrderDelayed | OrderCancelled
"""Every event of the topic, for a consumer that unions them with its own types."""
OrderEvent = Annotated[OrderEvents, Field(discriminator="type")]
