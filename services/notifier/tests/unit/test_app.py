"""The notifier's Kafka wiring, on the in-memory broker (real-broker behaviour: tests/e2e)."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from faststream import FastStream, TestApp
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage

from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings
from orderpulse_schemas import dead_letters, examples

from ..conftest import SHOPS_FILE

NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        outbox_dir=tmp_path / "outbox",
        shops_file=SHOPS_FILE,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastStream]:
    app = build_app(settings, now=lambda: NOON)  # outside the shop's quiet hours
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield app


def outbox_files(settings: Settings) -> list[str]:
    return sorted(str(p.relative_to(settings.outbox_dir)) for p in settings.outbox_dir.rglob("*.*"))


async def test_a_request_becomes_one_email_one_sms_and_two_outcomes(
    app: FastStream, settings: Settings
) -> None:
    outcomes: list[dict[str, Any]] = []

    @app.broker.subscriber(settings.outcomes_topic)  # type: ignore[union-attr]
    async def sink(outcome: dict[str, Any]) -> None:
        outcomes.append(outcome)

    await app.broker.start()  # type: ignore[union-attr]
    request = examples.load("notifications.v1", "notification.requested.order_dispatched")
    await app.broker.publish(request, topic=settings.notifications_topic)  # type: ignore[union-attr]
    await app.broker.publish(request, topic=settings.notifications_topic)  # type: ignore[union-attr]

    files = outbox_files(settings)
    assert [f.rsplit("/", 1)[0] for f in files] == ["kvetinac-cz/10045/order_dispatched"] * 3
    assert sorted(f.rsplit(".", 1)[1] for f in files) == ["eml", "html", "txt"]
    assert [(o["type"], o["data"]["channel"]) for o in outcomes] == [
        ("notification.sent", "email"),
        ("notification.sent", "sms"),
    ] * 2
    assert [o["id"] for o in outcomes[:2]] == [o["id"] for o in outcomes[2:]]
    assert [o["data"] for o in outcomes[:2]] == [o["data"] for o in outcomes[2:]]


async def test_a_malformed_request_is_dead_lettered_with_its_reason(
    app: FastStream, settings: Settings
) -> None:
    dead: list[tuple[bytes, dict[str, str]]] = []

    @app.broker.subscriber(f"{settings.notifications_topic}.dlq")  # type: ignore[union-attr]
    async def dlq(message: KafkaMessage) -> None:
        dead.append((message.body, message.headers))

    await app.broker.start()  # type: ignore[union-attr]
    request = examples.load("notifications.v1", "notification.requested.order_accepted")
    del request["data"]["customer"]["locale"]
    await app.broker.publish(json.dumps(request).encode(), topic=settings.notifications_topic)  # type: ignore[union-attr]
    await app.broker.publish(b"{not json", topic=settings.notifications_topic)  # type: ignore[union-attr]

    assert [body[:9] for body, _ in dead] == [b'{"specver', b"{not json"]
    reasons = [headers[dead_letters.REASON] for _, headers in dead]
    assert "data.customer.locale: Field required" in reasons[0]
    assert reasons[1].startswith("not valid JSON")
    assert dead[0][1][dead_letters.SOURCE_TOPIC] == settings.notifications_topic
    assert outbox_files(settings) == []
