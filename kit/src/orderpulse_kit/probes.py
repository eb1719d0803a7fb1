"""The HTTP endpoints every service has: liveness (`/healthz`: the consumer runs), readiness
(`/readyz`: the database and the broker answer) and Prometheus metrics (`/metrics`)."""

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine

Routes = list[tuple[str, ASGIApp]]


def routes(
    *,
    consuming: Callable[[], bool],
    broker_ping: Callable[[float], Awaitable[bool]],
    engine: AsyncEngine,
) -> Routes:
    """`/healthz`, `/readyz` and `/metrics`."""

    @get(include_in_schema=False)
    async def live(scope: Scope) -> AsgiResponse:
        return AsgiResponse(b"", 204) if consuming() else JSONResponse({"consuming": False}, 503)

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        if failing := await _failing(broker_ping, engine):
            return JSONResponse({"ready": False, "failing": failing}, 503)
        return JSONResponse({"ready": True})

    @get(include_in_schema=False)
    async def prometheus(scope: Scope) -> AsgiResponse:
        return AsgiResponse(generate_latest(REGISTRY), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    return [("/healthz", live), ("/readyz", ready), ("/metrics", prometheus)]


async def _failing(ping: Callable[[float], Awaitable[bool]], engine: AsyncEngine) -> str | None:
    """What does not answer: the database, then the broker; None when both do."""
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))
    except Exception:
        return "database"
    return None if await ping(3.0) else "kafka"
