"""`returns.v1`: facts the e-shop or its returns portal publishes about a return."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, Field

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Money


class ReturnItem(Payload):
    """One returned line."""

    name: str = Field(min_length=1, max_length=200)
    quantity: int = Field(ge=1)


class ReturnMethod(StrEnum):
    """How the goods travel back."""

    PICKUP_POINT_DROPOFF = "pickup_point_dropoff"
    COURIER_COLLECTION = "courier_collection"
    POST = "post"
    IN_STORE = "in_store"


class ReturnData(Payload):
    """Which return an event is about (an order may have several)."""

    return_id: str = Field(min_length=1, max_length=60)


class ReturnRequestedData(ReturnData):
    """The customer withdrew from the purchase (or asked to return goods); `time` is when."""

    items: list[ReturnItem] = Field(min_length=1)
    method: ReturnMethod
    return_code: str | None = Field(
        default=None, max_length=40, description="Code to show at the drop-off point, if any."
    )


class ReturnRequested(CloudEvent):
    """`return.requested`."""

    type: Literal["return.requested"] = "return.requested"
    data: ReturnRequestedData


class ReturnLabelIssuedData(ReturnData):
    """A return label is ready for the customer."""

    carrier: str = Field(min_length=1)
    label_url: AnyHttpUrl
    tracking_number: str | None = None


class ReturnLabelIssued(CloudEvent):
    """`return.label_issued`."""

    type: Literal["return.label_issued"] = "return.label_issued"
    data: ReturnLabelIssuedData


class ReturnReceived(CloudEvent):
    """`return.received`: the shop has the goods back."""

    type: Literal["return.received"] = "return.received"
    data: ReturnData


class RefundMethod(StrEnum):
    """How the money goes back."""

    ORIGINAL_PAYMENT = "original_payment"
    BANK_TRANSFER = "bank_transfer"
    STORE_CREDIT = "store_credit"


class ReturnRefundedData(ReturnData):
    """The money is on its way back."""

    amount: Money
    method: RefundMethod


class ReturnRefunded(CloudEvent):
    """`return.refunded`."""

    type: Literal["return.refunded"] = "return.refunded"
    data: ReturnRefundedData


class ReturnRejectedData(ReturnData):
    """The shop does not accept the return; the customer must hear why and what next."""

    reason: str = Field(min_length=1, max_length=300)
    next_step: str | None = Field(default=None, max_length=300)


class ReturnRejected(CloudEvent):
    """`return.rejected`."""

    type: Literal["return.rejected"] = "return.rejected"
    data: ReturnRejectedData


ReturnEvent = Annotated[
    ReturnRequested | ReturnLabelIssued | ReturnReceived | ReturnRefunded | ReturnRejected,
    Field(discriminator="type"),
]
