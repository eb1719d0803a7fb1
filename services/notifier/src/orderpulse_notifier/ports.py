"""The roles the notifier's core needs from the outside world."""

from enum import StrEnum
from typing import NamedTuple, Protocol

from orderpulse_notifier.messages import EmailMessage, SmsMessage


class EmailSender(Protocol):
    """Hands an email to a provider and returns the provider's message id."""

    name: str

    async def send_email(self, message: EmailMessage) -> str: ...


class SmsSender(Protocol):
    """Hands an SMS to a provider and returns the provider's message id."""

    name: str

    async def send_sms(self, message: SmsMessage) -> str: ...


class DeliveryStatus(StrEnum):
    """Where one channel of one notification is."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(NamedTuple):
    """The recorded state of one channel of one notification."""

    status: DeliveryStatus
    provider: str | None = None
    provider_message_id: str | None = None
    reason: str | None = None


class DeliveryStore(Protocol):
    """Claims a delivery before sending and records how it ended."""

    async def claim(self, delivery_id: str) -> Delivery: ...
    async def finish(self, delivery_id: str, delivery: Delivery) -> None: ...
