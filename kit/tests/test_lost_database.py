"""A service refuses to start on a lost database: one that holds nothing while its consumer group
has committed offsets on a real broker. A service of its own (one table, one migration) is
written for these tests, and run in process and as a process."""

import asyncio
import gc
import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import TestApp

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.ports import free_port
from orderpulse_kit.database import connect
from orderpulse_kit.lost_database import DatabaseLost, DatabaseUnchecked

pytestmark = pytest.mark.kafka

PACKAGE = """
import logging

import sqlalchemy as sa
from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from orderpulse_kit.app import Runtime
from orderpulse_kit.migrations import Migrations
from orderpulse_kit.settings import ServiceSettings

metadata = sa.MetaData()
things = sa.Table("lost_things", metadata, sa.Column("id", sa.Integer, primary_key=True))
MIGRATIONS = Migrations("lost_service", "lost_alembic_version", metadata, head="1057da7aba5e")


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="LOST_")

    group_id: str = "lost-service"
    database_url: SecretStr


def build_app(settings):
    return Runtime(settings, logging.getLogger("lost_service")).app(
        title="lost", migrations=MIGRATIONS
    )
"""
MAIN = """
from lost_service import Settings, build_app
from orderpulse_kit.main import serve

serve(build_app, Settings())
"""
REVISION = '''
"""The one table.

Revision ID: 1057da7aba5e
Revises:
Create Date: 2026-12-03 04:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "1057da7aba5e"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("lost_things", sa.Column("id", sa.Integer, primary_key=True))


def downgrade() -> None:
    op.drop_table("lost_things")
'''


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The package `lost_service`, importable (and runnable with `python -m`)."""
    root = tmp_path_factory.mktemp("lost")
    versions = root / "lost_service" / "migrations" / "versions"
    versions.mkdir(parents=True)
    for package in (versions.parents[1], versions.parent, versions):
        (package / "__init__.py").write_text("")
    (root / "lost_service" / "__init__.py").write_text(PACKAGE)
    (root / "lost_service" / "__main__.py").write_text(MAIN)
    (versions / "1057da7aba5e_the_one_table.py").write_text(REVISION)
    sys.path.insert(0, str(root))
    try:
        import lost_service

        yield lost_service
    finally:
        sys.path.remove(str(root))
        for name in [m for m in sys.modules if m.startswith("lost_service")]:
            del sys.modules[name]


@pytest.fixture
async def topic(kafka: str) -> str:
    name = f"lost-{uuid.uuid4().hex[:8]}"
    await create_topics(kafka, [name], partitions=2)
    return name


@pytest.fixture
def group() -> str:
    return f"lost-service-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'lost.db'}"


def settings(service: ModuleType, kafka: str, group: str, database_url: str, **more: Any) -> Any:
    return service.Settings(
        kafka_bootstrap_servers=kafka, group_id=group, database_url=database_url, **more
    )


async def consumed(kafka: str, group: str, topic: str) -> None:
    """The group has read a record of `topic` and committed past it, as a running service does."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", partition=1)
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 1)])
        await consumer.commit({TopicPartition(topic, 1): 1})
    finally:
        await consumer.stop()


