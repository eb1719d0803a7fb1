"""The carriers' webhooks, beside the kit's probes: `POST /webhooks/inpost`.

ShipX signs nothing; its documentation names the range its webhooks come from, so a webhook from
any other TCP peer gets 403 and changes nothing (the socket's address: a forwarded header is the
sender's to forge). A body that is not what ShipX documents gets 400 with the reason, never the
body quoted back. The answer is 200 only once the reports' events are acknowledged by Kafka and
the parcels saved: ShipX retries anything else, and a retry repeats only events (same ids) that
consumers drop. Anyone can call the route, so a body over `MAX_BODY_BYTES` gets 413 unread.
"""

import logging
from collections.abc import Awaitable, Callable, Sequence

from faststream.asgi import AsgiResponse
from faststream.asgi.request import AsgiRequest
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Receive, Scope, Send

from orderpulse_couriers.carriers import inpost
from orderpulse_couriers.reports import Report, UnreadablePayload
from orderpulse_couriers.service import Heard

log = logging.getLogger(__name__)

INPOST_PATH = "/webhooks/inpost"
MAX_BODY_BYTES = 64 * 1024
"""A ShipX webhook is a few hundred bytes."""


def routes(
    *, hear: Callable[[Sequence[Report]], Awaitable[Heard]], trust_any_sender: bool
) -> list[tuple[str, ASGIApp]]:
    """The webhook routes; `trust_any_sender` takes InPost's from any address (local runs)."""

    async def inpost_webhook(scope: Scope, receive: Receive, send: Send) -> None:
        answer = await _inpost(scope, receive, send)
        await answer(scope, receive, send)

    async def _inpost(scope: Scope, receive: Receive, send: Send) -> AsgiResponse:
        if scope.get("method") != "POST":
            return AsgiResponse(b"method not allowed", 405, {"Allow": "POST"})
        peer = (scope.get("client") or ("",))[0]
        if not trust_any_sender and not inpost.sent_from_inpost(peer):
            log.warning("refused an InPost webhook from outside ShipX's range")
            return AsgiResponse(b"forbidden", 403)
        body = await _capped_body(AsgiRequest(scope, receive, send))
        if body is None:
            return AsgiResponse(b"too large", 413, {"Connection": "close"})
        try:
            reports = inpost.read(body)
        except UnreadablePayload as error:
            return JSONResponse({"error": str(error)}, 400)
        heard = await hear(reports)
        return JSONResponse({"published": heard.published, "unfollowed": heard.unfollowed}, 200)

    return [(INPOST_PATH, inpost_webhook)]


async def _capped_body(request: AsgiRequest) -> bytes | None:
    """The body, or None once it is longer than `MAX_BODY_BYTES` (a declared length is not
    trusted, and nothing past the chunk that goes over is read)."""
    try:
        declared = int(request.headers.get("content-length", ""))
    except ValueError:
        declared = 0
    if declared > MAX_BODY_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            return None
    return bytes(body)
