"""Delivery receipts from Twilio and from Amazon SES (through SNS): verified, then reduced.

The HTTP layer hands in the raw request parts and answers from the outcome: `ForgedReceipt` means
the request is not provably from the provider (403), `ValueError` means a genuine request we cannot
read (400), `None` means nothing to record (200). Receipts never carry personal data: SES events
include recipient addresses, so only the message id and a short reason leave this module.

`cryptography`, 7 MiB of the notifier's memory, is imported only by `SnsReceipts`, which only
SES with SNS receipts makes.
"""

import asyncio
import base64
import binascii
import json
import re
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from http.client import HTTPMessage
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import urlsplit

from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey


class ReceiptStatus(StrEnum):
    """Where a message ended up, as far as the provider can tell."""

    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    BOUNCED = "bounced"


@dataclass(frozen=True)
class Receipt:
    """A final delivery outcome for one provider message."""

    provider: str
    provider_message_id: str
    status: ReceiptStatus
    detail: str | None


class ForgedReceipt(Exception):
    """The request cannot be proven to come from the provider, or not for our topics."""


# --- Twilio ---------------------------------------------------------------------------------

_TWILIO_DELIVERED = frozenset({"delivered", "read"})
_TWILIO_UNDELIVERED = frozenset({"undelivered", "failed"})


class TwilioReceipts:
    """Message status callbacks, trusted only when signed with our auth token.

    Twilio signs the URL it called, so `public_url` must be that URL exactly (scheme, host, path
    and query), not what the app sees behind a proxy.
    """

    def __init__(self, auth_token: str, public_url: str) -> None:
        self._validator = RequestValidator(auth_token)
        self._public_url = public_url

    def read(self, form: Mapping[str, str], signature: str | None) -> Receipt | None:
        """The outcome a callback reports; None while the message is still on its way."""
        if not signature:
            raise ForgedReceipt("twilio: no X-Twilio-Signature")
        if not self._validator.validate(self._public_url, form, signature):
            raise ForgedReceipt("twilio: X-Twilio-Signature does not match")
        sid, status = form.get("MessageSid"), form.get("MessageStatus")
        if not sid or not status:
            raise ValueError("twilio: not a message status callback (no MessageSid/MessageStatus)")
        if status in _TWILIO_DELIVERED:
            return Receipt("twilio", sid, ReceiptStatus.DELIVERED, None)
        if status in _TWILIO_UNDELIVERED:
            detail = _twilio_detail(form.get("ErrorCode"))
            return Receipt("twilio", sid, ReceiptStatus.UNDELIVERED, detail)
        return None


def _twilio_detail(error_code: str | None) -> str | None:
    """Twilio's numeric error code: the part of a failure worth keeping, and never personal."""
    if error_code and error_code.isdigit() and len(error_code) <= 10:
        return f"twilio error {error_code}"
    return None


# --- Amazon SNS carrying SES events ---------------------------------------------------------


@dataclass(frozen=True)
class SubscriptionConfirmation:
    """SNS asks to confirm a subscription; the caller decides whether to GET `subscribe_url`."""

    topic_arn: str
    subscribe_url: str


_SNS_HOST = re.compile(r"sns\.[a-z]{2}(-[a-z]+)+-[0-9]+\.amazonaws\.com(\.cn)?")
"""SNS in a region (eu-central-1, us-gov-west-1, cn-north-1): not any `sns.<x>.amazonaws.com`,
which an S3 bucket named `sns` is too (`sns.s3.amazonaws.com`, `sns.s3-website-…`)."""
_CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
# What SNS signs, per message type, in this order; Subject only when the message has one.
_SIGNED_FIELDS: dict[str, tuple[str, ...]] = {
    "Notification": ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"),
    "SubscriptionConfirmation": _CONFIRMATION_FIELDS,
    "UnsubscribeConfirmation": _CONFIRMATION_FIELDS,
}
_OPTIONAL_FIELDS = frozenset({"Subject"})
_SIGNATURE_HASHES = {"1": "SHA1", "2": "SHA256"}
"""SignatureVersion: the name of its hash in `cryptography.hazmat.primitives.hashes`."""
# Event types (eventType, or notificationType without a configuration set) that change nothing.
_SES_IGNORED = frozenset(
    {
        "Send",
        "Open",
        "Click",
        "Complaint",
        "DeliveryDelay",
        "Subscription",
        "AmazonSnsSubscriptionSucceeded",
    }
)
_SES_UNDELIVERED = frozenset({"Reject", "Rendering Failure"})
_CERTIFICATE_TIMEOUT_SECONDS = 5
_CERTIFICATE_MAX_BYTES = 64 * 1024

