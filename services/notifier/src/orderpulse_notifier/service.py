"""The notifier's use case: each channel of each notification is sent once, and its outcome told.

A channel is claimed before it is sent and finished after, so a redelivered request sends nothing
twice. Transient provider errors are retried with backoff; when they outlast the retries the
channel is handed back (`Handled.gave_up`) for the caller to dead-letter or park. Permanent errors
fail the channel, and a failed or undelivered SMS falls back to email where the shop allows it.
Texts that would arrive in quiet hours wait, durably, until the hours end. An erased customer's
kept requests are forgotten, and their waiting messages fail instead of going out.
"""

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from orderpulse_notifier.errors import PermanentDeliveryError, RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage
from orderpulse_notifier.metrics import RETRIES
from orderpulse_notifier.policy import (
    ARRIVAL_KINDS,
    MOOT_ON_ARRIVAL,
    channels_for,
    customer_zone,
    quiet_until,
    reachable,
    sms_number_problem,
)
from orderpulse_notifier.ports import (
    Delivery,
    DeliveryStatus,
    DeliveryStore,
    EmailSender,
    Kept,
    SmsSender,
    Target,
)
from orderpulse_notifier.receipts import Receipt, ReceiptStatus
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Messaging, Shop, SmsDiacritics
from orderpulse_notifier.sms import SmsText, measure, transliterate
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import (
    Channel,
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcomeData,
    NotificationSent,
)
from orderpulse_schemas.privacy import ErasureRequested

log = logging.getLogger(__name__)

SOURCE = "/orderpulse/notifier"
_NAMESPACE = uuid.UUID("5d0c7f35-1f4b-4c3e-b7a8-9b1a4b7e6c21")

Outcome = NotificationSent | NotificationFailed | NotificationDelivered
_OUTCOME_TYPES: dict[DeliveryStatus, type[Outcome]] = {
    DeliveryStatus.SENT: NotificationSent,
    DeliveryStatus.FAILED: NotificationFailed,
    DeliveryStatus.DELIVERED: NotificationDelivered,
}
MOOT_REASON = "moot: the order arrived before the text's quiet hours ended"
ERASED_REASON = "customer erased"


@dataclass(frozen=True)
class Retry:
    """How hard to try a provider before handing a channel back."""

    attempts: int = 5
    initial_seconds: float = 0.5
    max_seconds: float = 10.0
    timeout_seconds: float = 20.0  # one attempt
    park_seconds: float = 300.0  # a deferred channel that gave up is tried again this much later


@dataclass(frozen=True)
class GaveUp:
    """A channel whose transient errors outlasted the retries; it is still pending, unsent."""

    target: Target
    reason: str
    request: NotificationRequested


@dataclass
class Handled:
    """What handling produced: outcomes to publish, channels to retry later."""

    outcomes: list[Outcome] = field(default_factory=list)
    gave_up: list[GaveUp] = field(default_factory=list)


