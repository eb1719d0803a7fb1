"""Email through any SMTP relay (a provider's submission port, or a local catcher in tests)."""

import asyncio
import contextlib
import socket
import time

import aiosmtplib

from orderpulse_notifier.adapters.mime import RawEmail
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
    A connection that fails or is cancelled mid-conversation is closed, never reused (so no
    RSET after a refusal).
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
            await _transfer(client, raw)
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


async def _transfer(client: aiosmtplib.SMTP, raw: RawEmail) -> None:
    """MAIL, RCPT and DATA for one recipient, as `sendmail` says them, but the message made ready
    for DATA by `wire_ready`: aiosmtplib does it with regular expressions, twice when the relay
    takes SIZE, at about 20 µs per KB, a tenth of the notifier's CPU with 100 ms SMTP peers."""
    content, size = wire_ready(raw.data)
    await client.mail(
        raw.sender, options=[f"SIZE={size}"] if client.supports_extension("size") else []
    )
    await client.rcpt(raw.recipient)
    started = await client.execute_command(b"DATA")
    if started.code != aiosmtplib.SMTPStatus.start_input:
        raise aiosmtplib.SMTPDataError(started.code, started.message)
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("the relay went away after DATA")
    protocol.write(content)
    answer = await protocol.read_response(timeout=client.timeout)
    if answer.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(answer.code, answer.message)


def wire_ready(message: bytes) -> tuple[bytes, int]:
    """The message as DATA carries it (RFC 5321 4.5.2): each line ending in CRLF (a lone CR or
    LF made one), a leading dot doubled, then a dot alone; and its size for SIZE (RFC 1870,
    before the dots). In C: byte replaces, not regular expressions."""
    lines = message.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    wire = (lines if lines.endswith(b"\n") else lines + b"\n").replace(b"\n", b"\r\n")
    stuffed = wire.replace(b"\r\n.", b"\r\n..")
    return (b"." if stuffed.startswith(b".") else b"") + stuffed + b".\r\n", len(wire)


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
