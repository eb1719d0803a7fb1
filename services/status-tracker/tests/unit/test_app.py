"""The tracker's Kafka wiring and storage, on the in-memory broker and SQLite."""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from faststream import FastStream, TestApp
from faststream.kafka import TestKafkaBroker

from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app
from orderpulse_status_tracker.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}")


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastStream]:
    app = build_app(settings)
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield app


async def test_an_event_delivered_twice_is_applied_once_and_republished_identically(
    app: FastStream, settings: Settings
) -> None:
    published: list[tuple[str, dict[str, Any]]] = []
    broker = app.broker
    assert broker is not None

    def collect(topic: str) -> None:
        @broker.subscriber(topic)
        async def sink(event: dict[str, Any]) -> None:
            published.append((topic, event))

    collect(settings.order_status_topic)
    collect(settings.notifications_topic)

    await broker.start()
    accepted = examples.load("orders.v1", "order.accepted")
    await broker.publish(accepted, topic=settings.orders_topic, key=b"ord-10045")
    await broker.publish(accepted, topic=settings.orders_topic, key=b"ord-10045")

    assert [topic for topic, _ in published] == [
        settings.order_status_topic,
        settings.notifications_topic,
    ] * 2
    assert published[:2] == published[2:]
    assert published[1][1]["data"]["notice"]["kind"] == "order_accepted"
