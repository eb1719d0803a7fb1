"""Session-wide real infrastructure for every test tier: one Kafka broker, one PostgreSQL server.

Both start once per test session and are never faked or skipped: without Docker, Kafka runs from
Apache Kafka's Maven Central jars and PostgreSQL from Debian's server binaries (see devkit).
"""

from collections.abc import AsyncIterator

import pytest

from orderpulse_devkit.kafka import kafka_bootstrap
from orderpulse_devkit.postgres import new_database, postgres_url


@pytest.fixture(scope="session")
async def kafka(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """Bootstrap address of a real broker."""
    async with kafka_bootstrap(tmp_path_factory.mktemp("kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
async def postgres_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    """URL of a real PostgreSQL server's database."""
    async with postgres_url(tmp_path_factory.mktemp("postgres")) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    return new_database(request.getfixturevalue("postgres_server"))
