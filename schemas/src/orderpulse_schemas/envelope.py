"""The CloudEvents 1.0 envelope every orderpulse message travels in (structured JSON mode)."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Payload(BaseModel):
    """Base of every event's `data`: immutable, and tolerant of fields added later within v1."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class CloudEvent(BaseModel):
    """Envelope fields shared by every event; subclasses fix `type` and `data`.

    `id` is the producer's unique event id: consumers deduplicate on it. `subject` is the order id
    (also the Kafka message key), so all events of one order stay in order on one partition.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = Field(
        default="1.0", description="The CloudEvents version, always `1.0`."
    )
    id: str = Field(min_length=1, max_length=200, description="Unique id of this event.")
    source: str = Field(
        min_length=1,
        description="URI-reference of the producer, e.g. `/shops/kvetinac-cz/backend`.",
    )
    type: str = Field(
        description="What happened, e.g. `order.accepted`; selects the model of `data`."
    )
    time: AwareDatetime = Field(description="When the fact happened, with a UTC offset.")
    subject: str = Field(min_length=1, max_length=100, description="The order id; the Kafka key.")
    datacontenttype: Literal["application/json"] = Field(
        "application/json", description="Always `application/json`."
    )
    shopid: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9-]*$",
        description="CloudEvents extension: the shop the order belongs to.",
    )
