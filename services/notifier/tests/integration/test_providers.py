"""Each provider adapter against a real server speaking its protocol (devkit's local peers).

What matters most: which failures are retryable, which are permanent, and that no reason
quotes the customer's address or number (reasons are logged and published).
"""

import asyncio
import dataclasses
import os
import socket
import time
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage as MimeMessage
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    NoCredentialsError,
    ReadTimeoutError,
)

from orderpulse_devkit.peers import (
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    MotoSes,
    SmtpCatcher,
    TwilioFake,
)
from orderpulse_devkit.ports import free_port
from orderpulse_notifier.adapters.ses import SesSender, ses_error
from orderpulse_notifier.adapters.smtp import SmtpSender
from orderpulse_notifier.adapters.twilio import TwilioSender
from orderpulse_notifier.errors import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
)
from orderpulse_notifier.messages import EmailMessage, InlineImage, SmsMessage

CZECH = "Příliš žluťoučký kůň úpěl ďábelské ódy"
ADDRESS = "petr.novak@example.cz"
NUMBER = "+420601123456"
SENDER = "noreply@kvetinac.example"
CALLBACK = "https://notifier.example/twilio/status"
QR = InlineImage(cid="qr-return", content=b"\x89PNG\r\n\x1a\n fake", mime_type="image/png")
SMTP_LOGIN = ("notifier", "s3cret")


def email(*, sender: str = SENDER, images: tuple[InlineImage, ...] = ()) -> EmailMessage:
    return EmailMessage(
        delivery_id="2f1c0a7e-3b8d-4c52-9a61-7d0e5b4f8c13:email",
        sender=f"Květináč <{sender}>",
        to=f"Petr Novák <{ADDRESS}>",
        subject=f"Objednávka č. 10045 – {CZECH}",
        html=f'<p>{CZECH}</p><img src="cid:{QR.cid}">',
        text=f"{CZECH}\n",
        label="kvetinac-cz/10045/order_accepted",
        images=images,
    )


def sms(to: str = NUMBER) -> SmsMessage:
    return SmsMessage(
        delivery_id="2f1c0a7e-3b8d-4c52-9a61-7d0e5b4f8c13:sms",
        sender="Kvetinac",
        to=to,
        body="Objednávka č. 10045 je na cestě.",
        encoding="UCS-2",
        segments=1,
        label="kvetinac-cz/10045/order_dispatched",
    )


def assert_failure(
    error: pytest.ExceptionInfo[DeliveryError], kind: type[DeliveryError], reason: str
) -> None:
    assert type(error.value) is kind
    assert str(error.value) == reason
    assert ADDRESS not in str(error.value) and NUMBER not in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


def assert_is_the_email(received: MimeMessage, *, with_image: bool) -> None:
    """The peer got exactly what the notifier rendered: subject, both alternatives, the image."""
    assert received["Subject"] == f"Objednávka č. 10045 – {CZECH}"
    assert received["To"] == f"Petr Novák <{ADDRESS}>"
    plain, html = received.get_body(("plain",)), received.get_body(("html",))
    assert plain is not None and plain.get_content() == f"{CZECH}\n"
    assert html is not None and html.get_content() == f'<p>{CZECH}</p><img src="cid:qr-return">\n'
    images = [p for p in received.walk() if p.get_content_maintype() == "image"]
    if not with_image:
        assert images == []
        return
    [image] = images
    assert image["Content-ID"] == "<qr-return>"
    assert isinstance(image, MimeMessage) and image.get_content() == QR.content


# --- Twilio --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def twilio_peer() -> Iterator[TwilioFake]:
    with TwilioFake() as peer:
        yield peer


@pytest.fixture
def twilio(twilio_peer: TwilioFake) -> TwilioFake:
    twilio_peer.reset()
    return twilio_peer


@pytest.fixture(scope="module")
async def twilio_sender(twilio_peer: TwilioFake) -> AsyncIterator[TwilioSender]:
    sender = TwilioSender(
        TEST_ACCOUNT_SID,
        TEST_AUTH_TOKEN,
        api_base_url=twilio_peer.url,
        status_callback=CALLBACK,
        timeout=5,
    )
    yield sender
    await sender.aclose()


