"""Delivery receipts: only provider-signed callbacks count, and they reduce to the right outcome.

Twilio callbacks are signed with the twilio library itself; SNS messages are signed with a test
RSA key whose self-signed certificate the injected fetcher serves for an SNS-looking URL.
"""

import base64
import datetime as dt
import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from orderpulse_notifier.receipts import (
    ForgedReceipt,
    Receipt,
    ReceiptStatus,
    SnsReceipts,
    SubscriptionConfirmation,
    TwilioReceipts,
)

# --- Twilio ---------------------------------------------------------------------------------

TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://notify.orderpulse.example/receipts/twilio?shop=alza"
SID = "SM0123456789abcdef0123456789abcdef"


def callback(status: str, **extra: str) -> dict[str, str]:
    """The form of a Twilio message status callback."""
    form = {
        "AccountSid": "AC0123456789abcdef0123456789abcdef",
        "ApiVersion": "2010-04-01",
        "From": "+420777000111",
        "To": "+420608123456",
        "MessageSid": SID,
        "SmsSid": SID,
        "SmsStatus": status,
        "MessageStatus": status,
    }
    return form | extra


def twilio_signature(form: dict[str, str], url: str = PUBLIC_URL, token: str = TOKEN) -> str:
    signature: str = RequestValidator(token).compute_signature(url, form)
    return signature


@pytest.mark.parametrize("status", ["delivered", "read"])
def test_a_signed_delivered_callback_is_a_delivered_receipt(status: str) -> None:
    form = callback(status)
    receipt = TwilioReceipts(TOKEN, PUBLIC_URL).read(form, twilio_signature(form))
    assert receipt == Receipt("twilio", SID, ReceiptStatus.DELIVERED, None)


def test_an_undelivered_callback_keeps_twilios_error_code_only() -> None:
    form = callback("undelivered", ErrorCode="30003")
    receipt = TwilioReceipts(TOKEN, PUBLIC_URL).read(form, twilio_signature(form))
    assert receipt == Receipt("twilio", SID, ReceiptStatus.UNDELIVERED, "twilio error 30003")
    assert "+420" not in repr(receipt)


def test_a_failed_callback_without_error_code_has_no_detail() -> None:
    form = callback("failed")
    receipt = TwilioReceipts(TOKEN, PUBLIC_URL).read(form, twilio_signature(form))
    assert receipt == Receipt("twilio", SID, ReceiptStatus.UNDELIVERED, None)


@pytest.mark.parametrize(
    "status", ["queued", "accepted", "scheduled", "sending", "sent", "partially_delivered"]
)
def test_interim_statuses_need_nothing(status: str) -> None:
    form = callback(status)
    assert TwilioReceipts(TOKEN, PUBLIC_URL).read(form, twilio_signature(form)) is None


def test_the_public_url_counts_not_the_one_behind_the_proxy() -> None:
    form = callback("delivered")
    signature = twilio_signature(form)
    assert TwilioReceipts(TOKEN, PUBLIC_URL).read(form, signature) is not None
    with pytest.raises(ForgedReceipt):
        TwilioReceipts(TOKEN, "http://notifier:8080/receipts/twilio?shop=alza").read(
            form, signature
        )


def test_a_tampered_parameter_is_forged() -> None:
    form = callback("undelivered", ErrorCode="30003")
    signature = twilio_signature(form)
    with pytest.raises(ForgedReceipt):
        TwilioReceipts(TOKEN, PUBLIC_URL).read(form | {"MessageStatus": "delivered"}, signature)


def test_a_signature_made_with_another_token_is_forged() -> None:
    form = callback("delivered")
    signature = twilio_signature(form, token="0" * 32)
    with pytest.raises(ForgedReceipt):
        TwilioReceipts(TOKEN, PUBLIC_URL).read(form, signature)


@pytest.mark.parametrize("signature", [None, ""])
def test_a_missing_signature_is_forged(signature: str | None) -> None:
    with pytest.raises(ForgedReceipt):
        TwilioReceipts(TOKEN, PUBLIC_URL).read(callback("delivered"), signature)


