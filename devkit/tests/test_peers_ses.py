"""The SES peer's forwarder: transparent to boto3 when nothing is scripted, and a scripted storm
answered as SES v2 answers it, so the notifier's real SES adapter retries it; through the
peers' `--control` too, as the chaos run storms it."""

import io
import json
from collections.abc import AsyncIterator, Iterator
from email import message_from_string, policy
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from orderpulse_devkit.peers import MotoSes
from orderpulse_devkit.peers.__main__ import serve_commands
from orderpulse_devkit.peers.ses import CREDENTIALS
from orderpulse_notifier.adapters.ses import SesSender
from orderpulse_notifier.errors import DeliveryError, RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

SENDER = "noreply@kvetinac.example"


def email(n: int) -> EmailMessage:
    return EmailMessage(
        delivery_id=f"2f1c0a7e-3b8d-4c52-9a61-7d0e5b4f8c13:email:{n}",
        sender=f"Květináč <{SENDER}>",
        to="Petr Novák <petr.novak@example.cz>",
        subject=f"Objednávka č. {10045 + n} – přijata",
        html="<p>Přijata</p>",
        text="Přijata\n",
        label=f"kvetinac-cz/{10045 + n}/order_accepted",
    )


def no_retries(ses: MotoSes) -> "SESV2Client":
    """A client that shows each answer: botocore's own retries would hide a scripted failure."""
    return boto3.client(
        "sesv2",
        endpoint_url=ses.endpoint_url,
        region_name=ses.region,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"total_max_attempts": 1}),
    )


@pytest.fixture(scope="module")
def ses() -> Iterator[MotoSes]:
    with MotoSes() as peer:
        peer.verify("kvetinac.example")
        yield peer


@pytest.fixture
async def sender(ses: MotoSes) -> AsyncIterator[SesSender]:
    ses.reset()
    with pytest.MonkeyPatch.context() as env:
        for name, value in ses.env().items():
            env.setenv(name, value)
        sender = SesSender(ses.region, endpoint_url=ses.endpoint_url)
    yield sender
    await sender.aclose()


def test_the_forwarder_is_transparent_to_boto3(ses: MotoSes) -> None:
    client = ses.client()
    try:
        identities = client.list_email_identities()["EmailIdentities"]
        with pytest.raises(ClientError) as missing:
            client.get_email_identity(EmailIdentity="nobody.example")
    finally:
        client.close()

    assert [i["IdentityName"] for i in identities] == ["kvetinac.example"]
    assert missing.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert missing.value.response["Error"]["Code"] == "NotFoundException"


@pytest.mark.parametrize(
    ("status", "code"), [(429, "TooManyRequestsException"), (503, "ServiceUnavailable")]
)
async def test_a_storm_is_retryable_for_the_ses_adapter_then_passes(
    ses: MotoSes, sender: SesSender, status: int, code: str
) -> None:
    ses.fail_next(status, 2)

    failures = []
    for n in range(2):
        with pytest.raises(DeliveryError) as error:
            await sender.send_email(email(n))
        failures.append(error.value)
    message_id = await sender.send_email(email(2))

    assert [(type(f), str(f)) for f in failures] == [(RetryableDeliveryError, f"ses {code}")] * 2
    assert [s.message_id for s in ses.sent()] == [message_id]  # the refused ones never reached moto


def test_the_429_is_ses_v2s_throttling_answer(ses: MotoSes) -> None:
    ses.fail_next(429)
    client = no_retries(ses)
    try:
        with pytest.raises(ClientError) as error:
            client.send_email(Content={"Raw": {"Data": email(0).raw.data}})
    finally:
        client.close()

    assert error.value.response["Error"] == {
        "Code": "TooManyRequestsException",
        "Message": "Maximum sending rate exceeded.",
    }
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429


def test_only_ses_errors_can_be_scripted(ses: MotoSes) -> None:
    with pytest.raises(ValueError, match="no SES error scripted for 400"):
        ses.fail_next(400)


def test_reset_forgets_a_scripted_storm(ses: MotoSes) -> None:
    ses.fail_next(503, 5)
    ses.reset()
    client = ses.client()
    try:
        client.list_email_identities()
    finally:
        client.close()


async def test_control_storms_ses_and_counts_its_mail(ses: MotoSes, sender: SesSender) -> None:
    message_id = await sender.send_email(email(0))
    commands = io.StringIO("fail ses 429 1\nfail ses 400 1\ncounts\nmessages\n")
    answers = io.StringIO()

    serve_commands(commands, answers, None, None, ses)

    lines = answers.getvalue().splitlines()
    [addresses, storm, refused, counted, messages] = [json.loads(line) for line in lines]
    assert addresses == {"ses": {"endpoint_url": ses.endpoint_url, "region": ses.region}}
    assert storm == {"failing": "ses", "status": 429, "count": 1}
    assert refused == {"error": "no SES error scripted for 400; one of [429, 500, 503]"}
    assert counted == {"ses": 1}
    [sent] = messages["ses"]
    assert sent["message_id"] == message_id
    assert message_from_string(sent["raw"], policy=policy.default)["Subject"] == email(0).subject
    client = no_retries(ses)
    try:
        with pytest.raises(ClientError, match="TooManyRequestsException"):
            client.list_email_identities()
        client.list_email_identities()
    finally:
        client.close()