async def test_twilio_sends_the_sms_from_the_sender_id_with_a_status_callback(
    twilio: TwilioFake, twilio_sender: TwilioSender
) -> None:
    sid = await twilio_sender.send_sms(sms())

    assert sid.startswith("SM") and len(sid) == 34
    assert twilio.messages == [
        {
            "To": NUMBER,
            "From": "Kvetinac",
            "Body": "Objednávka č. 10045 je na cestě.",
            "StatusCallback": CALLBACK,
            "Sid": sid,
        }
    ]


async def test_twilio_requests_overlap(twilio: TwilioFake, twilio_sender: TwilioSender) -> None:
    twilio.latency = 0.3
    started = time.monotonic()
    try:
        sids = await asyncio.gather(*(twilio_sender.send_sms(sms()) for _ in range(10)))
    finally:
        twilio.latency = 0.0

    assert time.monotonic() - started < 1.5  # ten in a row would take 3 s
    assert sorted(m["Sid"] for m in twilio.messages) == sorted(sids)


async def test_twilio_keeps_as_many_texts_under_way_as_it_has_connections(
    twilio: TwilioFake,
) -> None:
    async def six_texts(connections: int) -> float:
        sender = TwilioSender(
            TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base_url=twilio.url, connections=connections
        )
        started = time.monotonic()
        try:
            await asyncio.gather(*(sender.send_sms(sms()) for _ in range(6)))
        finally:
            await sender.aclose()
        return time.monotonic() - started

    twilio.latency = 0.4
    try:
        by_two, by_six = await six_texts(2), await six_texts(6)
    finally:
        twilio.latency = 0.0

    assert by_two >= 1.2  # three waves of two
    assert by_six < 1.0  # one wave
    assert len(twilio.messages) == 12


@pytest.mark.parametrize(
    ("status", "code", "kind", "reason"),
    [
        (429, None, RetryableDeliveryError, "twilio 429 (code 20429)"),
        (503, None, RetryableDeliveryError, "twilio 503 (code 20503)"),
        (500, None, RetryableDeliveryError, "twilio 500 (code 20500)"),
        (400, 21610, PermanentDeliveryError, "twilio 400 (code 21610)"),  # unsubscribed
        (400, 21408, PermanentDeliveryError, "twilio 400 (code 21408)"),  # region not enabled
        (400, 21611, RetryableDeliveryError, "twilio 400 (code 21611)"),  # sender queue full
    ],
)
async def test_twilio_failures_map_to_retryable_or_permanent(
    twilio: TwilioFake,
    twilio_sender: TwilioSender,
    status: int,
    code: int | None,
    kind: type[DeliveryError],
    reason: str,
) -> None:
    twilio.fail_next(status, code=code)

    with pytest.raises(DeliveryError) as error:
        await twilio_sender.send_sms(sms())

    assert_failure(error, kind, reason)
    assert twilio.messages == []
    await twilio_sender.send_sms(sms())  # the failure was for one request only
    assert len(twilio.messages) == 1


@pytest.mark.parametrize(
    ("status", "kind", "reason"),
    [
        (502, RetryableDeliveryError, "twilio 502"),  # a proxy's error page
        (201, PermanentDeliveryError, "twilio 201 without a message sid"),  # maybe sent: no retry
    ],
)
async def test_twilio_answers_that_are_no_json_are_failures_by_their_status(
    twilio: TwilioFake,
    twilio_sender: TwilioSender,
    status: int,
    kind: type[DeliveryError],
    reason: str,
) -> None:
    twilio.answer_next(status, "<html><body>Bad gateway</body></html>")
    with pytest.raises(DeliveryError) as error:
        await twilio_sender.send_sms(sms())

    assert_failure(error, kind, reason)
    assert await twilio_sender.send_sms(sms())  # the next request is answered as Twilio does


async def test_twilio_rejects_a_number_that_is_not_e164(
    twilio: TwilioFake, twilio_sender: TwilioSender
) -> None:
    with pytest.raises(DeliveryError) as error:
        await twilio_sender.send_sms(sms(to=NUMBER.removeprefix("+")))

    assert_failure(error, PermanentDeliveryError, "twilio 400 (code 21211)")
    assert NUMBER.removeprefix("+") not in str(error.value)


async def test_twilio_with_a_wrong_token_is_permanent(twilio: TwilioFake) -> None:
    sender = TwilioSender(TEST_ACCOUNT_SID, "wrong", api_base_url=twilio.url)
    try:
        with pytest.raises(DeliveryError) as error:
            await sender.send_sms(sms())
    finally:
        await sender.aclose()

    assert_failure(error, PermanentDeliveryError, "twilio 401 (code 20003)")


