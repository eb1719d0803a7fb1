"""The couriers service in-process on a real broker and a real database (SQLite and PostgreSQL):
a shop's order and dispatch on Kafka, then InPost's webhook over HTTP, comes out on
`shipments.v1` once, keyed by the order, from Kafka's acknowledged records."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from faststream import TestApp
from faststream.asgi import AsgiFastStream

from orderpulse_couriers.app import build_app
from orderpulse_couriers.http import INPOST_PATH
from orderpulse_couriers.settings import Settings
from orderpulse_devkit.groups import caught_up
from orderpulse_devkit.kafka import create_topics
from orderpulse_schemas import examples

from ..conftest import fixture, post

pytestmark = pytest.mark.kafka

TRACKING = "602677439331630337653846"
ORDER = "ord-10045"
WAIT = 30.0
"""Seconds to wait for what must come; far more than it takes."""
QUIET = 1.0
"""Seconds to wait after it came for what must not (a duplicate)."""


@dataclass
class Couriers:
    """A running couriers service with its own topics, and a producer to feed it as a shop."""

    settings: Settings
    app: AsgiFastStream
    producer: AIOKafkaProducer

    async def send(self, topic: str, message: dict[str, Any]) -> None:
        value = json.dumps(message, ensure_ascii=False).encode()
        await self.producer.send_and_wait(topic, value, key=message["subject"].encode())

    async def shipments(self, expected: int) -> list[ConsumerRecord[bytes, bytes]]:
        """The records of shipments.v1: waits for `expected`, then `QUIET` s for more."""
        consumer = AIOKafkaConsumer(
            self.settings.shipments_topic,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        records: list[ConsumerRecord[bytes, bytes]] = []

        async def poll(milliseconds: int) -> None:
            batch = await consumer.getmany(timeout_ms=milliseconds)
            records.extend(record for part in batch.values() for record in part)

        try:
            async with asyncio.timeout(WAIT):
                while len(records) < expected:
                    await poll(200)
            quiet_until = asyncio.get_running_loop().time() + QUIET
            while asyncio.get_running_loop().time() < quiet_until:
                await poll(100)
        finally:
            await consumer.stop()
        return sorted(records, key=lambda r: (r.partition, r.offset))


@pytest.fixture
async def couriers(kafka: str, database_url: str) -> AsyncIterator[Couriers]:
    unique = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        group_id=f"couriers-{unique}",
        database_url=database_url,
        orders_topic=f"orders.{unique}",
        shipments_topic=f"shipments.{unique}",
    )
    topics = [settings.orders_topic, settings.shipments_topic]
    await create_topics(kafka, [*topics, *(f"{topic}.dlq" for topic in topics)])
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    app = build_app(settings, now=lambda: datetime(2026, 3, 10, tzinfo=UTC))
    try:
        async with TestApp(app):
            yield Couriers(settings, app, producer)
    finally:
        await producer.stop()


async def test_a_webhook_of_a_dispatched_parcel_is_published_once(couriers: Couriers) -> None:
    settings = couriers.settings
    accepted = examples.load("orders.v1", "order.accepted")
    accepted["data"]["delivery"] = {
        "method": "pickup_point",
        "point": {
            "id": "KRA010M",
            "name": "Paczkomat KRA010M",
            "address": {
                "street": "Dietla 54",
                "city": "Kraków",
                "postal_code": "31-039",
                "country": "PL",
            },
        },
    }
    dispatched = examples.load("shipments.v1", "shipment.dispatched")
    dispatched["data"].update(carrier="inpost", tracking_number=TRACKING)
    await couriers.send(settings.orders_topic, accepted)
    await couriers.send(settings.shipments_topic, dispatched)
    async with asyncio.timeout(WAIT):
        await caught_up(
            settings.kafka_bootstrap_servers,
            settings.group_id,
            [settings.orders_topic, settings.shipments_topic],
        )
    body = json.loads(fixture("inpost", "webhook_delivered.json"))
    body["event_ts"] = "2026-03-05 14:12:09 +0100"
    webhook = json.dumps(body).encode()

    status, answer = await post(couriers.app, INPOST_PATH, webhook)
    assert (status, json.loads(answer)) == (200, {"published": 1, "unfollowed": 0})
    status, answer = await post(couriers.app, INPOST_PATH, webhook)  # ShipX retrying
    assert (status, json.loads(answer)) == (200, {"published": 0, "unfollowed": 0})

    records = await couriers.shipments(2)
    assert [json.loads(r.value)["type"] for r in records] == [
        "shipment.dispatched",
        "shipment.picked_up",  # at the Paczkomat the order chose
    ]
    ours = records[1]
    assert ours.key == ORDER.encode()
    assert json.loads(ours.value)["source"] == "/orderpulse/couriers/inpost"
    assert records[0].partition == ours.partition  # the order's events stay in order
