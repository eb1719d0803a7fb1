"""Email through any SMTP relay (a provider's submission port, or a local catcher in tests)."""

import asyncio
import contextlib
import socket
import time

import aiosmtplib

from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import EmailMessage


class SmtpSender:
    """Sends each email's prebuilt bytes, keeping connections open between sends.

    A connection per email cost twice the client CPU (connect, EHLO, AUTH and QUIT every time).
    Each send takes an idle connection or opens one, so sends overlap as before; up to
    `max_idle` connections are kept for `idle_seconds` (relays close idle ones sooner or later).
    A connection that fails or is cancelled mid-conversation is closed, never reused.
    The name said in EHLO (this host's, `socket.getfqdn`) is looked up once, not by every new
    connection in a thread of its own.

    `starttls`: True requires STARTTLS, False never upgrades, None upgrades when offered.
    `use_tls` is for implicit TLS (port 465) instead.
    """

    name = "smtp"
    reads_html = False

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
        max_idle: int = 100,
        idle_seconds: float = 5.0,
    ) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._username, self._password = username, password
        self._starttls, self._use_tls = starttls, use_tls
        self._max_idle, self._idle_seconds = max_idle, idle_seconds
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # and when each was last used
        self._closed = False
        self._fqdn: asyncio.Task[str] | None = None

    async def send_email(self, message: EmailMessage) -> str:
        """Send the email; the provider id is its Message-ID, which the relay keeps."""
        raw = message.raw
        client = self._reusable() or self._client(await self._local_hostname())
        try:
            if not client.is_connected:
                await client.connect()
            await client.sendmail(raw.sender, [raw.recipient], raw.data)
        except (aiosmtplib.SMTPException, OSError) as error:
            client.close()
            # Replies and refusals quote addresses: only the code goes on.
            raise smtp_error(error) from None
        except BaseException:  # cancelled: where the conversation stands is unknown
            client.close()
            raise
        self._release(client)
        return raw.message_id

    async def aclose(self) -> None:
        """Say QUIT on the idle connections; sends still in flight close theirs when done."""
        self._closed = True
        idle, self._idle = self._idle, []
        await asyncio.gather(*(_quit(client) for client, _ in idle))

    def _local_hostname(self) -> "asyncio.Future[str]":
        if self._fqdn is None:
            self._fqdn = asyncio.ensure_future(asyncio.to_thread(socket.getfqdn))
        return asyncio.shield(self._fqdn)  # a send cancelled while waiting leaves it looking

    def _client(self, local_hostname: str) -> aiosmtplib.SMTP:
        return aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            local_hostname=local_hostname,
            username=self._username,
            password=self._password,
            start_tls=self._starttls,
            use_tls=self._use_tls,
            timeout=self._timeout,
        )

    def _reusable(self) -> aiosmtplib.SMTP | None:
        """The most recently used idle connection, if the relay has not closed it meanwhile."""
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and time.monotonic() - since < self._idle_seconds:
                return client
            client.close()
        return None

    def _release(self, client: aiosmtplib.SMTP) -> None:
        """Keep the connection for the next send, and close the oldest past its idle time."""
        now = time.monotonic()
        while self._idle and now - self._idle[0][1] >= self._idle_seconds:
            self._idle.pop(0)[0].close()
        if self._closed or len(self._idle) >= self._max_idle:
            client.close()
        else:
            self._idle.append((client, now))


async def _quit(client: aiosmtplib.SMTP) -> None:
    """QUIT politely, but not waiting long on a relay that does not answer."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await client.quit(timeout=1)
    client.close()


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
