"""The providers the settings choose, with their send rates and receipt readers."""

import asyncio
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from orderpulse_notifier.adapters.outbox import OutboxSender
from orderpulse_notifier.http import TWILIO_PATH
from orderpulse_notifier.ports import EmailSender, SmsSender
from orderpulse_notifier.receipts import SnsReceipts, TwilioReceipts
from orderpulse_notifier.settings import Settings
from orderpulse_schemas.outcomes import Channel

log = logging.getLogger(__name__)


@dataclass
class Providers:
    """Who sends email and SMS, how fast each may go, and who reads their receipts."""

    email: EmailSender
    sms: SmsSender
    rates: dict[Channel, float | None]
    twilio_receipts: TwilioReceipts | None = None
    sns_receipts: SnsReceipts | None = None
    outbox: OutboxSender | None = None  # when it keeps messages, which an erasure must reach
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def aclose(self) -> None:
        """Close provider connections."""
        for close in self.closers:
            await close()


def providers_from(settings: Settings) -> Providers:
    """Build the chosen providers; a missing credential stops the service with the reason.

    A provider's client library is imported only when it is chosen: boto3 alone is 8 MiB of
    memory, all of them together a sixth of the notifier's.
    """
    outbox = OutboxSender(settings.outbox_dir)
    public = str(settings.public_url).rstrip("/") if settings.public_url else None
    rates: dict[Channel, float | None] = {Channel.EMAIL: None, Channel.SMS: None}
    providers = Providers(outbox, outbox, rates)
    if settings.email_backend == "ses":
        assert settings.ses_region is not None  # Settings checked it
        from orderpulse_notifier.adapters.ses import SesSender

        providers.email = ses = SesSender(
            settings.ses_region,
            endpoint_url=str(settings.ses_endpoint_url) if settings.ses_endpoint_url else None,
            configuration_set=settings.ses_configuration_set,
            max_concurrency=settings.max_in_flight,
            timeout=settings.send_timeout_seconds,
        )
        rates[Channel.EMAIL] = settings.ses_max_send_rate
        providers.closers.append(ses.aclose)
        if settings.ses_sns_topic_arns:
            providers.sns_receipts = SnsReceipts(topic_arns=frozenset(settings.ses_sns_topic_arns))
    elif settings.email_backend == "smtp":
        assert settings.smtp_host is not None  # Settings checked it
        from orderpulse_notifier.adapters.smtp import SmtpSender

        providers.email = smtp = SmtpSender(
            settings.smtp_host,
            settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            starttls=settings.smtp_starttls,
            timeout=settings.send_timeout_seconds,
            max_idle=settings.max_in_flight,
        )
        rates[Channel.EMAIL] = settings.smtp_max_send_rate
        providers.closers.append(smtp.aclose)
    if settings.sms_backend == "twilio":
        assert settings.twilio_account_sid and settings.twilio_auth_token  # Settings checked them
        from orderpulse_notifier.adapters.twilio import TwilioSender

        token = settings.twilio_auth_token.get_secret_value()
        callback = f"{public}{TWILIO_PATH}" if public else None
        twilio = TwilioSender(
            settings.twilio_account_sid,
            token,
            api_base_url=str(settings.twilio_api_url) if settings.twilio_api_url else None,
            status_callback=callback,
            timeout=settings.send_timeout_seconds,
            connections=settings.max_in_flight,
        )
        providers.sms, rates[Channel.SMS] = twilio, settings.twilio_max_send_rate
        providers.closers.append(twilio.aclose)
        if callback:
            providers.twilio_receipts = TwilioReceipts(token, callback)
    if outbox in (providers.email, providers.sms):
        providers.outbox = outbox
    return providers


async def confirm_subscription(url: str) -> None:
    """Confirm an SNS subscription (the URL was checked to be an SNS host)."""

    def fetch() -> None:
        with urllib.request.urlopen(url, timeout=10) as response:
            response.read()

    await asyncio.to_thread(fetch)
