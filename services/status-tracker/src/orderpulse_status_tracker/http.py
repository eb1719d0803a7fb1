"""The tracker's own HTTP endpoint (beside the kit's probes and metrics): the support timeline.

The timeline holds what the customer was told, so it needs `Authorization: Bearer <token>` with
the token from `TRACKER_SUPPORT_TOKEN`; without a configured token it is closed to everyone.
"""

import hmac
from typing import Any
from urllib.parse import parse_qs

from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from pydantic import SecretStr

from orderpulse_status_tracker.timeline import Timeline


def routes(*, timeline: Timeline, token: SecretStr | None) -> list[tuple[str, ASGIApp]]:
    """`/timeline`: one order's states and what the customer was told."""

    @get(include_in_schema=False)
    async def order_timeline(scope: Scope) -> AsgiResponse:
        if not _authorized(scope, token):
            return JSONResponse(
                {"error": "a valid bearer token is required"}, 401, {"WWW-Authenticate": "Bearer"}
            )
        query = parse_qs(scope.get("query_string", b"").decode())
        shop, order = query.get("shop", [""])[0], query.get("order", [""])[0]
        if not shop or not order:
            return JSONResponse({"error": "give ?shop=<shop id>&order=<order id>"}, 400)
        found: dict[str, Any] | None = await timeline.of(shop, order)
        if found is None:
            return JSONResponse({"error": "no such order"}, 404)
        return JSONResponse(found, headers={"Cache-Control": "no-store"})

    return [("/timeline", order_timeline)]


def _authorized(scope: Scope, token: SecretStr | None) -> bool:
    if token is None or not token.get_secret_value():
        return False
    headers = dict(scope.get("headers", []))
    given = headers.get(b"authorization", b"").decode(errors="replace")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())