CertificateFetcher = Callable[[str], Awaitable[bytes]]


class SnsReceipts:
    """SES events delivered by SNS over HTTP/S, trusted only when SNS signed them for our topics.

    Raw message delivery must stay off on the subscription: it drops the signed envelope.
    """

    def __init__(
        self,
        *,
        topic_arns: frozenset[str],
        fetch_certificate: CertificateFetcher | None = None,
    ) -> None:
        self._topic_arns = topic_arns
        self._fetch_certificate = fetch_certificate or _download_certificate
        self._keys: dict[str, RSAPublicKey] = {}

    async def read(self, body: bytes) -> Receipt | SubscriptionConfirmation | None:
        """The outcome an SNS message reports, a subscription to confirm, or None.

        A certificate that cannot be fetched raises OSError: answer 5xx so that SNS retries.
        """
        envelope = _json_object(body, "sns: body")
        await self._verify(envelope)
        kind = envelope["Type"]
        if kind == "SubscriptionConfirmation":
            url = _sns_url(envelope.get("SubscribeURL"), "SubscribeURL", pem=False)
            return SubscriptionConfirmation(envelope["TopicArn"], url)
        if kind == "Notification":
            return _ses_receipt(envelope["Message"])
        return None

    async def _verify(self, envelope: dict[str, Any]) -> None:
        """Fail unless the message is for one of our topics and signed by SNS."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        if _text(envelope, "TopicArn") not in self._topic_arns:
            raise ForgedReceipt("sns: TopicArn is not one of ours")
        name = _SIGNATURE_HASHES.get(_text(envelope, "SignatureVersion"))
        if name is None:
            raise ForgedReceipt("sns: unsupported SignatureVersion")
        url = _sns_url(envelope.get("SigningCertURL"), "SigningCertURL", pem=True)
        signature = _signature(envelope.get("Signature"))
        signed = _string_to_sign(envelope)
        key = await self._public_key(url)
        try:
            algorithm: hashes.HashAlgorithm = getattr(hashes, name)()
            key.verify(signature, signed, padding.PKCS1v15(), algorithm)
        except InvalidSignature:
            raise ForgedReceipt("sns: signature does not match") from None

    async def _public_key(self, url: str) -> "RSAPublicKey":
        """The signing key at `url`, fetched once: SNS signs with few certificates for months."""
        key = self._keys.get(url)
        if key is None:
            key = _rsa_public_key(await self._fetch_certificate(url))
            self._keys[url] = key
        return key


def _json_object(text: str | bytes, what: str) -> dict[str, Any]:
    """A JSON object, or ValueError naming `what` (never quoting it: it may hold addresses)."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise ValueError(f"{what} is not JSON") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _text(envelope: dict[str, Any], field: str) -> str:
    """A string field of the envelope, or "" when it is missing or of another type."""
    value = envelope.get(field)
    return value if isinstance(value, str) else ""


def _sns_url(value: object, field: str, *, pem: bool) -> str:
    """`value` when it is an https URL on an SNS host (and a .pem path if `pem`)."""
    if not isinstance(value, str):
        raise ForgedReceipt(f"sns: no {field}")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise ForgedReceipt(f"sns: {field} is not a URL") from None
    trusted = parts.scheme == "https" and _SNS_HOST.fullmatch(parts.netloc) is not None
    if not trusted or (pem and not parts.path.endswith(".pem")):
        raise ForgedReceipt(f"sns: {field} is not an Amazon SNS URL")
    return value


