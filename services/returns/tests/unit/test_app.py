"""The returns service's Kafka wiring, on the in-memory broker and SQLite."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from faststream import FastStream, TestApp
from faststream.kafka import KafkaMessage, TestKafkaBroker

from orderpulse_kit import dead_letters
from orderpulse_kit.producer import BrokerProducer
from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings
from orderpulse_schemas import examples
from orderpulse_schemas.notifications import NotificationRequested

from ..conftest import SHOPS_FILE

REMINDER_DUE = datetime(2026, 11, 17, 9, 0, tzinfo=ZoneInfo("Europe/Prague"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The example shop reminding 3 days ahead, and a shop without a returns policy."""
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["no-returns"] = {**shops["shops"]["kvetinac-cz"], "returns": None}
    shops["shops"]["kvetinac-cz"]["returns"]["reminder_days_before"] = 3
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}",
        shops_file=path,
        reminder_interval_seconds=0.05,
    )


@dataclass
class Clock:
    now: datetime = REMINDER_DUE - timedelta(days=10)


class Wire:
    """The app on the in-memory broker, with what it publishes."""

    def __init__(self, app: FastStream, settings: Settings) -> None:
        assert app.broker is not None
        self.broker, self.settings = app.broker, settings
        self.requests: list[NotificationRequested] = []
        self.dead: list[tuple[bytes, dict[str, Any]]] = []
        self.clock = Clock()
        self.arrival = asyncio.Event()

    async def wait_for_requests(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.requests) < count:
                self.arrival.clear()
                await self.arrival.wait()

    async def status(self, **data: Any) -> None:
        event = examples.load("order-status.v1", "order.status_changed")
        event["data"].update(data)
        await self.broker.publish(event, topic=self.settings.order_status_topic)

    async def step(self, name: str, **changes: Any) -> None:
        event = examples.load("returns.v1", f"return.{name}")
        event.update(changes)
        await self.broker.publish(event, topic=self.settings.returns_topic)

    def kinds(self) -> list[str]:
        return [request.data.notice.kind for request in self.requests]


@pytest.fixture
async def wire(settings: Settings) -> AsyncIterator[Wire]:
    app = build_app(settings, now=lambda: wire.clock.now, producer=BrokerProducer)
    assert app.broker is not None
    wire = Wire(app, settings)

    @app.broker.subscriber(settings.notifications_topic)
    async def requested(request: NotificationRequested) -> None:
        wire.requests.append(request)
        wire.arrival.set()

    @app.broker.subscriber(f"{settings.returns_topic}.dlq")
    async def dead_lettered(message: KafkaMessage) -> None:
        wire.dead.append((message.body, dict(message.headers)))

    async with TestKafkaBroker(app.broker), TestApp(app):  # type: ignore[arg-type]
        yield wire


async def test_a_delivery_brings_the_instructions_and_a_redelivery_nothing_more(
    wire: Wire,
) -> None:
    await wire.status()
    await wire.status()
    assert wire.kinds() == ["return_instructions"]
    assert wire.requests[0].data.notice.withdrawal_deadline.isoformat() == "2026-11-20"


async def test_other_statuses_say_nothing(wire: Wire) -> None:
    await wire.status(status="out_for_delivery", previous_status="in_transit", customer=None)
    assert wire.requests == []


async def test_a_withdrawal_before_the_arrival_is_acknowledged_once_the_order_arrives(
    wire: Wire,
) -> None:
    await wire.step("requested")
    await wire.step("requested")
    assert wire.requests == []
    await wire.status()
    assert wire.kinds() == ["return_instructions", "return_requested"]


async def test_every_step_of_a_return_is_said_once(wire: Wire) -> None:
    await wire.status()
    for name in ["requested", "label_issued", "received", "refunded"]:
        await wire.step(name)
        await wire.step(name)
    assert wire.kinds() == [
        "return_instructions",
        "return_requested",
        "return_label_issued",
        "return_received",
        "return_refunded",
    ]


async def test_an_erased_customer_is_not_written_to(wire: Wire) -> None:
    await wire.status()
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    erasure["data"] = {"order_ids": ["ord-10045"]}
    await wire.broker.publish(erasure, topic=wire.settings.erasure_topic)
    await wire.step("requested")
    assert wire.kinds() == ["return_instructions"]


async def test_a_return_of_a_shop_without_a_returns_policy_is_dead_lettered(wire: Wire) -> None:
    await wire.step("requested", shopid="no-returns")
    [(_, headers)] = wire.dead
    assert headers[dead_letters.REASON] == (
        "shop no-returns has no returns policy: no `returns` section for it in the shops file"
    )


async def test_an_invalid_return_event_is_dead_lettered_with_the_reason(wire: Wire) -> None:
    broken = examples.load("returns.v1", "return.requested")
    broken["data"]["items"] = []
    await wire.broker.publish(broken, topic=wire.settings.returns_topic)
    [(_, headers)] = wire.dead
    assert headers[dead_letters.REASON].startswith(
        "does not match the contract: return.requested.data.items: List should have at least 1"
    )
    assert wire.requests == []


async def test_the_reminder_loop_reminds_when_the_day_comes(wire: Wire) -> None:
    await wire.status()
    await asyncio.sleep(0.2)  # the loop runs every 50 ms
    assert wire.kinds() == ["return_instructions"]

    wire.clock.now = REMINDER_DUE
    await wire.wait_for_requests(2)
    await asyncio.sleep(0.2)
    assert wire.kinds() == ["return_instructions", "return_window_closing"]
