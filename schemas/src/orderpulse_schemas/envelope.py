"""The CloudEvents 1.0 envelope every orderpulse message travels in (structured JSON mode)."""

from datetime import UTC, datetime, timedelta
from typing import ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of a consumer's clock an event's `time` may be: producers' clocks drift, but a
fact dated later than that has not happened yet (and would be told as if it had)."""
EARLIEST_TIME = datetime(2020, 1, 1, tzinfo=UTC)
"""No event is older: an earlier `time` is a producer's bug (an epoch default, a swapped field).
Fixed rather than relative to now, so old records still replay and old examples still pass."""
MAX_RECORD_BYTES = 1_000_000
"""The largest record value a consumer accepts: under Kafka's default 1 MiB limit, with room
for the key and the dead-letter headers, so whatever is rejected can still be copied whole."""


class Payload(BaseModel):
    """Base of every event's `data`: immutable, and tolerant of fields added later within v1."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class CloudEvent(BaseModel):
    """Envelope fields shared by every event; subclasses fix `type` and `data`.

    `id` is the producer's unique event id: consumers deduplicate on it. `subject` is the order id
    (also the Kafka message key), so all events of one order stay in order on one partition.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    keyed_by_subject: ClassVar[bool] = True
    """Whether the Kafka key must equal `subject` (a record keyed otherwise is dead-lettered)."""

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
