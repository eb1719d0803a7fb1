"""The receipt routes' door: a body over the cap is refused before it is read whole.

The routes run in a FastStream ASGI app and are called in-process the way uvicorn calls them;
the request body arrives in chunks from an ASGI `receive` that counts how often it was asked.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import pytest
from faststream.asgi import AsgiFastStream
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from orderpulse_notifier import http
from orderpulse_notifier.receipts import (
    Receipt,
    ReceiptStatus,
    SnsReceipts,
    SubscriptionConfirmation,
    TwilioReceipts,
)

TOKEN = "12345678901234567890123456789012"
PUBLIC_URL = "https://notify.orderpulse.example/receipts/twilio"
SID = "SM0123456789abcdef0123456789abcdef"
CHUNK = 16 * 1024
OVERSIZED = b"x" * (4 * http.MAX_RECEIPT_BYTES)


class CountingTwilio(TwilioReceipts):
    """The real Twilio parser, counting the callbacks it was given."""

    def __init__(self) -> None:
        super().__init__(TOKEN, PUBLIC_URL)
        self.forms: list[Mapping[str, str]] = []

    def read(self, form: Mapping[str, str], signature: str | None) -> Receipt | None:
        self.forms.append(form)
        return super().read(form, signature)


class RecordingSns(SnsReceipts):
    """Keeps the bodies it was given and reads none of them."""

    def __init__(self) -> None:
        super().__init__(topic_arns=frozenset())
        self.bodies: list[bytes] = []

    async def read(self, body: bytes) -> Receipt | SubscriptionConfirmation | None:
        self.bodies.append(body)
        return None


class Body:
    """An ASGI `receive` handing out `data` in chunks, counting the chunks it handed out."""

    def __init__(self, data: bytes, chunk: int = CHUNK) -> None:
        self.chunks = [data[i : i + chunk] for i in range(0, len(data), chunk)] or [b""]
        self.handed_out = 0

    async def __call__(self) -> dict[str, Any]:
        if self.handed_out == len(self.chunks):
            return {"type": "http.disconnect"}
        self.handed_out += 1
        more = self.handed_out < len(self.chunks)
        return {"type": "http.request", "body": self.chunks[self.handed_out - 1], "more_body": more}


class Notifier:
    """The receipt routes in an app, with the parsers and the receipts they passed on."""

    def __init__(self) -> None:
        self.twilio, self.sns = CountingTwilio(), RecordingSns()
        self.receipts: list[Receipt] = []
        self.answered: dict[str, str] = {}
        """The headers of the last response."""

        async def on_receipt(receipt: Receipt) -> None:
            self.receipts.append(receipt)

        async def confirm_subscription(url: str) -> None:
            raise AssertionError(f"nothing to confirm: {url}")

        self.app = AsgiFastStream(
            asgi_routes=http.routes(
                on_receipt=on_receipt,
                twilio=self.twilio,
                sns=self.sns,
                confirm_subscription=confirm_subscription,
            ),
            logger=None,
        )

    def parsed(self) -> int:
        """How many bodies reached a parser."""
        return len(self.twilio.forms) + len(self.sns.bodies)

    async def post(self, path: str, body: Body, headers: Mapping[str, str]) -> tuple[int, bytes]:
        """Status code and body of the response to a POST whose body `body` hands out."""
        scope = {
            "type": "http",
            "method": "POST",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        }
        sent: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.app(scope, body, send)  # type: ignore[arg-type]
        start = next(m for m in sent if m["type"] == "http.response.start")
        self.answered = {k.decode(): v.decode() for k, v in start["headers"]}
        content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], content


@pytest.mark.parametrize("path", [http.TWILIO_PATH, http.SES_PATH])
async def test_a_declared_length_over_the_cap_is_refused_before_a_byte_is_read(path: str) -> None:
    notifier, body = Notifier(), Body(OVERSIZED)
    headers = {"Content-Length": str(len(OVERSIZED)), "X-Twilio-Signature": "whatever"}
    assert (await notifier.post(path, body, headers))[0] == 413
    assert body.handed_out == 0
    assert notifier.parsed() == 0
    assert notifier.answered["connection"] == "close"  # the rest of the body is not wanted


@pytest.mark.parametrize("path", [http.TWILIO_PATH, http.SES_PATH])
async def test_a_body_without_length_is_refused_once_it_outgrows_the_cap(path: str) -> None:
    notifier, body = Notifier(), Body(OVERSIZED)
    headers = {"Transfer-Encoding": "chunked", "X-Twilio-Signature": "whatever"}
    assert (await notifier.post(path, body, headers))[0] == 413
    # the cap is 16 chunks: the 17th goes over it, and nothing after it is read
    assert body.handed_out == http.MAX_RECEIPT_BYTES // CHUNK + 1 < len(body.chunks)
    assert notifier.parsed() == 0
    assert notifier.answered["connection"] == "close"


@pytest.mark.parametrize("path", [http.TWILIO_PATH, http.SES_PATH])
async def test_a_body_understating_its_length_is_refused_once_it_outgrows_the_cap(
    path: str,
) -> None:
    notifier, body = Notifier(), Body(OVERSIZED)
    headers = {"Content-Length": "10", "X-Twilio-Signature": "whatever"}
    assert (await notifier.post(path, body, headers))[0] == 413
    assert body.handed_out == http.MAX_RECEIPT_BYTES // CHUNK + 1
    assert notifier.parsed() == 0


async def test_a_signed_twilio_receipt_in_chunks_is_read_whole() -> None:
    form = {"MessageSid": SID, "MessageStatus": "delivered", "Padding": "p" * 3 * CHUNK}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC_URL, form)
    data = urlencode(form).encode()
    notifier = Notifier()
    headers = {"Content-Length": str(len(data)), "X-Twilio-Signature": signature}
    assert await notifier.post(http.TWILIO_PATH, Body(data), headers) == (204, b"")
    assert notifier.twilio.forms == [form]
    assert notifier.receipts == [Receipt("twilio", SID, ReceiptStatus.DELIVERED, None)]


async def test_a_body_of_exactly_the_cap_reaches_the_parser_whole() -> None:
    data = bytes(range(256)) * (http.MAX_RECEIPT_BYTES // 256)
    notifier = Notifier()
    headers = {"Content-Length": str(len(data))}
    assert await notifier.post(http.SES_PATH, Body(data), headers) == (204, b"")
    assert notifier.sns.bodies == [data]


async def test_a_forged_twilio_receipt_is_still_forbidden() -> None:
    form = {"MessageSid": SID, "MessageStatus": "delivered"}
    data = urlencode(form).encode()
    notifier = Notifier()
    headers = {"Content-Length": str(len(data)), "X-Twilio-Signature": "forged"}
    assert (await notifier.post(http.TWILIO_PATH, Body(data), headers))[0] == 403
    assert notifier.receipts == []
