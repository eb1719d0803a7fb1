"""The SQL engine: SQLite under a data directory by default, PostgreSQL in production."""

from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def connect(url: str) -> AsyncEngine:
    """An engine for `url`; a SQLite file's directory is created so first runs just work."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return create_async_engine(url, pool_pre_ping=True)
