"""The returns service's Kafka wiring and storage, on the in-memory broker and SQLite."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from faststream import FastStream, TestApp
from faststream.kafka import TestKafkaBroker
from sqlalchemy.ext.asyncio import create_async_engine

from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings
from orderpulse_returns.store import orders, returns
from orderpulse_schemas import examples


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastStream]:
    app = build_app(settings)
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield app


async def rows(settings: Settings, table: sa.Table) -> list[tuple[object, ...]]:
    engine = create_async_engine(settings.database_url)
    async with engine.connect() as conn:
        result = [tuple(row) for row in (await conn.execute(sa.select(table))).all()]
    await engine.dispose()
    return result


async def test_order_statuses_and_return_steps_are_remembered(
    app: FastStream, settings: Settings
) -> None:
    assert app.broker is not None
    status = examples.load("order-status.v1", "order.status_changed")
    requested = examples.load("returns.v1", "return.requested")
    await app.broker.publish(status, topic=settings.order_status_topic)
    await app.broker.publish(requested, topic=settings.returns_topic)

    [order] = await rows(settings, orders)
    assert order[:3] == ("kvetinac-cz", status["subject"], status["data"]["status"])
    [ret] = await rows(settings, returns)
    assert ret[:4] == (
        "kvetinac-cz",
        requested["data"]["return_id"],
        "ord-10045",
        "return.requested",
    )


async def test_an_invalid_return_event_changes_nothing(app: FastStream, settings: Settings) -> None:
    assert app.broker is not None
    broken = examples.load("returns.v1", "return.requested")
    broken["data"]["items"] = []
    await app.broker.publish(broken, topic=settings.returns_topic)
    assert await rows(settings, returns) == []
