"""`erasure-requests.v1`: a customer's right to be forgotten, honoured by every service."""

from typing import Annotated, ClassVar, Literal

from pydantic import EmailStr, Field, model_validator

from orderpulse_schemas.envelope import CloudEvent, Payload
from orderpulse_schemas.values import Phone


class ErasureRequestedData(Payload):
    """Erase this customer's personal data from every store. At least one identifier is required."""

    email: EmailStr | None = Field(
        default=None, description="Erase everything held for this email address. Personal data."
    )
    phone: Phone | None = Field(
        default=None,
        description="Erase everything held for this phone number, written as in the orders "
        "(formatting is removed the same way). Personal data.",
    )
    order_ids: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, description="Orders to erase in any case."
    )

    @model_validator(mode="after")
    def _identifies_someone(self) -> "ErasureRequestedData":
        if not (self.email or self.phone or self.order_ids):
            raise ValueError("give an email, a phone or order ids")
        return self


class ErasureRequested(CloudEvent):
    """`customer.erasure_requested`; `subject` is the shop's request id, not an order id.

    Keyed by the shop id, but any key is accepted: an erasure is about a customer, not one
    order, and no other event's order depends on where it lands."""

    keyed_by_subject: ClassVar[bool] = False

    type: Literal["customer.erasure_requested"] = Field(
        default="customer.erasure_requested",
        description="The event type, always `customer.erasure_requested`.",
    )
    data: ErasureRequestedData = Field(description="The event's payload.")