async def test_twilio_unreachable_or_slow_is_retryable() -> None:
    refused = TwilioSender(TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base_url=_closed_url())
    with TwilioFake(latency=2) as slow:
        timing_out = TwilioSender(
            TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, api_base_url=slow.url, timeout=0.2
        )
        try:
            with pytest.raises(DeliveryError) as no_server:
                await refused.send_sms(sms())
            with pytest.raises(DeliveryError) as too_slow:
                await timing_out.send_sms(sms())
        finally:
            await refused.aclose()
            await timing_out.aclose()

    assert_failure(
        no_server, RetryableDeliveryError, "twilio connection failed (ClientConnectorError)"
    )
    assert_failure(too_slow, RetryableDeliveryError, "twilio timed out")


# --- SMTP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def smtp_peer() -> Iterator[SmtpCatcher]:
    with SmtpCatcher(credentials=SMTP_LOGIN) as peer:
        yield peer


@pytest.fixture
def smtp(smtp_peer: SmtpCatcher) -> SmtpCatcher:
    smtp_peer.reset()
    return smtp_peer


class SmtpSenders:
    """Makes senders for a test and closes them after it (each keeps its connections open)."""

    def __init__(self) -> None:
        self.made: list[SmtpSender] = []

    def __call__(
        self,
        port: int,
        *,
        password: str = SMTP_LOGIN[1],
        timeout: float = 5,
        idle_seconds: float = 5,
    ) -> SmtpSender:
        sender = SmtpSender(
            "127.0.0.1",
            port,
            username=SMTP_LOGIN[0],
            password=password,
            starttls=False,
            timeout=timeout,
            idle_seconds=idle_seconds,
        )
        self.made.append(sender)
        return sender


@pytest.fixture
async def smtp_sender() -> AsyncIterator[SmtpSenders]:
    senders = SmtpSenders()
    yield senders
    for sender in senders.made:
        await sender.aclose()


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[aiosmtplib.SMTP]:
    """Every SMTP connection opened during the test."""
    opened: list[aiosmtplib.SMTP] = []
    connect = aiosmtplib.SMTP.connect

    async def counted(client: aiosmtplib.SMTP, **options: Any) -> aiosmtplib.SMTPResponse:
        opened.append(client)
        return await connect(client, **options)

    monkeypatch.setattr(aiosmtplib.SMTP, "connect", counted)
    return opened


@pytest.mark.parametrize("with_image", [False, True])
async def test_smtp_delivers_the_message_and_returns_its_message_id(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, with_image: bool
) -> None:
    images = (QR,) if with_image else ()

    message_id = await smtp_sender(smtp.port).send_email(email(images=images))

    [received] = smtp.messages
    assert received.mail_from == SENDER and received.rcpt_tos == (ADDRESS,)
    assert received.message["Message-ID"] == message_id
    assert_is_the_email(received.message, with_image=with_image)


async def test_smtp_keeps_the_lines_that_begin_with_a_dot(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders
) -> None:
    """DATA ends at a line holding a dot alone: the sender doubles a leading dot, the relay
    takes it off again."""
    text = ".\n..\n.Příliš\nžluťoučký .\n"

    await smtp_sender(smtp.port).send_email(dataclasses.replace(email(), text=text))

    [received] = smtp.messages
    plain = received.message.get_body(("plain",))
    assert plain is not None and plain.get_content() == text


@pytest.mark.parametrize(
    ("code", "at", "kind"),
    [
        (451, "rcpt", RetryableDeliveryError),
        (451, "data", RetryableDeliveryError),
        (452, "data", RetryableDeliveryError),
        (421, "data", RetryableDeliveryError),
        (550, "rcpt", PermanentDeliveryError),
        (550, "data", PermanentDeliveryError),
        (554, "data", PermanentDeliveryError),
    ],
)
async def test_smtp_4xx_is_retryable_and_5xx_permanent(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, code: int, at: str, kind: type[DeliveryError]
) -> None:
    smtp.fail_next(code, at=at)  # type: ignore[arg-type]

    with pytest.raises(DeliveryError) as error:
        await smtp_sender(smtp.port).send_email(email())

    assert_failure(error, kind, f"smtp {code}")
    assert smtp.messages == []


