"""The notifier's use case: each channel of each notification is sent once, and its outcome told."""

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime

from orderpulse_notifier.errors import PermanentDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage
from orderpulse_notifier.policy import channels_for
from orderpulse_notifier.ports import (
    Delivery,
    DeliveryStatus,
    DeliveryStore,
    EmailSender,
    SmsSender,
)
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Shop, SmsDiacritics
from orderpulse_notifier.sms import SmsText, measure, transliterate
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import (
    Channel,
    NotificationFailed,
    NotificationOutcomeData,
    NotificationSent,
)

log = logging.getLogger(__name__)

SOURCE = "/orderpulse/notifier"
_NAMESPACE = uuid.UUID("5d0c7f35-1f4b-4c3e-b7a8-9b1a4b7e6c21")

Outcome = NotificationSent | NotificationFailed


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
    ) -> None:
        self._shops, self._renderer, self._store, self._now = shops, renderer, store, now
        self._email, self._sms = email, sms

    async def handle(self, request: NotificationRequested) -> list[Outcome]:
        """Send what was not sent yet; return every channel's outcome (again, if redelivered)."""
        outcomes = []
        for channel in channels_for(request.data.customer):
            delivery_id = f"{request.data.notification_id}:{channel.value}"
            delivery = await self._store.claim(delivery_id)
            if delivery.status is DeliveryStatus.PENDING:
                delivery = await self._deliver(request, channel, delivery_id)
                await self._store.finish(delivery_id, delivery)
            outcomes.append(self._outcome(request, channel, delivery_id, delivery))
        return outcomes

    async def _deliver(
        self, request: NotificationRequested, channel: Channel, delivery_id: str
    ) -> Delivery:
        sender = self._email if channel is Channel.EMAIL else self._sms
        try:
            shop = self._shops.get(request.shopid)
            if shop is None:
                raise PermanentDeliveryError(f"unknown shop {request.shopid!r}")
            if channel is Channel.EMAIL:
                reference = await self._email.send_email(self._email_of(request, shop, delivery_id))
            else:
                reference = await self._sms.send_sms(self._sms_of(request, shop, delivery_id))
        except PermanentDeliveryError as error:
            log.warning("%s failed: %s", delivery_id, error)
            return Delivery(DeliveryStatus.FAILED, sender.name, reason=str(error))
        return Delivery(DeliveryStatus.SENT, sender.name, reference)

    def _email_of(
        self, request: NotificationRequested, shop: Shop, delivery_id: str
    ) -> EmailMessage:
        subject, html, text = self._renderer.email(request, shop)
        customer = request.data.customer
        assert customer.email is not None  # channels_for chose email only with an address
        return EmailMessage(
            delivery_id=delivery_id,
            sender=f"{shop.sender.name} <{shop.sender.email}>",
            to=f"{customer.first_name} {customer.last_name} <{customer.email}>",
            subject=subject,
            html=html,
            text=text,
            label=_label(request),
        )

    def _sms_of(self, request: NotificationRequested, shop: Shop, delivery_id: str) -> SmsMessage:
        text = render_sms(self._renderer, request, shop)
        assert request.data.customer.phone is not None  # channels_for chose SMS only with a number
        return SmsMessage(
            delivery_id=delivery_id,
            sender=shop.sms_sender,
            to=request.data.customer.phone,
            body=text.body,
            encoding=text.encoding,
            segments=text.segments,
            label=_label(request),
        )

    def _outcome(
        self, request: NotificationRequested, channel: Channel, delivery_id: str, delivery: Delivery
    ) -> Outcome:
        data = NotificationOutcomeData(
            notification_id=request.data.notification_id,
            channel=channel,
            provider=delivery.provider or "none",
            provider_message_id=delivery.provider_message_id,
            reason=delivery.reason,
        )
        kind = NotificationSent if delivery.status is DeliveryStatus.SENT else NotificationFailed
        return kind(
            id=str(uuid.uuid5(_NAMESPACE, f"{delivery_id}:{delivery.status.value}")),
            source=SOURCE,
            time=self._now(),
            subject=request.subject,
            shopid=request.shopid,
            data=data,
        )


def render_sms(renderer: Renderer, request: NotificationRequested, shop: Shop) -> SmsText:
    """The SMS as sent: rendered, without diacritics when the shop says so, and measured."""
    body = renderer.sms(request, shop)
    if shop.sms_diacritics is SmsDiacritics.TRANSLITERATE:
        body = transliterate(body)
    return measure(body)


def _label(request: NotificationRequested) -> str:
    return f"{request.shopid}/{request.data.order_number}/{request.data.notice.kind}"
