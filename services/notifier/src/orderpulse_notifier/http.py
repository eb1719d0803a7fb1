"""HTTP endpoints beside the kit's probes: the providers' delivery receipts.

Receipts are accepted only with a valid signature: Twilio's `X-Twilio-Signature`, or an Amazon
SNS message signature. A forged one gets 403 and changes nothing. Anyone can call these routes,
so a body longer than `MAX_RECEIPT_BYTES` gets 413 as soon as that shows, never read whole.
"""

import logging
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from faststream.asgi import AsgiResponse, Request, post
from faststream.asgi.request import AsgiRequest
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp

from orderpulse_notifier.receipts import (
    ForgedReceipt,
    Receipt,
    SnsReceipts,
    SubscriptionConfirmation,
    TwilioReceipts,
)

log = logging.getLogger(__name__)

MAX_RECEIPT_BYTES = 256 * 1024
TWILIO_PATH, SES_PATH = "/receipts/twilio", "/receipts/ses"
# Close the connection too: the rest of the body is not worth receiving.
TOO_LARGE = AsgiResponse(b"too large", 413, {"Connection": "close"})


async def capped_body(request: AsgiRequest) -> bytes | None:
    """The request's body, or None once it is longer than `MAX_RECEIPT_BYTES`.

    A declared `Content-Length` over the cap is refused before anything is read; otherwise the
    body is read chunk by chunk and no further than the chunk that goes over the cap (chunked
    bodies have no length, and a declared one is not trusted to be true).
    """
    try:
        declared = int(request.headers.get("content-length", ""))
    except ValueError:
        declared = 0
    if declared > MAX_RECEIPT_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_RECEIPT_BYTES:
            return None
    return bytes(body)


def routes(
    *,
    on_receipt: Callable[[Receipt], Awaitable[None]],
    twilio: TwilioReceipts | None,
    sns: SnsReceipts | None,
    confirm_subscription: Callable[[str], Awaitable[None]],
) -> list[tuple[str, ASGIApp]]:
    """The receipt routes of the providers in use."""
    found: list[tuple[str, ASGIApp]] = []

    if twilio is not None:

        @post(include_in_schema=False)
        async def twilio_status(request: Request) -> AsgiResponse:
            body = await capped_body(request)
            if body is None:
                return TOO_LARGE
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
            try:
                receipt = twilio.read(form, request.headers.get("x-twilio-signature"))
            except ForgedReceipt as error:
                log.warning("rejected a Twilio receipt: %s", error)
                return AsgiResponse(b"forbidden", 403)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, 400)
            if receipt is not None:
                await on_receipt(receipt)
            return AsgiResponse(b"", 204)

        found.append((TWILIO_PATH, twilio_status))

    if sns is not None:

        @post(include_in_schema=False)
        async def ses_events(request: Request) -> AsgiResponse:
            body = await capped_body(request)
            if body is None:
                return TOO_LARGE
            try:
                result = await sns.read(body)
            except ForgedReceipt as error:
                log.warning("rejected an SNS message: %s", error)
                return AsgiResponse(b"forbidden", 403)
            except ValueError as error:
                return JSONResponse({"error": str(error)}, 400)
            if isinstance(result, SubscriptionConfirmation):
                await confirm_subscription(result.subscribe_url)
                log.info("confirmed the SNS subscription to %s", result.topic_arn)
            elif result is not None:
                await on_receipt(result)
            return AsgiResponse(b"", 204)

        found.append((SES_PATH, ses_events))

    return found