@pytest.mark.parametrize("at", ["rcpt", "data"])
async def test_smtp_disconnects_are_retryable(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, at: str
) -> None:
    smtp.disconnect_next(at=at)  # type: ignore[arg-type]

    with pytest.raises(DeliveryError) as error:
        await smtp_sender(smtp.port).send_email(email())

    assert_failure(error, RetryableDeliveryError, "smtp connection failed (SMTPServerDisconnected)")


async def test_smtp_with_a_wrong_password_is_permanent(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders
) -> None:
    with pytest.raises(DeliveryError) as error:
        await smtp_sender(smtp.port, password="wrong").send_email(email())

    assert_failure(error, PermanentDeliveryError, "smtp 535")


async def test_smtp_unreachable_or_slow_is_retryable(smtp_sender: SmtpSenders) -> None:
    with pytest.raises(DeliveryError) as refused:
        await smtp_sender(free_port()).send_email(email())
    with (
        SmtpCatcher(latency=2, credentials=SMTP_LOGIN) as slow,
        pytest.raises(DeliveryError) as too_slow,
    ):
        await smtp_sender(slow.port, timeout=0.2).send_email(email())

    assert_failure(refused, RetryableDeliveryError, "smtp connection failed (SMTPConnectError)")
    assert_failure(too_slow, RetryableDeliveryError, "smtp timed out")


async def test_smtp_connections_are_kept_for_the_next_emails(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, connects: list[aiosmtplib.SMTP]
) -> None:
    sender = smtp_sender(smtp.port)

    await asyncio.gather(*(sender.send_email(email()) for _ in range(3)))  # three at once
    for _ in range(6):
        await sender.send_email(email())

    assert len(smtp.messages) == 9
    assert len(connects) == 3
    await sender.aclose()
    assert not any(client.is_connected for client in connects)


async def test_smtp_connections_do_not_each_look_this_host_s_name_up(
    smtp: SmtpCatcher,
    smtp_sender: SmtpSenders,
    connects: list[aiosmtplib.SMTP],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """aiosmtplib looks it up for every connection in a thread: a burst of them filled the
    default executor's threads (and their memory). The sender looks it up once."""
    own_lookups: list[aiosmtplib.SMTP] = []

    async def looked_up(client: aiosmtplib.SMTP) -> str:
        own_lookups.append(client)
        return "per-connection.example"

    monkeypatch.setattr(aiosmtplib.SMTP, "_get_default_local_hostname", looked_up)
    monkeypatch.setattr(socket, "getfqdn", lambda name="": "notifier.example")
    sender = smtp_sender(smtp.port)

    await asyncio.gather(*(sender.send_email(email()) for _ in range(5)))

    assert len(connects) == 5 and len(smtp.messages) == 5
    assert own_lookups == []
    assert {client.local_hostname for client in connects} == {"notifier.example"}


async def test_smtp_a_broken_connection_is_dropped_and_the_next_send_opens_one(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, connects: list[aiosmtplib.SMTP]
) -> None:
    sender = smtp_sender(smtp.port)
    await sender.send_email(email())
    smtp.disconnect_next(at="rcpt")

    with pytest.raises(DeliveryError) as error:
        await sender.send_email(email())  # on the kept connection
    await sender.send_email(email())

    assert_failure(error, RetryableDeliveryError, "smtp connection failed (SMTPServerDisconnected)")
    assert len(smtp.messages) == 2 and len(connects) == 2


async def test_smtp_a_refused_or_cancelled_send_does_not_leave_its_connection_for_others(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, connects: list[aiosmtplib.SMTP]
) -> None:
    sender = smtp_sender(smtp.port)
    smtp.fail_next(550, at="rcpt")
    with pytest.raises(PermanentDeliveryError):
        await sender.send_email(email())
    smtp.latency = 1
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):  # as the notifier bounds each attempt
                await sender.send_email(email())
    finally:
        smtp.latency = 0

    await sender.send_email(email())

    assert len(connects) == 3
    assert [client.is_connected for client in connects] == [False, False, True]


async def test_smtp_an_idle_connection_is_not_kept_past_its_time(
    smtp: SmtpCatcher, smtp_sender: SmtpSenders, connects: list[aiosmtplib.SMTP]
) -> None:
    sender = smtp_sender(smtp.port, idle_seconds=0.1)

    await sender.send_email(email())
    await asyncio.sleep(0.15)
    await sender.send_email(email())

    assert len(connects) == 2 and not connects[0].is_connected


