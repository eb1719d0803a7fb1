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

    notification_id: str
    channel: Channel
    provider: str = Field(description="`outbox`, `ses`, `smtp`, `twilio`.")
    provider_message_id: str | None = None
    reason: str | None = Field(default=None, description="Why it failed; never personal data.")


class NotificationSent(CloudEvent):
    """`notification.sent`: the provider accepted the message."""

    type: Literal["notification.sent"] = "notification.sent"
    data: NotificationOutcomeData


class NotificationFailed(CloudEvent):
    """`notification.failed`: it will not be sent on this channel, see `reason`."""

    type: Literal["notification.failed"] = "notification.failed"
    data: NotificationOutcomeData


class NotificationDelivered(CloudEvent):
    """`notification.delivered`: the provider reported delivery to the handset or mailbox."""

    type: Literal["notification.delivered"] = "notification.delivered"
    data: NotificationOutcomeData


NotificationOutcome = Annotated[
    NotificationSent | NotificationFailed | NotificationDelivered, Field(discriminator="type")
]