class Notifier:
    """Renders, sends and records; safe to call again with the same request."""

    def __init__(
        self,
        *,
        shops: Mapping[str, Shop],
        renderer: Renderer,
        email: EmailSender,
        sms: SmsSender,
        store: DeliveryStore,
        now: Callable[[], datetime],
        retry: Retry | None = None,
        lease: timedelta = timedelta(minutes=5),
        limits: Mapping[Channel, AsyncLimiter] | None = None,
        sms_receipts: bool = False,
    ) -> None:
        self._shops, self._renderer, self._store, self._now = shops, renderer, store, now
        self._email, self._sms = email, sms
        self._retry, self._lease = retry or Retry(), lease
        self._limits = dict(limits or {})
        self._sms_receipts = sms_receipts

    async def handle(self, request: NotificationRequested) -> Handled:
        """Send what was not sent yet; every channel's outcome (again, if redelivered)."""
        handled = Handled()
        if request.data.notice.kind in ARRIVAL_KINDS:
            await self._make_arriving_texts_moot(request, handled)
        shop = self._shops.get(request.shopid)
        messaging = shop.messaging if shop else Messaging()  # an unknown shop fails each channel
        kind = request.data.notice.kind
        channels = channels_for(request.data.customer, kind, messaging)
        for channel in channels:
            await self._channel(request, shop, channel, handled, deferrable=True)
        return handled

    async def handle_all(self, requests: list[NotificationRequested]) -> Handled:
        """Handle a batch: each order's requests in order, different orders concurrently."""
        by_order: dict[tuple[str, str], list[NotificationRequested]] = {}
        for request in requests:
            by_order.setdefault((request.shopid, request.subject), []).append(request)

        async def one_order(requests: list[NotificationRequested]) -> list[Handled]:
            return [await self.handle(request) for request in requests]

        # Every order runs to its end even when another fails: a send cut off after the provider
        # took it would be sent again on the redelivery. The first failure is raised after.
        results = await asyncio.gather(
            *(one_order(order) for order in by_order.values()), return_exceptions=True
        )
        handled = Handled()
        for result in results:
            if isinstance(result, BaseException):
                raise result
            for one in result:
                handled.outcomes += one.outcomes
                handled.gave_up += one.gave_up
        return handled

    async def send_due(self, limit: int = 100) -> Handled:
        """Send deferred texts whose quiet hours are over; those that give up wait again."""
        handled = Handled()
        now = self._now()
        for due in await self._store.take_due(now, now + self._lease, limit):
            request = NotificationRequested.model_validate_json(due.request)
            await self._send_held(request, self._shops.get(request.shopid), due.target, handled)
        await self.park(handled.gave_up)
        return handled

    async def on_receipt(self, receipt: Receipt) -> Handled:
        """Tell what a provider reported; an undelivered text falls back to email."""
        handled = Handled()
        if receipt.status is ReceiptStatus.DELIVERED:
            reported = Delivery(DeliveryStatus.DELIVERED)
        else:
            reported = Delivery(DeliveryStatus.FAILED, reason=_receipt_reason(receipt))
        receipted = await self._store.record_receipt(
            receipt.provider, receipt.provider_message_id, reported
        )
        if receipted is None:
            return handled  # unknown, or told already
        handled.outcomes.append(self._outcome(receipted.target, receipted.delivery))
        if receipted.delivery.status is DeliveryStatus.FAILED and receipted.request is not None:
            request = NotificationRequested.model_validate_json(receipted.request)
            await self._fall_back(request, self._shops.get(request.shopid), handled)
        await self.park(handled.gave_up)
        return handled

    async def erase(self, request: ErasureRequested) -> tuple[int, Handled]:
        """Forget a customer's kept requests; how many orders it touched, and what to tell.

        A deferred delivery cannot be sent without its request: it fails, and is told as failed.
        """
        data = request.data
        erased = await self._store.erase(
            request.shopid, data.email, data.phone, data.order_ids, ERASED_REASON
        )
        handled = Handled()
        for target in erased.failed:
            handled.outcomes.append(
                self._outcome(target, Delivery(DeliveryStatus.FAILED, reason=ERASED_REASON))
            )
        return erased.orders, handled

    async def forget_kept_requests(self, older_than: timedelta) -> int:
        """Drop requests kept for receipts that never came: personal data is not kept for long."""
        return await self._store.forget_requests(self._now() - older_than)

    async def park(self, gave_up: list[GaveUp]) -> None:
        """Keep channels that gave up as deferred, to be tried again later (durably)."""
        later = self._now() + timedelta(seconds=self._retry.park_seconds)
        for channel in gave_up:
            await self._store.defer(channel.target, later, _kept(channel.request))

    async def _channel(
        self,
        request: NotificationRequested,
        shop: Shop | None,
        channel: Channel,
        handled: Handled,
        *,
        deferrable: bool,
    ) -> None:
        target = _target(request, channel)
        recorded = await self._claim(target)
        if recorded is not None:
            if recorded.status in _OUTCOME_TYPES:
                handled.outcomes.append(self._outcome(target, recorded))
            return
        if deferrable and channel is Channel.SMS and shop is not None:
            zone = customer_zone(request.data.customer.phone, shop.time_zone)
            due = quiet_until(self._now(), shop.messaging.quiet_hours, zone)
            if due is not None:
                await self._store.defer(target, due, _kept(request))
                log.info("%s deferred to %s (quiet hours)", target.delivery_id, due.isoformat())
                return
        await self._send_held(request, shop, target, handled)

    async def _claim(self, target: Target) -> Delivery | None:
        """Claim the delivery, waiting while another worker holds a live lease on it."""
        while True:
            now = self._now()
            recorded = await self._store.claim(target, now, now + self._lease)
            if recorded is None or recorded.status is not DeliveryStatus.PENDING:
                return recorded
            await asyncio.sleep(0.2)  # in flight elsewhere: it finishes, or its lease runs out

    async def _send_held(
        self, request: NotificationRequested, shop: Shop | None, target: Target, handled: Handled
    ) -> None:
        """Send a claimed channel, record it, tell its outcome, fall back when a text fails."""
        try:
            delivery = await self._deliver(request, shop, target)
        except RetryableDeliveryError as error:
            await self._store.release(target, self._now())
            handled.gave_up.append(GaveUp(target, str(error), request))
            log.warning("%s gave up after retries: %s", target.delivery_id, error)
            return
        await self._store.finish(target, delivery, self._kept_for_receipt(request, shop, target))
        handled.outcomes.append(self._outcome(target, delivery))
        if delivery.status is DeliveryStatus.FAILED and target.channel is Channel.SMS:
            await self._fall_back(request, shop, handled)

    async def _fall_back(
        self, request: NotificationRequested, shop: Shop | None, handled: Handled
    ) -> None:
        """Email what a text could not carry, if the shop allows it and the customer has email.

        Not when this kind goes by email anyway: that email is (or will be) sent on its own.
        """
        if shop is None or not shop.messaging.sms_fallback_to_email:
            return
        customer, kind = request.data.customer, request.data.notice.kind
        if Channel.EMAIL in channels_for(customer, kind, shop.messaging):
            return
        if reachable(customer, Channel.EMAIL):
            await self._channel(request, shop, Channel.EMAIL, handled, deferrable=False)

    def _kept_for_receipt(
        self, request: NotificationRequested, shop: Shop | None, target: Target
    ) -> Kept | None:
        """The request, kept only while a text's receipt may still call for the email fallback."""
        if target.channel is not Channel.SMS or not self._sms_receipts or shop is None:
            return None
        customer, messaging = request.data.customer, shop.messaging
        if not messaging.sms_fallback_to_email or not reachable(customer, Channel.EMAIL):
            return None
        emailed = Channel.EMAIL in channels_for(customer, target.kind, messaging)
        return None if emailed else _kept(request)

    async def _make_arriving_texts_moot(
        self, request: NotificationRequested, handled: Handled
    ) -> None:
        moot = await self._store.make_moot(
            request.shopid, request.subject, MOOT_ON_ARRIVAL, MOOT_REASON
        )
        for target in moot:
            handled.outcomes.append(
                self._outcome(target, Delivery(DeliveryStatus.FAILED, reason=MOOT_REASON))
            )

    async def _deliver(
        self, request: NotificationRequested, shop: Shop | None, target: Target
    ) -> Delivery:
        sender: EmailSender | SmsSender = (
            self._email if target.channel is Channel.EMAIL else self._sms
        )
        try:
            if shop is None:
                raise PermanentDeliveryError(f"unknown shop {request.shopid!r}")
            if target.channel is Channel.EMAIL:
                email = self._email_of(request, shop, target.delivery_id)
                reference = await self._attempts(target, lambda: self._email.send_email(email))
            else:
                sms = self._sms_of(request, shop, target.delivery_id)
                reference = await self._attempts(target, lambda: self._sms.send_sms(sms))
        except PermanentDeliveryError as error:
            log.warning("%s failed: %s", target.delivery_id, error)
            return Delivery(DeliveryStatus.FAILED, sender.name, reason=str(error))
        return Delivery(DeliveryStatus.SENT, sender.name, reference)

    async def _attempts(self, target: Target, send: Callable[[], Awaitable[str]]) -> str:
        """Send, retrying transient errors with exponential backoff and jitter."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts),
            wait=wait_exponential_jitter(
                multiplier=self._retry.initial_seconds,
                max=self._retry.max_seconds,
                jitter=self._retry.initial_seconds,
            ),
            retry=retry_if_exception_type(RetryableDeliveryError),
            before_sleep=lambda state: _retrying(target, state),
            reraise=True,
        )
        return await retrying(self._attempt, target.channel, send)

    async def _attempt(self, channel: Channel, send: Callable[[], Awaitable[str]]) -> str:
        limiter = self._limits.get(channel)
        if limiter is not None:
            await limiter.acquire()  # the provider's rate, shared by every concurrent send
        try:
            async with asyncio.timeout(self._retry.timeout_seconds):
                return await send()
        except TimeoutError as error:
            raise RetryableDeliveryError(
                f"no answer within {self._retry.timeout_seconds:g} s"
            ) from error

    def _email_of(
        self, request: NotificationRequested, shop: Shop, delivery_id: str
    ) -> EmailMessage:
        rendered = self._renderer.email(request, shop)
        customer = request.data.customer
        assert customer.email is not None  # channels_for chose email only with an address
        return EmailMessage(
            delivery_id=delivery_id,
            sender=f"{shop.sender.name} <{shop.sender.email}>",
            to=f"{customer.first_name} {customer.last_name} <{customer.email}>",
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            label=_label(request),
            images=rendered.images,
        )

    def _sms_of(self, request: NotificationRequested, shop: Shop, delivery_id: str) -> SmsMessage:
        phone = request.data.customer.phone
        assert phone is not None  # channels_for chose SMS only with a number
        if problem := sms_number_problem(phone):
            raise PermanentDeliveryError(problem)
        text = render_sms(self._renderer, request, shop)
        if text.segments > shop.messaging.sms_max_segments:
            raise PermanentDeliveryError(
                f"the text needs {text.segments} segments ({text.encoding}); "
                f"the shop allows {shop.messaging.sms_max_segments}"
            )
        return SmsMessage(
            delivery_id=delivery_id,
            sender=shop.sms_sender,
            to=phone,
            body=text.body,
            encoding=text.encoding,
            segments=text.segments,
            label=_label(request),
        )

    def _outcome(self, target: Target, delivery: Delivery) -> Outcome:
        data = NotificationOutcomeData(
            notification_id=target.notification_id,
            channel=target.channel,
            provider=delivery.provider or "none",
            provider_message_id=delivery.provider_message_id,
            reason=delivery.reason,
        )
        return _OUTCOME_TYPES[delivery.status](
            id=str(uuid.uuid5(_NAMESPACE, f"{target.delivery_id}:{delivery.status.value}")),
            source=SOURCE,
            time=self._now(),
            subject=target.order_id,
            shopid=target.shop_id,
            data=data,
        )


def _retrying(target: Target, state: RetryCallState) -> None:
    """Count and log a transient failure about to be retried (the reason has no personal data)."""
    RETRIES.labels(target.channel.value).inc()
    log.info("%s attempt %d: %s", target.delivery_id, state.attempt_number, state.outcome)


def render_sms(renderer: Renderer, request: NotificationRequested, shop: Shop) -> SmsText:
    """The SMS as sent: rendered, without diacritics when the shop says so, and measured."""
    body = renderer.sms(request, shop)
    if shop.sms_diacritics is SmsDiacritics.TRANSLITERATE:
        body = transliterate(body)
    return measure(body)


def _target(request: NotificationRequested, channel: Channel) -> Target:
    data = request.data
    return Target(data.notification_id, channel, request.shopid, request.subject, data.notice.kind)


def _kept(request: NotificationRequested) -> Kept:
    customer = request.data.customer
    return Kept(request.model_dump_json(), customer.email, customer.phone)


def _receipt_reason(receipt: Receipt) -> str:
    detail = f" ({receipt.detail})" if receipt.detail else ""
    return f"{receipt.status.value}{detail}"


def _label(request: NotificationRequested) -> str:
    return f"{request.shopid}/{request.data.order_number}/{request.data.notice.kind}"
