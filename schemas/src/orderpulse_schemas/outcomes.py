"""`notification-outcomes.v1`: what became of each message the notifier handled."""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from orderpulse_schemas.envelope import CloudEvent, Payload


class Channel(StrEnum):
    """How a message reaches the customer."""

    EMAIL = "email"
    SMS = "sms"


class NotificationOutcomeData(Payload):
    """One channel's result for one notification."""

    notification_id: str = Field(
        description="The `notification_id` of the request this outcome is for."
    )
    request_id: str | None = Field(
        default=None,
        description="`id` of the `notification.requested` event this outcome answers. Missing "
        "where the notifier tells an outcome without the request at hand: an erased customer's "
        "or a moot text, a provider's report on a request it did not keep. `notification_id` "
        "always joins them.",
    )
    cause_id: str | None = Field(
        default=None,
        description="The request's `cause_id`: the event the customer was told about, when the "
        "request named it.",
    )
    channel: Channel = Field(description="The channel this outcome is for.")
    provider: str = Field(description="`outbox`, `ses`, `smtp`, `twilio`.")
    provider_message_id: str | None = Field(
        default=None, description="The provider's id of the message, to trace it with the provider."
    )
    reason: str | None = Field(default=None, description="Why it failed; never personal data.")


class NotificationSent(CloudEvent):
    """`notification.sent`: the provider accepted the message."""

    type: Literal["notification.sent"] = Field(
        default="notification.sent", description="The event type, always `notification.sent`."
    )
    data: NotificationOutcomeData = Field(description="The event's payload.")


class NotificationFailed(CloudEvent):
    """`notification.failed`: it will not be sent on this channel, see `reason`."""

    type: Literal["notification.failed"] = Field(
        default="notification.failed", description="The event type, always `notification.failed`."
    )
    data: NotificationOutcomeData = Field(description="The event's payload.")


class NotificationDelivered(CloudEvent):
    """`notification.delivered`: the provider reported delivery to the handset or mailbox."""

    type: Literal["notification.delivered"] = Field(
        default="notification.delivered",
        description="The event type, always `notification.delivered`.",
    )
    data: NotificationOutcomeData = Field(description="The event's payload.")


NotificationOutcome = Annotated[
    NotificationSent | NotificationFailed | NotificationDelivered, Field(discriminator="type")
]