# --- SES -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ses_peer() -> Iterator[MotoSes]:
    with MotoSes() as peer:
        peer.verify("kvetinac.example")
        yield peer


@pytest.fixture(scope="module")
async def ses_sender(ses_peer: MotoSes) -> AsyncIterator[SesSender]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in ses_peer.env().items():
            env.setenv(name, value)
        sender = SesSender(
            ses_peer.region, endpoint_url=ses_peer.endpoint_url, configuration_set="receipts"
        )
    yield sender
    await sender.aclose()


@pytest.mark.parametrize("with_image", [False, True])
async def test_ses_sends_the_raw_mime(
    ses_peer: MotoSes, ses_sender: SesSender, with_image: bool
) -> None:
    images = (QR,) if with_image else ()

    message_id = await ses_sender.send_email(email(images=images))

    [sent] = [s for s in ses_peer.sent() if s.message_id == message_id]
    assert any(ADDRESS in d for d in sent.destinations)
    assert sent.message["Message-ID"] == email().raw.message_id  # the bytes SMTP would send
    # moto keeps the CRLF line ends of the raw bytes; a mailbox stores local ones (as the SMTP
    # catcher does): a text part's content then ends in "\n", not "\r\n".
    stored = message_from_bytes(sent.message.as_bytes(), policy=policy.default)
    assert isinstance(stored, MimeMessage)
    assert_is_the_email(stored, with_image=with_image)


async def test_ses_rejects_an_unverified_sender(ses_peer: MotoSes, ses_sender: SesSender) -> None:
    with pytest.raises(DeliveryError) as error:
        await ses_sender.send_email(email(sender="noreply@unverified.example"))

    assert_failure(error, PermanentDeliveryError, "ses MessageRejected")
    assert "unverified.example" not in str(error.value)


async def test_ses_unreachable_is_retryable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    sender = SesSender("eu-central-1", endpoint_url=_closed_url())
    try:
        with pytest.raises(DeliveryError) as error:
            await sender.send_email(email())
    finally:
        await sender.aclose()

    assert_failure(error, RetryableDeliveryError, "ses connection failed (EndpointConnectionError)")


def test_ses_without_credentials_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    for name in [n for n in os.environ if n.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance role to wait for

    with pytest.raises(ValueError, match="SES needs AWS credentials"):
        SesSender("eu-central-1")


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("TooManyRequestsException", 429, RetryableDeliveryError),
        ("Throttling", 400, RetryableDeliveryError),
        ("LimitExceededException", 400, RetryableDeliveryError),  # daily quota
        ("SendingPausedException", 400, RetryableDeliveryError),
        ("InternalFailure", 500, RetryableDeliveryError),
        ("ServiceUnavailable", 503, RetryableDeliveryError),
        ("MessageRejected", 400, PermanentDeliveryError),
        ("MailFromDomainNotVerifiedException", 400, PermanentDeliveryError),
        ("AccountSuspendedException", 400, PermanentDeliveryError),
        ("NotFoundException", 404, PermanentDeliveryError),  # no such configuration set
    ],
)
def test_ses_error_codes_map_to_retryable_or_permanent(
    code: str, status: int, kind: type[DeliveryError]
) -> None:
    """moto cannot be made to throttle, so these go through the mapping SesSender uses."""
    response = {
        "Error": {"Code": code, "Message": f"Email address is not verified: {ADDRESS}"},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }
    error = ses_error(ClientError(response, "SendEmail"))  # type: ignore[arg-type]

    assert type(error) is kind
    assert str(error) == f"ses {code}"


@pytest.mark.parametrize(
    ("error", "kind", "reason"),
    [
        (ReadTimeoutError(endpoint_url="https://x"), RetryableDeliveryError, "ses timed out"),
        (
            ConnectionClosedError(endpoint_url="https://x"),
            RetryableDeliveryError,
            "ses connection failed (ConnectionClosedError)",
        ),
        (NoCredentialsError(), PermanentDeliveryError, "ses NoCredentialsError"),
    ],
)
def test_ses_transport_errors_map_to_retryable_or_permanent(
    error: BotoCoreError, kind: type[DeliveryError], reason: str
) -> None:
    mapped = ses_error(error)

    assert type(mapped) is kind and str(mapped) == reason


def _closed_url() -> str:
    """A local address where nothing listens: connections are refused at once."""
    return f"http://127.0.0.1:{free_port()}"
