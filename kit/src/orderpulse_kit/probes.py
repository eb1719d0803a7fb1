"""The HTTP endpoints every service has: liveness (`/healthz`: the consumer runs), readiness
(`/readyz`: the database answers and can be written, the broker answers) and Prometheus metrics
(`/metrics`).

A database that answers may still be unwritable, and `/readyz` says so (`"failing": "database"`):
- A SQLite file deleted under the running service: its open connections go on reading and
  writing the deleted file (a copy can still be taken from `/proc/<pid>/fd/` until the process
  ends), and a new connection creates an empty file in its place. So the file at the path must be
  the one the service first opened (same device and inode), and still be there.
- A SQLite file, or its file system, made read-only: new connections cannot write. A file without
  any write permission bit counts as read-only even for root, who could write it anyway.
- PostgreSQL refusing writes (`transaction_read_only`: a standby after a failover, or a database
  set `default_transaction_read_only`).
All cheap (a `stat`, one query) and nothing personal in the answer. Liveness stays as it is: a
restart would throw away the deleted file's last copy and would then refuse the start anyway
(`lost_database`).
"""

import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from faststream.asgi import AsgiResponse, get
from faststream.asgi.response import JSONResponse
from faststream.asgi.types import ASGIApp, Scope
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

Routes = list[tuple[str, ASGIApp]]


def routes(
    *,
    consuming: Callable[[], bool],
    broker_ping: Callable[[float], Awaitable[bool]],
    engine: AsyncEngine,
) -> Routes:
    """`/healthz`, `/readyz` and `/metrics`."""
    database = _Database(engine)

    @get(include_in_schema=False)
    async def live(scope: Scope) -> AsgiResponse:
        return AsgiResponse(b"", 204) if consuming() else JSONResponse({"consuming": False}, 503)

    @get(include_in_schema=False)
    async def ready(scope: Scope) -> AsgiResponse:
        if failing := await _failing(broker_ping, database):
            return JSONResponse({"ready": False, "failing": failing}, 503)
        return JSONResponse({"ready": True})

    @get(include_in_schema=False)
    async def prometheus(scope: Scope) -> AsgiResponse:
        return AsgiResponse(generate_latest(REGISTRY), 200, {"Content-Type": CONTENT_TYPE_LATEST})

    return [("/healthz", live), ("/readyz", ready), ("/metrics", prometheus)]


async def _failing(ping: Callable[[float], Awaitable[bool]], database: "_Database") -> str | None:
    """What does not answer: the database (or cannot be written), then the broker; None when
    both do."""
    try:
        writable = await database.writable()
    except Exception:
        writable = False
    if not writable:
        return "database"
    return None if await ping(3.0) else "kafka"


class _Database:
    """Whether the service's database answers and can be written."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        url = engine.url
        file = url.database if url.get_backend_name() == "sqlite" else None
        self.path = Path(file) if file and file != ":memory:" else None
        self.opened: tuple[int, int] | None = None
        """The device and inode of the file the first connection opened."""
        if self.path is not None:
            event.listen(engine.sync_engine, "connect", self._connected)

    async def writable(self) -> bool:
        # The file first, once known: a connection opened while it is gone creates an empty one.
        path = self.path
        if path is not None and self.opened is not None and not self._file_writable(path):
            return False
        async with self.engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                setting = "SELECT current_setting('transaction_read_only')"
                return str(await conn.scalar(sa.text(setting))) == "off"
            await conn.execute(sa.text("SELECT 1"))
        return path is None or self._file_writable(path)

    def _file_writable(self, path: Path) -> bool:
        try:
            status = path.stat()
        except OSError:
            return False  # deleted, or its directory
        if self.opened is None:
            self.opened = (status.st_dev, status.st_ino)
        return (
            (status.st_dev, status.st_ino) == self.opened
            and status.st_mode & 0o222 != 0
            and os.access(path, os.W_OK)
        )

    def _connected(self, *_: Any) -> None:
        if self.opened is None and self.path is not None:
            try:
                status = self.path.stat()
            except OSError:
                return
            self.opened = (status.st_dev, status.st_ino)