def _signature(value: object) -> bytes:
    """The decoded Signature field."""
    if not isinstance(value, str) or not value:
        raise ForgedReceipt("sns: no Signature")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ForgedReceipt("sns: Signature is not base64") from None


def _string_to_sign(envelope: dict[str, Any]) -> bytes:
    """The canonical "Key\\nValue\\n" text SNS signs for this message type."""
    fields = _SIGNED_FIELDS.get(_text(envelope, "Type"))
    if fields is None:
        raise ForgedReceipt("sns: unknown message Type")
    text = []
    for field in fields:
        value = envelope.get(field)
        if isinstance(value, str):
            text.append(f"{field}\n{value}\n")
        elif field not in _OPTIONAL_FIELDS:
            raise ForgedReceipt(f"sns: {field} missing, the signature cannot be checked")
    return "".join(text).encode()


def _rsa_public_key(pem: bytes) -> "RSAPublicKey":
    """The RSA key of a PEM certificate; anything else cannot have made an SNS signature."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import rsa

    try:
        key = x509.load_pem_x509_certificate(pem).public_key()
    except ValueError:
        raise ForgedReceipt("sns: signing certificate is not a PEM certificate") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise ForgedReceipt("sns: signing certificate has no RSA key")
    return key


def _ses_receipt(message: str) -> Receipt | None:
    """The outcome an SES event reports; None for events that do not change one."""
    event = _json_object(message, "ses: Notification Message")
    kind = event.get("eventType", event.get("notificationType"))
    if not isinstance(kind, str):
        raise ValueError("ses: event has neither eventType nor notificationType")
    if kind in _SES_IGNORED:
        return None
    message_id = _ses_message_id(event)
    if kind == "Delivery":
        return Receipt("ses", message_id, ReceiptStatus.DELIVERED, None)
    if kind == "Bounce":
        return _ses_bounce(message_id, event.get("bounce"))
    if kind in _SES_UNDELIVERED:
        return Receipt("ses", message_id, ReceiptStatus.UNDELIVERED, kind)
    raise ValueError(f"ses: unknown event type {kind[:40]!r}")


def _ses_message_id(event: dict[str, Any]) -> str:
    """mail.messageId, the id SES returned when it accepted the message."""
    mail = event.get("mail")
    message_id = mail.get("messageId") if isinstance(mail, dict) else None
    if not isinstance(message_id, str) or not message_id:
        raise ValueError("ses: event has no mail.messageId")
    return message_id


def _ses_bounce(message_id: str, bounce: object) -> Receipt | None:
    """BOUNCED for a permanent bounce; transient and undetermined ones may still deliver."""
    if not isinstance(bounce, dict) or not isinstance(bounce.get("bounceType"), str):
        raise ValueError("ses: Bounce event has no bounce.bounceType")
    if bounce["bounceType"] != "Permanent":
        return None
    sub_type = bounce.get("bounceSubType")
    detail = f"Permanent/{sub_type[:40]}" if isinstance(sub_type, str) and sub_type else "Permanent"
    return Receipt("ses", message_id, ReceiptStatus.BOUNCED, detail)


# --- Fetching SNS signing certificates -------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """Only the checked URL is trusted, not wherever it redirects."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirects)


async def _download_certificate(url: str) -> bytes:
    """The PEM at `url` (already checked to be on an SNS host), off the event loop."""
    return await asyncio.to_thread(_download_blocking, url)


def _download_blocking(url: str) -> bytes:
    try:
        with _OPENER.open(url, timeout=_CERTIFICATE_TIMEOUT_SECONDS) as response:
            pem: bytes = response.read(_CERTIFICATE_MAX_BYTES)
    except urllib.error.HTTPError as error:
        error.close()  # it holds the response open
        raise
    return pem
