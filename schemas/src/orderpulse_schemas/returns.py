"""`returns.v1`: facts the e-shop or its returns portal publishes about a return."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Money


class ReturnItem(Payload):
    """One returned line."""

    name: str = Field(
        min_length=1,
        max_length=200,
        description="Product name as on the order; shown to the customer.",
    )
    quantity: int = Field(ge=1, description="Number of pieces returned.")


class ReturnMethod(StrEnum):
    """How the goods travel back."""

    PICKUP_POINT_DROPOFF = "pickup_point_dropoff"
    COURIER_COLLECTION = "courier_collection"
    POST = "post"
    IN_STORE = "in_store"


class ReturnData(Payload):
    """Which return an event is about (an order may have several)."""

    return_id: str = Field(
        min_length=1,
        max_length=60,
        description="The shop's id of the return, unique within the shop.",
    )


class ReturnRequestedData(ReturnData):
    """The customer withdrew from the purchase (or asked to return goods); `time` is when."""

    items: list[ReturnItem] = Field(
        min_length=1, description="The lines being returned; shown to the customer."
    )
    method: ReturnMethod = Field(description="How the customer sends the goods back.")
    return_code: str | None = Field(
        default=None, max_length=40, description="Code to show at the drop-off point, if any."
    )


class ReturnRequested(CloudEvent):
    """`return.requested`."""

    type: Literal["return.requested"] = Field(
        default="return.requested", description="The event type, always `return.requested`."
    )
    data: ReturnRequestedData = Field(description="The event's payload.")


class ReturnLabelIssuedData(ReturnData):
    """A return label is ready for the customer."""

    carrier: str = Field(
        min_length=1, description="Carrier code of the label, e.g. `zasilkovna`, `ppl`, `inpost`."
    )
    label_url: AnyHttpUrl = Field(description="Where the customer downloads the label, e.g. a PDF.")
    tracking_number: str | None = Field(
        default=None, description="The carrier's tracking number of the return parcel, if known."
    )


class ReturnLabelIssued(CloudEvent):
    """`return.label_issued`."""

    type: Literal["return.label_issued"] = Field(
        default="return.label_issued", description="The event type, always `return.label_issued`."
    )
    data: ReturnLabelIssuedData = Field(description="The event's payload.")


class ReturnReceived(CloudEvent):
    """`return.received`: the shop has the goods back."""

    type: Literal["return.received"] = Field(
        default="return.received", description="The event type, always `return.received`."
    )
    data: ReturnData = Field(description="The event's payload.")


class RefundMethod(StrEnum):
    """How the money goes back."""

    ORIGINAL_PAYMENT = "original_payment"
    BANK_TRANSFER = "bank_transfer"
    STORE_CREDIT = "store_credit"


class ReturnRefundedData(ReturnData):
    """The money is on its way back."""

    amount: Money = Field(description="What is refunded; shown to the customer.")
    method: RefundMethod = Field(description="How the money goes back; shown to the customer.")


class ReturnRefunded(CloudEvent):
    """`return.refunded`."""

    type: Literal["return.refunded"] = Field(
        default="return.refunded", description="The event type, always `return.refunded`."
    )
    data: ReturnRefundedData = Field(description="The event's payload.")


class ReturnRejectedData(ReturnData):
    """The shop does not accept the return; the customer must hear why and what next."""

    reason: str = Field(
        min_length=1,
        max_length=300,
        description="Why the return is rejected, free text shown to the customer as written.",
    )
    next_step: str | None = Field(
        default=None,
        max_length=300,
        description="What the customer can do instead, free text shown to the customer as written.",
    )


class ReturnRejected(CloudEvent):
    """`return.rejected`."""

    type: Literal["return.rejected"] = Field(
        default="return.rejected", description="The event type, always `return.rejected`."
    )
    data: ReturnRejectedData = Field(description="The event's payload.")


ReturnEvent = Annotated[
    ReturnRequested | ReturnLabelIssued | ReturnReceived | ReturnRefunded | ReturnRejected,
    Field(discriminator="type"),
]
