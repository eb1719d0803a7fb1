"""Review requests end to end on a real broker: the returns service sets the durable timer as the
order arrives and, its clock moved on N days, asks; the notifier emails the request once, with
its stop link. A return requested in between cancels it.

The returns service's clock is a value the test sets: the timer is a row, not a sleep.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from faststream import TestApp

from orderpulse_devkit.journeys import home_journey
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.services import announce_everything
from orderpulse_notifier.app import build_app as build_notifier
from orderpulse_notifier.settings import Settings as NotifierSettings
from orderpulse_returns.app import build_app as build_returns
from orderpulse_returns.settings import Settings
from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app as build_tracker
from orderpulse_status_tracker.settings import Settings as TrackerSettings

pytestmark = pytest.mark.kafka

SHOP = "kvetinac-cz"
REVIEWS = "https://obchody.heureka.cz/kvetinac-cz/recenze/"
ARRIVED = datetime(2026, 11, 6, 10, tzinfo=UTC)
"""An hour after the example delivery (Friday 6 November, 10:21 in Prague)."""
DUE = datetime(2026, 11, 13, 9, 0, 30, tzinfo=UTC)
"""Seven days later, just past ten in Prague: the review request is due."""
WAIT = 30.0
QUIET = 1.5
"""Seconds to wait, once what must come came, for what must not (a second request)."""


@dataclass
class Stack:
    """The returns service and the notifier on their own topics, the returns service's clock,
    and a producer to feed them."""

    settings: Settings
    producer: AIOKafkaProducer
    outbox_dir: Path
    clock: list[datetime]

    async def send(self, *messages: dict[str, Any]) -> None:
        for message in messages:
            topic = (
                self.settings.order_status_topic
                if message["type"] == "order.status_changed"
                else self.settings.returns_topic
            )
            value = json.dumps(message, ensure_ascii=False).encode()
            await self.producer.send_and_wait(topic, value, key=message["subject"].encode())

    def emails(self) -> dict[str, list[EmailMessage]]:
        """The example order's emails, by kind (the folder the outbox files each under)."""
        found: dict[str, list[EmailMessage]] = {}
        for path in sorted((self.outbox_dir / SHOP / "10045").rglob("*.eml")):
            email = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(email, EmailMessage)
            found.setdefault(path.parent.name, []).append(email)
        return found

    async def settled(self, *kinds: str) -> dict[str, list[EmailMessage]]:
        """Wait until an email of each of `kinds` is written, then a while for anything more."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT
        while not set(kinds) <= set(self.emails()):
            if loop.time() > deadline:
                pytest.fail(f"expected {kinds}, the outbox has {sorted(self.emails())}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(QUIET)
        return self.emails()


def shops_file(workdir: Path) -> Path:
    """Every kind on every channel; the example shop asks for reviews seven days on."""
    path = announce_everything(workdir)
    shops = yaml.safe_load(path.read_text(encoding="utf-8"))
    shops["shops"][SHOP]["reviews"] = {"enabled": True, "days_after": 7, "link": REVIEWS}
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
async def stack(kafka: str, tmp_path: Path) -> AsyncIterator[Stack]:
    unique = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        group_id=f"returns-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}",
        shops_file=shops_file(tmp_path),
        order_status_topic=f"order-status.{unique}",
        returns_topic=f"returns.{unique}",
        erasure_topic=f"erasure-requests.{unique}",
        notifications_topic=f"notifications.{unique}",
        reminder_interval_seconds=0.05,
    )
    notifier = NotifierSettings(
        kafka_bootstrap_servers=kafka,
        group_id=f"notifier-{unique}",
        erasure_group_id=f"notifier-erasure-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        notifications_topic=settings.notifications_topic,
        erasure_topic=settings.erasure_topic,
        outcomes_topic=f"notification-outcomes.{unique}",
        shops_file=settings.shops_file,
        outbox_dir=tmp_path / "outbox",
        public_url="https://notify.kvetinac.example.cz",
        stop_link_secret="test-secret-" + "x" * 32,
        stop_list_salt="test-salt-0123456789",
    )
    topics = [getattr(settings, name) for name in Settings.model_fields if name.endswith("_topic")]
    await create_topics(kafka, [*topics, notifier.outcomes_topic])
    clock = [ARRIVED]
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        async with (
            TestApp(build_returns(settings, now=lambda: clock[0])),
            TestApp(build_notifier(notifier, now=lambda: clock[0])),
        ):
            yield Stack(settings, producer, notifier.outbox_dir, clock)
    finally:
        await producer.stop()


def delivered() -> dict[str, Any]:
    """ord-10045 delivered (the example), its customer consenting to review requests."""
    message = examples.load("order-status.v1", "order.status_changed")
    message["data"]["customer"]["consent"]["reviews"] = True
    return message


async def test_seven_days_after_delivery_exactly_one_review_request_is_emailed(
    stack: Stack,
) -> None:
    await stack.send(delivered())
    emails = await stack.settled("return_instructions")
    assert "review_request" not in emails  # not yet: the timer waits in the database

    stack.clock[0] = DUE
    emails = await stack.settled("review_request")
    [review] = emails["review_request"]
    assert review["Subject"] == "Jak jste spokojeni s objednávkou č. 10045?"
    assert review["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert review["List-Unsubscribe"].startswith("<https://notify.kvetinac.example.cz/stop/")
    body = review.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    assert REVIEWS in body.get_content()

    await stack.send(delivered())  # the arrival again (a replay): it asks nothing again
    stack.clock[0] = DUE.replace(day=14)
    assert [len(v) for v in (await stack.settled("review_request")).values()] == [1, 1]


async def test_a_return_requested_in_between_means_no_review_request(stack: Stack) -> None:
    await stack.send(delivered())
    await stack.settled("return_instructions")
    await stack.send(examples.load("returns.v1", "return.requested"))
    await stack.settled("return_requested")

    stack.clock[0] = DUE
    await asyncio.sleep(QUIET)  # the reminder loop polls every 50 ms: dozens of rounds
    emails = await stack.settled("return_requested")
    assert sorted(emails) == ["return_instructions", "return_requested"]


async def test_the_consent_given_with_the_order_reaches_the_timer_through_the_tracker(
    stack: Stack, tmp_path: Path
) -> None:
    """The shop's `order.accepted` carries the consent; the tracker passes it on with the
    delivery, as every integrator's order would go."""
    unique = uuid.uuid4().hex[:8]
    tracker = TrackerSettings(
        kafka_bootstrap_servers=stack.settings.kafka_bootstrap_servers,
        group_id=f"tracker-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'tracker.db'}",
        shops_file=stack.settings.shops_file,
        orders_topic=f"orders.{unique}",
        shipments_topic=f"shipments.{unique}",
        erasure_topic=stack.settings.erasure_topic,
        outcomes_topic=f"notification-outcomes.{unique}",
        order_status_topic=stack.settings.order_status_topic,
        notifications_topic=f"tracker-notifications.{unique}",  # its own messages: not counted
    )
    names = [f for f in TrackerSettings.model_fields if f.endswith("_topic")]
    await create_topics(tracker.kafka_bootstrap_servers, [getattr(tracker, f) for f in names])
    journey = home_journey()
    journey[0]["data"]["customer"]["consent"]["reviews"] = True
    async with TestApp(build_tracker(tracker)):
        for message in journey:
            kind = tracker.orders_topic if message["type"].startswith("order.") else None
            value = json.dumps(message, ensure_ascii=False).encode()
            await stack.producer.send_and_wait(
                kind or tracker.shipments_topic, value, key=message["subject"].encode()
            )
        await stack.settled("return_instructions")
        stack.clock[0] = DUE
        emails = await stack.settled("review_request")
    assert [len(found) for found in emails.values()] == [1, 1]
