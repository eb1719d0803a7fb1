"""The notifier's Kafka wiring, on the in-memory broker (real-broker behaviour: tests/e2e)."""

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from faststream import AckPolicy, FastStream, TestApp
from faststream.kafka import TestKafkaBroker
from faststream.kafka.annotations import KafkaMessage
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit import dead_letters
from orderpulse_kit.database import connect
from orderpulse_kit.producer import BrokerProducer
from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings
from orderpulse_notifier.store import deliveries
from orderpulse_schemas import examples

from ..conftest import PETR, SHOPS_FILE, about, erasure, notification

NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)
NIGHT = datetime(2026, 11, 25, 21, 30, tzinfo=UTC)  # 22:30 in Prague: texts wait for 08:00
MORNING = datetime(2026, 11, 26, 7, 0, tzinfo=UTC)  # 08:00 in Prague


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        outbox_dir=tmp_path / "outbox",
        poll_overlap=1,  # the in-memory broker's publish returns when the poll is handled
        shops_file=SHOPS_FILE,
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastStream]:
    app = build_app(settings, now=lambda: NOON, producer=BrokerProducer)  # not in quiet hours
    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield app


def outbox_files(settings: Settings) -> list[str]:
    return sorted(str(p.relative_to(settings.outbox_dir)) for p in settings.outbox_dir.rglob("*.*"))


