"""Email through any SMTP relay (a provider's submission port, or a local catcher in tests)."""

import aiosmtplib

from orderpulse_notifier.adapters.mime import build_mime
from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import EmailMessage


class SmtpSender:
    """Sends each email over its own SMTP connection (simple; a relay is close and cheap to reach).

    `starttls`: True requires STARTTLS, False never upgrades, None upgrades when offered.
    `use_tls` is for implicit TLS (port 465) instead.
    """

    name = "smtp"

    def __init__(
        self,
        host: str,
        port: int = 587,
        *,
        username: str | None = None,
        password: str | None = None,
        starttls: bool | None = None,
        use_tls: bool = False,
        timeout: float = 30.0,
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password = username, password
        self._starttls, self._use_tls = starttls, use_tls

    async def send_email(self, message: EmailMessage) -> str:
        """Send the email; the provider id is its Message-ID, which the relay keeps."""
        mime = build_mime(message)
        try:
            await aiosmtplib.send(
                mime,
                hostname=self._host,
                port=self._port,
                username=self._username,
                password=self._password,
                start_tls=self._starttls,
                use_tls=self._use_tls,
                timeout=self._timeout,
            )
        except (aiosmtplib.SMTPException, OSError) as error:
            # Replies and refusals quote addresses: only the code goes on.
            raise smtp_error(error) from None
        return str(mime["Message-ID"])


def smtp_error(error: aiosmtplib.SMTPException | OSError) -> DeliveryError:
    """4xx replies, disconnects and timeouts may pass later; 5xx replies will not."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        error = error.recipients[0]  # one recipient per message
    if isinstance(error, aiosmtplib.SMTPResponseException):
        reason = f"smtp {error.code}"
        if 400 <= error.code < 500:
            return RetryableDeliveryError(reason)
        return PermanentDeliveryError(reason)
    if isinstance(error, TimeoutError):
        return RetryableDeliveryError("smtp timed out")
    if isinstance(error, OSError):
        # aiosmtplib's connect and disconnect errors are ConnectionErrors too.
        return RetryableDeliveryError(f"smtp connection failed ({type(error).__name__})")
    # E.g. SMTPNotSupported: STARTTLS or AUTH required but not offered, a setup problem.
    return PermanentDeliveryError(f"smtp {type(error).__name__}")
