"""HTTP endpoints: liveness (the consumer runs), readiness (broker and database answer),
Prometheus metrics, and the support timeline.

The timeline holds what the customer was told, so it needs `Authorization: Bearer <token>` with
the token from `TRACKER_SUPPORT_TOKEN`; without a configured token it is closed to everyone.
"""

import hmac
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

import sqlalchemy as sa
from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_status_tracker.timeline import Timeline


def routes(
    *,
    consuming: Callable[[], bool],
    broker_ping: Callable[[float], Awaitable[bool]],
    engine: AsyncEngine,
    timeline: Timeline,
    token: SecretStr | None,
) -> list[tuple[str, ASGIApp]]:
    """The tracker's HTTP routes."""

    @get(include_in_schema=False)
    async def live(scope: Scope) -> AsgiResponse:
        return AsgiResponse(b"", 204) if consuming() else JSONResponse({"consuming": False}, 503)

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception:
            return JSONResponse({"ready": False, "failing": "database"}, 503)
        if not await broker_ping(3.0):
            return JSONResponse({"ready": False, "failing": "kafka"}, 503)
        return JSONResponse({"ready": True})

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

    @get(include_in_schema=False)
    async def prometheus(scope: Scope) -> AsgiResponse:
        return AsgiResponse(generate_latest(REGISTRY), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    return [
        ("/healthz", live),
        ("/readyz", ready),
        ("/metrics", prometheus),
        ("/timeline", order_timeline),
    ]


def _authorized(scope: Scope, token: SecretStr | None) -> bool:
    if token is None or not token.get_secret_value():
        return False
    headers = dict(scope.get("headers", []))
    given = headers.get(b"authorization", b"").decode(errors="replace")
    expected = f"Bearer {token.get_secret_value()}"
    return hmac.compare_digest(given.encode(), expected.encode())