async def tables(database_url: str) -> set[str]:
    engine = connect(database_url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: sa.inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def starts(app: Any) -> None:
    async with TestApp(app):
        pass


@pytest.mark.parametrize("state", ["missing", "migrated but empty"])
async def test_an_empty_database_is_refused_once_the_group_has_consumed(
    service: ModuleType, kafka: str, topic: str, group: str, database_url: str, state: str
) -> None:
    """Missing: a deleted SQLite file. Migrated but empty: what the migrations step (Kubernetes'
    init container) leaves of a lost database before the service starts."""
    await consumed(kafka, group, topic)
    if state == "migrated but empty":
        engine = connect(database_url)
        await service.MIGRATIONS.upgrade(engine)
        await engine.dispose()
    before = await tables(database_url)
    app = service.build_app(settings(service, kafka, group, database_url))

    with pytest.raises(DatabaseLost) as refused:
        await starts(app)

    message = str(refused.value)
    assert f"consumer group {group!r} has committed offsets on 1 partition(s) of {topic}" in message
    assert "restore the database from a backup" in message
    assert "set LOST_ACCEPT_NEW_DATABASE=true for one start" in message
    assert f"kafka-consumer-groups.sh --bootstrap-server <broker> --delete --group {group}" in (
        message
    )
    assert await tables(database_url) == before  # refused before migrating: left as found


async def test_an_empty_database_accepted_deliberately_starts_and_then_without_asking(
    service: ModuleType, kafka: str, topic: str, group: str, database_url: str
) -> None:
    await consumed(kafka, group, topic)
    app = service.build_app(settings(service, kafka, group, database_url, accept_new_database=True))

    await starts(app)

    assert "lost_alembic_version" in await tables(database_url)
    # Unset again: the start that went ahead recorded the group, though nothing was stored.
    await starts(service.build_app(settings(service, kafka, group, database_url)))


async def test_an_empty_database_the_group_started_on_before_starts_without_asking(
    service: ModuleType, kafka: str, topic: str, group: str, database_url: str
) -> None:
    """The returns service consumes and commits, and stores nothing until an order is
    delivered: its restarts must not be refused."""
    await starts(service.build_app(settings(service, kafka, group, database_url)))
    await consumed(kafka, group, topic)

    await starts(service.build_app(settings(service, kafka, group, database_url)))
    engine = connect(database_url)
    try:
        assert await service.MIGRATIONS.started(engine, group)
        assert await service.MIGRATIONS.holds_nothing(engine)
        assert not await service.MIGRATIONS.started(engine, f"{group}-other")
    finally:
        await engine.dispose()
    nowhere = f"127.0.0.1:{free_port()}"
    app = service.build_app(settings(service, nowhere, group, database_url))
    async with app.lifespan_context():  # the broker would not start: only the start-up checks
        pass


async def test_a_new_database_and_a_new_group_start(
    service: ModuleType, kafka: str, group: str, database_url: str
) -> None:
    await starts(service.build_app(settings(service, kafka, group, database_url)))

    assert "lost_alembic_version" in await tables(database_url)


async def test_a_database_with_a_row_starts_without_asking_kafka(
    service: ModuleType, kafka: str, topic: str, group: str, database_url: str
) -> None:
    """A database from before the group's record: the group has consumed, and the database
    holds what came of it. Kafka is not asked (here it is not there)."""
    await consumed(kafka, group, topic)
    engine = connect(database_url)
    await service.MIGRATIONS.upgrade(engine)
    async with engine.begin() as conn:
        await conn.execute(service.things.insert().values(id=1))
    await engine.dispose()

    nowhere = f"127.0.0.1:{free_port()}"
    app = service.build_app(settings(service, nowhere, group, database_url))
    async with app.lifespan_context():  # the broker would not start: only the start-up checks
        pass

    engine = connect(database_url)
    try:
        assert await service.MIGRATIONS.started(engine, group)  # recorded for the next starts
    finally:
        await engine.dispose()


# The broker's producer whose start failed is never closed (the process ends there).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
async def test_an_empty_database_is_refused_while_kafka_does_not_answer(
    service: ModuleType, group: str, database_url: str
) -> None:
    """Its consumer could carry on after the group's offsets once Kafka answers."""
    nowhere = f"127.0.0.1:{free_port()}"
    app = service.build_app(settings(service, nowhere, group, database_url))

    with pytest.raises(DatabaseUnchecked, match="the next start asks again"):
        async with app.lifespan_context():
            pass

    assert "lost_alembic_version" not in await tables(database_url)
    gc.collect()  # that producer's warning here, under this test's filter


async def test_the_refusing_process_exits_with_code_3_and_says_why(
    service: ModuleType, kafka: str, topic: str, group: str, tmp_path: Path
) -> None:
    """As for a database that lacks a migration: uvicorn's start-up failure."""
    await consumed(kafka, group, topic)
    env = {
        "PYTHONPATH": str(Path(service.__file__).parents[1]),
        "LOST_KAFKA_BOOTSTRAP_SERVERS": kafka,
        "LOST_GROUP_ID": group,
        "LOST_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'lost.db'}",
        "LOST_HTTP_HOST": "127.0.0.1",
        "LOST_HTTP_PORT": str(free_port()),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "lost_service",
        env={**os.environ, **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(60):
        out, _ = await process.communicate()

    assert process.returncode == 3, out.decode()
    errors = [line for line in out.decode().splitlines() if '"level": "ERROR"' in line]
    assert any("not starting: the database holds nothing" in line for line in errors), errors
