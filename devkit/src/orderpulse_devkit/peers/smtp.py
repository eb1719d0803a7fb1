"""An SMTP server that keeps what it receives and refuses on cue, like a relay having a bad day."""

import asyncio
import logging
import threading
from collections import deque
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from orderpulse_devkit.peers._base import HOST, Peer
from orderpulse_devkit.ports import free_port

Stage = Literal["rcpt", "data"]
RawEmail = tuple[str, tuple[str, ...], bytes]
"""An accepted message unparsed: envelope sender, recipients, the message's bytes."""
_DROP = 0  # a scripted "code" that drops the connection instead of replying
# Replies quote the recipient, as real relays do, so tests can check it never reaches a reason.
_REPLIES = {
    421: "421 4.3.2 Service not available, closing channel",
    450: "450 4.2.1 <{rcpt}>: mailbox busy",
    451: "451 4.3.0 <{rcpt}>: try again later",
    452: "452 4.3.1 Insufficient system storage",
    550: "550 5.1.1 <{rcpt}>: no such user",
    552: "552 5.3.4 Message size exceeds fixed limit",
    554: "554 5.7.1 <{rcpt}>: rejected",
}


@dataclass(frozen=True)
class ReceivedEmail:
    """One accepted message: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


class SmtpCatcher(Peer):
    """aiosmtpd on 127.0.0.1; with `credentials`, MAIL needs AUTH (plain text: a local peer)."""

    def __init__(self, *, latency: float = 0.0, credentials: tuple[str, str] | None = None) -> None:
        self.latency, self.credentials = latency, credentials
        self._lock = threading.Lock()
        self._received: list[RawEmail] = []
        self._messages: list[ReceivedEmail] = []  # the first of `_received`, parsed
        self._failures: deque[tuple[int, Stage]] = deque()
        self._controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    @property
    def messages(self) -> list[ReceivedEmail]:
        """The accepted messages so far, oldest first.

        Each is parsed when first asked for, not while it is received: parsing is most of what
        a message costs the server, and a benchmark's notifier should not wait for it."""
        with self._lock:
            for mail_from, rcpt_tos, raw in self._received[len(self._messages) :]:
                message = message_from_bytes(raw, policy=policy.default)
                self._messages.append(ReceivedEmail(mail_from, rcpt_tos, message))
            return list(self._messages)

    @property
    def raw_messages(self) -> list[RawEmail]:
        """The accepted messages so far, oldest first, unparsed: envelope sender, recipients and
        the message's bytes (with \\n line ends, as a local mailbox stores them)."""
        with self._lock:
            return list(self._received)

    def fail_next(self, code: int, count: int = 1, *, at: Stage = "data") -> None:
        """Reply `code` (e.g. 451, 550) to the next `count` RCPT or DATA commands."""
        with self._lock:
            self._failures.extend([(code, at)] * count)

    def disconnect_next(self, count: int = 1, *, at: Stage = "data") -> None:
        """Drop the connection, without a reply, at the next `count` RCPT or DATA commands."""
        self.fail_next(_DROP, count, at=at)

    def reset(self) -> None:
        """Forget received messages and pending scripted failures."""
        with self._lock:
            self._received.clear()
            self._messages.clear()
            self._failures.clear()

    def start(self) -> Self:
        logging.getLogger("mail.log").addFilter(_quiet_login_data)  # once: filters are a set
        self.port = free_port()
        self._controller = Controller(
            _Hooks(self),
            hostname=HOST,
            port=self.port,
            authenticator=self._authenticate if self.credentials else None,
            auth_require_tls=False,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    # aiosmtpd handler hooks

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.credentials and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if failure := self._failure("rcpt", address, server):
            return failure
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.latency:
            await asyncio.sleep(self.latency)
        if failure := self._failure("data", ",".join(envelope.rcpt_tos), server):
            return failure
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)  # decode_data is off
        raw = raw.replace(b"\r\n", b"\n")  # as a local mailbox stores it
        with self._lock:
            self._received.append((str(envelope.mail_from), tuple(envelope.rcpt_tos), raw))
        return "250 2.0.0 OK: queued"

    def _failure(self, stage: Stage, rcpt: str, server: SMTP) -> str | None:
        with self._lock:
            if not self._failures or self._failures[0][1] != stage:
                return None
            code, _ = self._failures.popleft()
        if code == _DROP and isinstance(server.transport, asyncio.Transport):
            server.transport.abort()  # the reply below goes nowhere
        return _REPLIES.get(code, f"{code} scripted failure").format(rcpt=rcpt)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and self.credentials == (
            data.login.decode(),
            data.password.decode(),
        )
        return AuthResult(success=ok, handled=False)  # aiosmtpd replies 235 or 535


class _Hooks:
    """The catcher's hooks alone, as aiosmtpd's handler: aiosmtpd lists its handler's members
    (`inspect.getmembers`) for every connection it accepts, which on the catcher itself read its
    properties, parsing every message received so far while the client waited."""

    def __init__(self, catcher: SmtpCatcher) -> None:
        self.handle_MAIL = catcher.handle_MAIL
        self.handle_RCPT = catcher.handle_RCPT
        self.handle_DATA = catcher.handle_DATA


def _quiet_login_data(record: logging.LogRecord) -> bool:
    """Drop aiosmtpd's own warning about a deprecated attribute it sets on every AUTH."""
    return "Session.login_data is deprecated" not in record.getMessage()
