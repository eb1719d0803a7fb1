"""HTTP endpoints: liveness (the consumer runs), readiness (broker and database answer) and
Prometheus metrics."""

from collections.abc import Awaitable, Callable

import sqlalchemy as sa
from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy.ext.asyncio import AsyncEngine


def routes(
    *,
    consuming: Callable[[], bool],
    broker_ping: Callable[[float], Awaitable[bool]],
    engine: AsyncEngine,
) -> list[tuple[str, ASGIApp]]:
    """The returns service's HTTP routes."""

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
    async def prometheus(scope: Scope) -> AsgiResponse:
        return AsgiResponse(generate_latest(REGISTRY), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    return [("/healthz", live), ("/readyz", ready), ("/metrics", prometheus)]