def test_a_signed_request_that_is_not_a_status_callback_is_unreadable() -> None:
    form = {"AccountSid": "AC0123456789abcdef0123456789abcdef", "Body": "hello"}
    with pytest.raises(ValueError, match="MessageStatus"):
        TwilioReceipts(TOKEN, PUBLIC_URL).read(form, twilio_signature(form))


# --- SNS: signing helpers -------------------------------------------------------------------

TOPIC = "arn:aws:sns:eu-central-1:123456789012:orderpulse-ses-events"
CERT_URL = (
    "https://sns.eu-central-1.amazonaws.com/"
    "SimpleNotificationService-6209c161c6221fdf56ec1eb5c821d112.pem"
)
SES_ID = "0107018f1a2b3c4d-5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9-000000"
RECIPIENT = "jana.novakova@example.cz"


@pytest.fixture(scope="module")
def sns_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def sns_certificate(sns_key: rsa.RSAPrivateKey) -> bytes:
    """A self-signed certificate standing in for the one SNS publishes."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(sns_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(sns_key, hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


class CertificateServer:
    """Serves the test certificate and remembers which URLs were fetched."""

    def __init__(self, pem: bytes) -> None:
        self.pem = pem
        self.fetched: list[str] = []

    async def __call__(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.pem


@pytest.fixture
def certificates(sns_certificate: bytes) -> CertificateServer:
    return CertificateServer(sns_certificate)


@pytest.fixture
def sns(certificates: CertificateServer) -> SnsReceipts:
    return SnsReceipts(topic_arns=frozenset({TOPIC}), fetch_certificate=certificates)


def string_to_sign(message: dict[str, str]) -> bytes:
    """Written out from the AWS docs, independently of the code under test."""
    if message["Type"] == "Notification":
        keys = ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    else:
        keys = ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
    return "".join(f"{key}\n{message[key]}\n" for key in keys if key in message).encode()


def signed(key: rsa.RSAPrivateKey, message: dict[str, str], version: str = "1") -> bytes:
    """The body SNS would POST: `message` with SignatureVersion, Signature and SigningCertURL."""
    algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
    signature = key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
    return json.dumps(
        message
        | {
            "SignatureVersion": version,
            "Signature": base64.b64encode(signature).decode(),
            "SigningCertURL": CERT_URL,
        }
    ).encode()


def notification(event: dict[str, Any], **fields: str) -> dict[str, str]:
    message = {
        "Type": "Notification",
        "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": TOPIC,
        "Message": json.dumps(event),
        "Timestamp": "2026-05-12T08:41:03.016Z",
        "UnsubscribeURL": (
            "https://sns.eu-central-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn="
            f"{TOPIC}:7a2e6f1c-1d5b-4f8e-9c3a-2b4d6e8f0a1c"
        ),
    }
    return message | fields


def confirmation(kind: str = "SubscriptionConfirmation", **fields: str) -> dict[str, str]:
    message = {
        "Type": kind,
        "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "2336412f37fb687f5d51e6e2425f004aed3f5d2e3a",
        "TopicArn": TOPIC,
        "Message": f"You have chosen to subscribe to the topic {TOPIC}.",
        "SubscribeURL": (
            "https://sns.eu-central-1.amazonaws.com/?Action=ConfirmSubscription"
            f"&TopicArn={TOPIC}&Token=2336412f37fb687f5d51e6e2425f004aed3f5d2e3a"
        ),
        "Timestamp": "2026-05-12T08:40:00.000Z",
    }
    return message | fields


# --- SES events, shaped like AWS's examples of what SES publishes to SNS -------------------


def mail() -> dict[str, Any]:
    return {
        "timestamp": "2026-05-12T08:40:58.012Z",
        "source": "Alza.cz <objednavky@alza.example>",
        "sourceArn": "arn:aws:ses:eu-central-1:123456789012:identity/alza.example",
        "sendingAccountId": "123456789012",
        "messageId": SES_ID,
        "destination": [RECIPIENT],
        "headersTruncated": False,
        "headers": [
            {"name": "From", "value": "Alza.cz <objednavky@alza.example>"},
            {"name": "To", "value": RECIPIENT},
            {"name": "Subject", "value": "Vaše objednávka je na cestě"},
        ],
        "commonHeaders": {
            "from": ["Alza.cz <objednavky@alza.example>"],
            "to": [RECIPIENT],
            "messageId": SES_ID,
            "subject": "Vaše objednávka je na cestě",
        },
        "tags": {
            "ses:configuration-set": ["orderpulse"],
            "ses:source-ip": ["192.0.2.0"],
            "ses:from-domain": ["alza.example"],
            "ses:caller-identity": ["orderpulse-notifier"],
        },
    }


def delivery_event(type_field: str = "eventType") -> dict[str, Any]:
    return {
        type_field: "Delivery",
        "mail": mail(),
        "delivery": {
            "timestamp": "2026-05-12T08:41:01.912Z",
            "processingTimeMillis": 3900,
            "recipients": [RECIPIENT],
            "smtpResponse": "250 2.6.0 Message received",
            "reportingMTA": "a8-70.smtp-out.amazonses.com",
        },
    }


def bounce_event(bounce_type: str, sub_type: str) -> dict[str, Any]:
    return {
        "eventType": "Bounce",
        "mail": mail(),
        "bounce": {
            "bounceType": bounce_type,
            "bounceSubType": sub_type,
            "bouncedRecipients": [
                {
                    "emailAddress": RECIPIENT,
                    "action": "failed",
                    "status": "5.1.1",
                    "diagnosticCode": f"smtp; 550 5.1.1 <{RECIPIENT}>: user unknown",
                }
            ],
            "timestamp": "2026-05-12T08:41:02.669Z",
            "feedbackId": "0107018f1a2b3c4d-61b59c11-9236-11e6-8f96-7be8aexample-000000",
            "reportingMTA": "dsn; mx.example.cz",
        },
    }


def other_event(event_type: str) -> dict[str, Any]:
    """Events with their own payloads; only eventType and mail matter here."""
    payloads: dict[str, dict[str, Any]] = {
        "Reject": {"reject": {"reason": "Bad content"}},
        "Rendering Failure": {
            "failure": {
                "errorMessage": "Attribute 'orderNumber' is not present in the rendering data.",
                "templateName": "shipped_cs",
            }
        },
        "Complaint": {
            "complaint": {
                "complainedRecipients": [{"emailAddress": RECIPIENT}],
                "timestamp": "2026-05-12T09:00:00.000Z",
                "feedbackId": "0107018f1a2b3c4d-example-000000",
                "complaintFeedbackType": "abuse",
            }
        },
        "Send": {"send": {}},
        "Open": {"open": {"ipAddress": "192.0.2.1", "timestamp": "2026-05-12T09:00:00.000Z"}},
        "Click": {"click": {"link": "https://alza.example/track/10045"}},
        "DeliveryDelay": {
            "deliveryDelay": {
                "delayType": "TransientCommunicationFailure",
                "delayedRecipients": [{"emailAddress": RECIPIENT, "status": "4.4.1"}],
            }
        },
    }
    return {"eventType": event_type, "mail": mail()} | payloads[event_type]


# --- SNS: what a verified message means ----------------------------------------------------


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_signed_delivery_is_a_delivered_receipt(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, version: str
) -> None:
    body = signed(sns_key, notification(delivery_event()), version)
    assert await sns.read(body) == Receipt("ses", SES_ID, ReceiptStatus.DELIVERED, None)


@pytest.mark.parametrize("version", ["1", "2"])
async def test_a_permanent_bounce_is_bounced_without_the_address(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, version: str
) -> None:
    body = signed(sns_key, notification(bounce_event("Permanent", "General")), version)
    receipt = await sns.read(body)
    assert receipt == Receipt("ses", SES_ID, ReceiptStatus.BOUNCED, "Permanent/General")
    assert RECIPIENT not in repr(receipt)


@pytest.mark.parametrize(
    ("bounce_type", "sub_type"),
    [("Transient", "MailboxFull"), ("Undetermined", "Undetermined")],
)
async def test_a_bounce_that_may_still_deliver_needs_nothing(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, bounce_type: str, sub_type: str
) -> None:
    body = signed(sns_key, notification(bounce_event(bounce_type, sub_type)))
    assert await sns.read(body) is None


@pytest.mark.parametrize("event_type", ["Reject", "Rendering Failure"])
async def test_a_message_ses_never_sent_is_undelivered(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, event_type: str
) -> None:
    body = signed(sns_key, notification(other_event(event_type)))
    assert await sns.read(body) == Receipt("ses", SES_ID, ReceiptStatus.UNDELIVERED, event_type)


@pytest.mark.parametrize("event_type", ["Complaint", "Send", "Open", "Click", "DeliveryDelay"])
async def test_events_that_do_not_settle_delivery_need_nothing(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, event_type: str
) -> None:
    assert await sns.read(signed(sns_key, notification(other_event(event_type)))) is None


async def test_older_ses_notifications_without_a_configuration_set_are_read(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    body = signed(sns_key, notification(delivery_event("notificationType")))
    assert await sns.read(body) == Receipt("ses", SES_ID, ReceiptStatus.DELIVERED, None)


async def test_a_subject_is_part_of_what_is_signed(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    message = notification(delivery_event(), Subject="Amazon SES Email Event Notification")
    assert await sns.read(signed(sns_key, message)) is not None
    tampered = json.loads(signed(sns_key, message)) | {"Subject": "something else"}
    with pytest.raises(ForgedReceipt):
        await sns.read(json.dumps(tampered).encode())


async def test_a_verified_subscription_confirmation_is_returned_for_the_caller(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    message = confirmation()
    assert await sns.read(signed(sns_key, message, "2")) == SubscriptionConfirmation(
        TOPIC, message["SubscribeURL"]
    )


async def test_a_subscribe_url_off_sns_is_forged_even_when_signed(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    message = confirmation(SubscribeURL="https://sns.eu-central-1.amazonaws.com.evil.example/")
    with pytest.raises(ForgedReceipt, match="SubscribeURL"):
        await sns.read(signed(sns_key, message))


async def test_an_unsubscribe_confirmation_needs_nothing(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    assert await sns.read(signed(sns_key, confirmation("UnsubscribeConfirmation"))) is None


# --- SNS: what is not trusted ---------------------------------------------------------------


async def test_a_tampered_message_is_forged(sns: SnsReceipts, sns_key: rsa.RSAPrivateKey) -> None:
    envelope = json.loads(signed(sns_key, notification(bounce_event("Transient", "General"))))
    envelope["Message"] = json.dumps(bounce_event("Permanent", "General"))
    with pytest.raises(ForgedReceipt):
        await sns.read(json.dumps(envelope).encode())


async def test_a_message_signed_by_another_key_is_forged(sns: SnsReceipts) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ForgedReceipt):
        await sns.read(signed(other_key, notification(delivery_event()), "2"))


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-central-1.amazonaws.com.evil.example/SimpleNotificationService-abc.pem",
        "https://sns.eu-central-1.amazonaws.com@evil.example/SimpleNotificationService-abc.pem",
        "https://sns.eu-central-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
        "https://evil.example/sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://s3.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.s3.amazonaws.com/SimpleNotificationService-abc.pem",  # a bucket named sns
        "https://sns.s3-website-us-east-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.s3.eu-central-1.amazonaws.com/SimpleNotificationService-abc.pem",
        "https://sns.eu-central-1.amazonaws.com/SimpleNotificationService-abc.txt",
        "https://sns.eu-central-1.amazonaws.com/?cert=SimpleNotificationService-abc.pem",
    ],
)
async def test_an_untrusted_certificate_url_is_forged_and_never_fetched(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, certificates: CertificateServer, url: str
) -> None:
    envelope = json.loads(signed(sns_key, notification(delivery_event())))
    envelope["SigningCertURL"] = url
    with pytest.raises(ForgedReceipt, match="SigningCertURL"):
        await sns.read(json.dumps(envelope).encode())
    assert certificates.fetched == []


@pytest.mark.parametrize(
    "region", ["sns.cn-north-1.amazonaws.com.cn", "sns.us-gov-west-1.amazonaws.com"]
)
async def test_a_china_or_govcloud_region_certificate_url_is_trusted(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, certificates: CertificateServer, region: str
) -> None:
    url = f"https://{region}/SimpleNotificationService-abc.pem"
    envelope = json.loads(signed(sns_key, notification(delivery_event())))
    envelope["SigningCertURL"] = url
    assert await sns.read(json.dumps(envelope).encode()) is not None
    assert certificates.fetched == [url]


async def test_a_message_from_another_topic_is_forged_even_when_signed(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    message = notification(delivery_event(), TopicArn="arn:aws:sns:eu-central-1:999:theirs")
    with pytest.raises(ForgedReceipt, match="TopicArn"):
        await sns.read(signed(sns_key, message))


@pytest.mark.parametrize("version", ["3", "", None])
async def test_an_unsupported_signature_version_is_forged(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, version: str | None
) -> None:
    envelope = json.loads(signed(sns_key, notification(delivery_event())))
    envelope["SignatureVersion"] = version
    with pytest.raises(ForgedReceipt, match="SignatureVersion"):
        await sns.read(json.dumps(envelope).encode())


@pytest.mark.parametrize("signature", [None, "", "not base64!"])
async def test_a_missing_or_garbled_signature_is_forged(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, signature: str | None
) -> None:
    envelope = json.loads(signed(sns_key, notification(delivery_event())))
    envelope["Signature"] = signature
    with pytest.raises(ForgedReceipt, match="Signature"):
        await sns.read(json.dumps(envelope).encode())


async def test_a_certificate_that_is_not_one_is_forged(sns_key: rsa.RSAPrivateKey) -> None:
    sns = SnsReceipts(topic_arns=frozenset({TOPIC}), fetch_certificate=CertificateServer(b"<h1>"))
    with pytest.raises(ForgedReceipt, match="certificate"):
        await sns.read(signed(sns_key, notification(delivery_event())))


async def test_the_certificate_is_fetched_once_for_many_messages(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, certificates: CertificateServer
) -> None:
    await sns.read(signed(sns_key, notification(delivery_event())))
    await sns.read(signed(sns_key, notification(bounce_event("Permanent", "General")), "2"))
    assert certificates.fetched == [CERT_URL]


# --- SNS: genuine but unreadable -----------------------------------------------------------


@pytest.mark.parametrize("body", [b"Action=Publish&Message=hi", b"\xff\xfe", b"[" * 100_000])
async def test_a_body_that_is_not_json_is_unreadable(sns: SnsReceipts, body: bytes) -> None:
    with pytest.raises(ValueError, match="not JSON"):
        await sns.read(body)


@pytest.mark.parametrize("body", [delivery_event(), {"Type": "Notification", "TopicArn": {}}])
async def test_a_body_that_is_not_an_sns_message_is_unverifiable(
    sns: SnsReceipts, body: dict[str, Any]
) -> None:
    with pytest.raises(ForgedReceipt):
        await sns.read(json.dumps(body).encode())


async def test_a_notification_that_is_not_an_ses_event_is_unreadable_without_quoting_it(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey
) -> None:
    message = notification({}) | {"Message": f"bounce for {RECIPIENT}"}
    with pytest.raises(ValueError, match="not JSON") as raised:
        await sns.read(signed(sns_key, message))
    assert RECIPIENT not in str(raised.value)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"mail": {"messageId": SES_ID}}, "eventType"),
        ({"eventType": "Delivery", "mail": {"destination": [RECIPIENT]}}, "messageId"),
        ({"eventType": "Bounce", "mail": {"messageId": SES_ID}}, "bounceType"),
        ({"eventType": "Received", "mail": {"messageId": SES_ID}}, "unknown event type"),
    ],
)
async def test_an_ses_event_missing_what_we_need_is_unreadable(
    sns: SnsReceipts, sns_key: rsa.RSAPrivateKey, event: dict[str, Any], reason: str
) -> None:
    with pytest.raises(ValueError, match=reason) as raised:
        await sns.read(signed(sns_key, notification(event)))
    assert RECIPIENT not in str(raised.value)
