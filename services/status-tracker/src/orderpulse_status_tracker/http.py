"""The tracker's own HTTP endpoint (beside the kit's probes and metrics): the support timeline.

The timeline holds what the customer was told, so it needs `Authorization: Bearer <token>`. A
shop's support staff use their shop's token from `TRACKER_SUPPORT_TOKENS` (shop id -> token) and
see only that shop's orders; the operator's `TRACKER_SUPPORT_TOKEN` sees every shop. A wrong token,
or another shop's, gets the same 401 whether the order exists or not. Without a configured token
the timeline is closed to everyone.
"""

import hmac
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from pydantic import SecretStr

from orderpulse_status_tracker.timeline import Timeline


def routes(
    *,
    timeline: Timeline,
    token: SecretStr | None,
    shop_tokens: Mapping[str, SecretStr] | None = None,
) -> list[tuple[str, ASGIApp]]:
    """`/timeline`: one order's states and what the customer was told.

    `token` opens every shop's orders; `shop_tokens[shop]` opens only that shop's.
    """
    per_shop = dict(shop_tokens or {})

    @get(include_in_schema=False)
    async def order_timeline(scope: Scope) -> AsgiResponse:
        given = _bearer(scope)
        if not _matches_any(given, [token, *per_shop.values()]):
            return _unauthorized()
        query = parse_qs(scope.get("query_string", b"").decode())
        shop, order = query.get("shop", [""])[0], query.get("order", [""])[0]
        if not shop or not order:
            return JSONResponse({"error": "give ?shop=<shop id>&order=<order id>"}, 400)
        if not _matches_any(given, [token, per_shop.get(shop)]):
            return _unauthorized()  # another shop's token: the same answer as a wrong one
        found: dict[str, Any] | None = await timeline.of(shop, order)
        if found is None:
            return JSONResponse({"error": "no such order"}, 404)
        return JSONResponse(found, headers={"Cache-Control": "no-store"})

    return [("/timeline", order_timeline)]


def _unauthorized() -> AsgiResponse:
    return JSONResponse(
        {"error": "a valid bearer token is required"}, 401, {"WWW-Authenticate": "Bearer"}
    )


def _bearer(scope: Scope) -> bytes:
    """The `Authorization` header as sent (empty when absent)."""
    headers = dict(scope.get("headers", []))
    value: bytes = headers.get(b"authorization", b"")
    return value


def _matches_any(given: bytes, tokens: list[SecretStr | None]) -> bool:
    """Whether `given` is `Bearer <one of tokens>`, each compared in constant time, none skipped;
    unset and empty tokens match nothing."""
    matched = False
    for token in tokens:
        if token is None or not token.get_secret_value():
            continue
        expected = f"Bearer {token.get_secret_value()}".encode()
        matched |= hmac.compare_digest(given, expected)
    return matched