def chunks(outcomes: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The outcomes of each of the two deliveries of a request (its channels in either order)."""
    assert len(outcomes) == 4
    return [outcomes[:2], outcomes[2:]]


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
    first, again = (sorted(pair, key=lambda o: o["data"]["channel"]) for pair in chunks(outcomes))
    assert [(o["type"], o["data"]["channel"]) for o in first] == [
        ("notification.sent", "email"),
        ("notification.sent", "sms"),
    ]
    assert [o["id"] for o in first] == [o["id"] for o in again]  # told again, the same
    assert [o["data"] for o in first] == [o["data"] for o in again]


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


@pytest.fixture
def two_shops(settings: Settings, tmp_path: Path) -> Settings:
    """The example shop and a copy of it, `kvetinac-sk`; the deferred-text loop at a fast pace."""
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-sk"] = shops["shops"]["kvetinac-cz"]
    shops_file = tmp_path / "shops.yaml"
    shops_file.write_text(yaml.safe_dump(shops), encoding="utf-8")
    return settings.model_copy(update={"shops_file": shops_file, "deferred_interval_seconds": 0.05})


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = connect(settings.database_url.get_secret_value())
    yield engine
    await engine.dispose()


async def test_an_erased_customer_s_waiting_texts_are_never_sent(
    two_shops: Settings, engine: AsyncEngine
) -> None:
    settings, clock = two_shops, [NIGHT]
    app = build_app(settings, engine=engine, now=lambda: clock[0], producer=BrokerProducer)
    petr = notification("order_dispatched")  # ord-10045
    jana = notification("order_dispatched", email="jana@example.cz", phone="+420602987654")
    karel = notification("order_dispatched", email="karel@example.cz", phone="+420603111222")
    requests = [
        petr,
        about(karel, "10046"),  # to be erased by the order id alone
        about(jana, "20001"),
        about(petr, "10045", "kvetinac-sk"),  # the same customer in another shop
    ]
    outcomes: list[dict[str, Any]] = []
    morning_texts = asyncio.Event()

    @app.broker.subscriber(settings.outcomes_topic)  # type: ignore[union-attr]
    async def sink(outcome: dict[str, Any]) -> None:
        outcomes.append(outcome)
        if len(texts("notification.sent")) == 2:
            morning_texts.set()

    async def kept() -> dict[tuple[str, str], tuple[str, str | None, str | None, str | None]]:
        """Each text's status, request and customer columns, by shop and order."""
        async with engine.connect() as conn:
            rows = await conn.execute(sa.select(deliveries).where(deliveries.c.channel == "sms"))
        return {
            (r.shop_id, r.order_id): (
                r.status,
                r.request and "request",
                r.customer_email,
                r.customer_phone,
            )
            for r in rows
        }

    def texts(outcome_type: str) -> list[tuple[str, str, str | None]]:
        return sorted(
            (o["shopid"], o["subject"], o["data"].get("reason"))
            for o in outcomes
            if o["type"] == outcome_type and o["data"]["channel"] == "sms"
        )

    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        for request in requests:
            value = request.model_dump(mode="json")
            await app.broker.publish(value, topic=settings.notifications_topic)  # type: ignore[union-attr]
        assert sorted((await kept()).values()) == [
            ("deferred", "request", "jana@example.cz", "+420602987654"),
            ("deferred", "request", "karel@example.cz", "+420603111222"),
            ("deferred", "request", PETR["email"], PETR["phone"]),
            ("deferred", "request", PETR["email"], PETR["phone"]),
        ]
        by_email = erasure(email=PETR["email"])
        by_order = erasure(order_ids=["ord-10046"])
        for request in (by_email, by_order):
            value = request.model_dump(mode="json")
            await app.broker.publish(value, topic=settings.erasure_topic)  # type: ignore[union-attr]

        assert await kept() == {
            ("kvetinac-cz", "ord-10045"): ("failed", None, None, None),
            ("kvetinac-cz", "ord-10046"): ("failed", None, None, None),
            ("kvetinac-cz", "ord-20001"): (
                "deferred",
                "request",
                "jana@example.cz",
                "+420602987654",
            ),
            ("kvetinac-sk", "ord-10045"): ("deferred", "request", PETR["email"], PETR["phone"]),
        }
        assert texts("notification.failed") == [
            ("kvetinac-cz", "ord-10045", "customer erased"),
            ("kvetinac-cz", "ord-10046", "customer erased"),
        ]
        emails = sorted(
            str(p.parent.relative_to(settings.outbox_dir)).rsplit("/", 1)[0]
            for p in settings.outbox_dir.rglob("email-*.eml")
        )
        # Petr's email in this shop went; the order erased by its id alone is filed by number.
        assert emails == ["kvetinac-cz/10046", "kvetinac-cz/20001", "kvetinac-sk/10045"]
        clock[0] = MORNING
        await asyncio.wait_for(morning_texts.wait(), 10)
        await asyncio.sleep(0.2)  # all four were due at 08:00; a few more rounds of the loop

    assert texts("notification.sent") == [
        ("kvetinac-cz", "ord-20001", None),
        ("kvetinac-sk", "ord-10045", None),
    ]
    sent = sorted(p.name for p in settings.outbox_dir.rglob("sms-*.txt"))
    assert len(sent) == 2


async def test_a_malformed_erasure_request_is_dead_lettered_with_its_reason(
    app: FastStream, settings: Settings
) -> None:
    dead: list[tuple[bytes, dict[str, str]]] = []

    @app.broker.subscriber(f"{settings.erasure_topic}.dlq")  # type: ignore[union-attr]
    async def dlq(message: KafkaMessage) -> None:
        dead.append((message.body, message.headers))

    await app.broker.start()  # type: ignore[union-attr]
    nobody = examples.load("erasure-requests.v1", "customer.erasure_requested")
    nobody["data"] = {}
    await app.broker.publish(json.dumps(nobody).encode(), topic=settings.erasure_topic)  # type: ignore[union-attr]
    await app.broker.publish(b"{not json", topic=settings.erasure_topic)  # type: ignore[union-attr]

    assert [body[:9] for body, _ in dead] == [b'{"specver', b"{not json"]
    reasons = [headers[dead_letters.REASON] for _, headers in dead]
    assert "give an email, a phone or order ids" in reasons[0]
    assert reasons[1].startswith("not valid JSON")
    assert {h[dead_letters.SOURCE_TOPIC] for _, h in dead} == {settings.erasure_topic}
    assert {h[dead_letters.CONSUMER_GROUP] for _, h in dead} == {settings.erasure_group_id}


def test_each_consumer_has_its_group_and_commits_only_after_handling(settings: Settings) -> None:
    """Erasures have a group of their own; an erasure that failed is redelivered, not lost."""
    app = build_app(settings, producer=BrokerProducer)

    assert {
        (subscriber.group_id, topic.name, subscriber.ack_policy)  # type: ignore[attr-defined]
        for subscriber in app.broker.subscribers  # type: ignore[union-attr]
        for topic in subscriber.topics  # type: ignore[attr-defined]
    } == {
        ("notifier", "notifications.v1", AckPolicy.NACK_ON_ERROR),
        ("notifier-erasure", "erasure-requests.v1", AckPolicy.NACK_ON_ERROR),
    }
