"""The roles the notifier's core needs from the outside world, and the records it keeps."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NamedTuple, Protocol

from orderpulse_kit.erasure import Arriving
from orderpulse_notifier.messages import EmailMessage, SmsMessage
from orderpulse_schemas.outcomes import Channel


class EmailSender(Protocol):
    """Hands an email to a provider and returns the provider's message id.

    `reads_html`: whether it reads the message's HTML, not only its MIME bytes (`raw`); one that
    does not is handed the message without its parts (`EmailMessage.as_raw`).
    """

    name: str
    reads_html: bool

    async def send_email(self, message: EmailMessage) -> str: ...


class SmsSender(Protocol):
    """Hands an SMS to a provider and returns the provider's message id."""

    name: str

    async def send_sms(self, message: SmsMessage) -> str: ...


ERASED_REASON = "customer erased"
"""Why a delivery of an erased customer's request failed."""


class DeliveryStatus(StrEnum):
    """Where one channel of one notification is."""

    PENDING = "pending"  # claimed: being sent, or its sender died (then the lease runs out)
    DEFERRED = "deferred"  # waiting for quiet hours to end
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # it will not go out on this channel: see the reason
    DELIVERED = "delivered"  # the provider reported it delivered


class Target(NamedTuple):
    """One channel of one notification: what a delivery is for. No personal data."""

    notification_id: str
    channel: Channel
    shop_id: str
    order_id: str
    kind: str

    @property
    def delivery_id(self) -> str:
        """The idempotency key of this channel of this notification."""
        return f"{self.notification_id}:{self.channel.value}"


class Delivery(NamedTuple):
    """The recorded state of one channel of one notification."""

    status: DeliveryStatus
    provider: str | None = None
    provider_message_id: str | None = None
    reason: str | None = None


class Kept(NamedTuple):
    """A request kept for later (personal data), with the contacts an erasure finds it by."""

    request: str
    email: str | None
    phone: str | None


class Erased(NamedTuple):
    """What an erasure changed: the orders whose requests it forgot, the deferred ones it failed."""

    orders: int
    failed: list[Target]


class Due(NamedTuple):
    """A deferred delivery whose time has come, with the request it renders from."""

    target: Target
    request: str


class Receipted(NamedTuple):
    """A delivery a provider's receipt changed, with the request when it was kept for fallback."""

    target: Target
    delivery: Delivery
    request: str | None


class Moot(NamedTuple):
    """Orders that arrived: their deferred texts of `kinds` will never go, failing with `reason`."""

    orders: list[tuple[str, str]]  # (shop id, order id)
    kinds: frozenset[str]
    reason: str


@dataclass
class Ends:
    """How a round of sending ended, for the store to write in one transaction."""

    finished: list[tuple[Target, Delivery, Kept | None]] = field(default_factory=list)
    deferred: list[tuple[Target, datetime, Kept]] = field(default_factory=list)
    released: list[Target] = field(default_factory=list)
    moot: Moot | None = None


@dataclass(frozen=True)
class Claimant:
    """A notifier process that claims deliveries: `owner` names it; it is taken for alive
    until `alive_until` unless it says so again (`keep_alive`)."""

    owner: str
    alive_until: datetime


class DeliveryStore(Protocol):
    """Claims deliveries before sending, records how they ended, keeps deferred ones durably."""

    async def claim_all(
        self,
        targets: Sequence[Target],
        now: datetime,
        lease_until: datetime,
        by: Claimant,
        customers: Mapping[str, Arriving] | None = None,
    ) -> list[Delivery | None]:
        """For each target: None when `by` now holds it and must send it; else how it stands
        (`pending` while another live claimant's lease on it runs). A claim whose lease ran out,
        or whose claimant fell silent (died), is taken over; claiming says `by` is alive. A new
        target whose request's customer (`customers`, by notification id) was erased after the
        request was sent ends at once, failed with `ERASED_REASON`."""
        ...

    async def keep_alive(self, claimant: Claimant, now: datetime) -> None:
        """Say that `claimant` is alive (until its `alive_until`); forget long-silent ones."""
        ...

    async def retire(self, owner: str) -> None:
        """`owner` stops: its claims left pending (none, if it stopped cleanly) are free."""
        ...

    async def settle(self, ends: Ends, now: datetime) -> list[Target]:
        """Write `ends`: the moot orders' waiting texts failed first (the ones it failed are
        returned), then each delivery finished (`keep` holds the request while a receipt may
        still call for a fallback), deferred until its time, or released unsent (as if never
        claimed)."""
        ...

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Due]:
        """Deferred deliveries due by `now`, each taken by this caller alone until `lease_until`."""
        ...

    async def record_receipt(
        self, provider: str, provider_message_id: str, delivery: Delivery
    ) -> Receipted | None:
        """Move a sent delivery on to `delivery`; None when unknown or already final."""
        ...

    async def forget_requests(self, before: datetime) -> int:
        """Drop requests kept for receipts, last touched before `before`; how many."""
        ...

    async def erase(
        self,
        shop_id: str,
        email: str | None,
        phone: str | None,
        order_ids: list[str],
        reason: str,
        erased_at: datetime,
    ) -> Erased:
        """Forget the shop's kept requests of this customer or these orders; fail deferred ones;
        remember the erasure, so requests sent before `erased_at` arriving later are not sent."""
        ...
