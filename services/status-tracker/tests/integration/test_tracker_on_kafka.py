"""The tracker in-process on a real broker, with SQLite and PostgreSQL, and a clock we move."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faststream import TestApp
from faststream.asgi import AsgiFastStream
from pydantic import SecretStr

from orderpulse_devkit.asgi import get
from orderpulse_devkit.groups import caught_up
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import read_records
from orderpulse_devkit.services import announce_everything
from orderpulse_kit.database import connect
from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app
from orderpulse_status_tracker.settings import Settings

from ..stories import event, home_journey, pickup_journey

pytestmark = pytest.mark.kafka

TOKEN = "support-token-for-tests"


class MovableClock:
    """A clock that stands still until a test moves it."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@dataclass
class Tracker:
    """A running tracker with its own topics, and what it published."""

    settings: Settings
    app: AsgiFastStream
    clock: MovableClock
    producer: AIOKafkaProducer

    async def send(self, *messages: dict[str, Any]) -> None:
        for message in messages:
            topic = {
                "order": self.settings.orders_topic,
                "shipment": self.settings.shipments_topic,
                "customer": self.settings.erasure_topic,
                "notification": self.settings.outcomes_topic,
            }[message["type"].split(".")[0]]
            value = json.dumps(message, ensure_ascii=False).encode()
            await self.producer.send_and_wait(topic, value, key=message["subject"].encode())

    async def handled(self, topic: str) -> None:
        """Wait until the tracker's group has committed everything on `topic`."""
        async with asyncio.timeout(60):
            await caught_up(self.settings.kafka_bootstrap_servers, self.settings.group_id, [topic])

    async def requests(self, expected: int) -> list[dict[str, Any]]:
        """Every notification request published so far: waits for `expected`, then 1 s more."""
        return await _settled(
            self.settings.kafka_bootstrap_servers, self.settings.notifications_topic, expected
        )


async def _settled(bootstrap: str, topic: str, expected: int) -> list[dict[str, Any]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while len(records) < expected:
                batch = await consumer.getmany(timeout_ms=300)
                records += [json.loads(r.value) for part in batch.values() for r in part]
        quiet_until = asyncio.get_running_loop().time() + 1.0
        while asyncio.get_running_loop().time() < quiet_until:  # anything extra shows up now
            batch = await consumer.getmany(timeout_ms=200)
            records += [json.loads(r.value) for part in batch.values() for r in part]
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: r["time"])


def kinds(requests: list[dict[str, Any]], order: str) -> list[str]:
    return [r["data"]["notice"]["kind"] for r in requests if r["subject"] == order]


@pytest.fixture
async def tracker(kafka: str, database_url: str, tmp_path: Path) -> AsyncIterator[Tracker]:
    unique = uuid.uuid4().hex[:8]
    shops = announce_everything(tmp_path)  # as a shop does by default
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        group_id=f"tracker-{unique}",
        database_url=database_url,
        shops_file=shops,
        timer_interval_seconds=0.05,
        support_token=SecretStr(TOKEN),
        **{
            f"{name}_topic": f"{name}.{unique}"
            for name in (
                "orders",
                "shipments",
                "erasure",
                "outcomes",
                "order_status",
                "notifications",
            )
        },
    )
    await create_topics(
        kafka, [getattr(settings, f) for f in Settings.model_fields if f.endswith("_topic")]
    )
    clock = MovableClock(datetime(2026, 11, 2, 9, tzinfo=UTC))
    app = build_app(settings, engine=connect(database_url), clock=clock)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        async with TestApp(app):
            yield Tracker(settings, app, clock, producer)
    finally:
        await producer.stop()


async def test_a_home_and_a_pickup_journey_each_say_exactly_what_happened(tracker: Tracker) -> None:
    await tracker.send(*home_journey(), *pickup_journey())

    requests = await tracker.requests(8)
    assert kinds(requests, "ord-10045") == [
        "order_accepted",
        "order_dispatched",
        "out_for_delivery",
        "delivered",
    ]
    assert kinds(requests, "ord-10046") == [
        "order_accepted",
        "order_dispatched",
        "at_pickup_point",
        "picked_up",
    ]
    assert len(requests) == 8


async def test_duplicates_and_late_or_early_facts_give_one_request_per_real_change(
    tracker: Tracker,
) -> None:
    journey = home_journey()
    accepted, facts = journey[0], journey[1:]
    resent = [dict(fact, id=fact["id"] + "-resent") for fact in facts]
    late_scan = event("shipment.in_transit", id="evt-late-scan", time="2026-11-06T18:00:00+01:00")
    await tracker.send(*facts)  # the courier is faster than the shop: facts before the order
    await tracker.send(accepted, *facts, *resent, accepted, late_scan)

    requests = await tracker.requests(4)
    assert kinds(requests, "ord-10045") == [
        "order_accepted",
        "order_dispatched",
        "out_for_delivery",
        "delivered",
    ]


async def test_a_carrier_delay_and_a_passed_dispatch_date_say_why_and_until_when(
    tracker: Tracker,
) -> None:
    await tracker.send(event("order.accepted"))
    await tracker.requests(1)
    tracker.clock.current = datetime(
        2026, 11, 3, 1, tzinfo=UTC
    )  # the promised dispatch day is over
    overdue = (await tracker.requests(2))[-1]["data"]["notice"]
    assert overdue == {"kind": "order_delayed", "source": "overdue"}

    await tracker.send(event("shipment.dispatched"), event("shipment.delayed"))
    delayed = (await tracker.requests(4))[-1]["data"]["notice"]
    assert (delayed["source"], delayed["reason"]) == ("carrier", "high_volume")
    assert delayed["new_expected_delivery"] == {"earliest": "2026-11-05", "latest": "2026-11-05"}


async def test_a_pickup_reminder_comes_unless_the_parcel_was_picked_up(tracker: Tracker) -> None:
    waiting = pickup_journey("ord-20046")[:3]
    collected = pickup_journey("ord-20047")
    await tracker.send(*waiting, *collected)
    await tracker.requests(7)

    stored_until = datetime.fromisoformat("2026-11-11T23:59:00+01:00")
    tracker.clock.current = stored_until - timedelta(hours=23)
    requests = await tracker.requests(8)
    assert kinds(requests, "ord-20046")[-1] == "pickup_reminder"
    assert kinds(requests, "ord-20047") == [
        "order_accepted",
        "order_dispatched",
        "at_pickup_point",
        "picked_up",
    ]


async def test_invalid_events_are_dead_lettered_while_valid_ones_flow(tracker: Tracker) -> None:
    broken = event("shipment.delivered", id="evt-broken")
    del broken["data"]["tracking_number"]
    await tracker.producer.send_and_wait(
        tracker.settings.shipments_topic, b"\xff not json", key=b"ord-10045"
    )
    await tracker.producer.send_and_wait(
        tracker.settings.shipments_topic, json.dumps(broken).encode(), key=b"ord-10045"
    )
    await tracker.send(*home_journey())

    assert len(await tracker.requests(4)) == 4
    dead = await _raw(
        tracker.settings.kafka_bootstrap_servers, tracker.settings.shipments_topic + ".dlq", 2
    )
    reasons = [dict(r.headers)["dlq-reason"].decode() for r in dead]
    assert reasons[0].startswith("not valid JSON")
    assert "data.tracking_number: Field required" in reasons[1]


async def test_an_event_dated_at_the_end_of_time_is_dead_lettered_while_the_rest_flow(
    tracker: Tracker,
) -> None:
    """Once valid by the contract, a date at the end of time overflowed the order's timers in
    handling; the contract now bounds the dates, and says which one."""
    endless = event("order.accepted", id="evt-endless", subject="ord-99999")
    endless["data"]["promised_delivery"] = {"earliest": "9999-12-30", "latest": "9999-12-31"}
    await tracker.send(endless, *home_journey())

    assert kinds(await tracker.requests(4), "ord-10045") == [
        "order_accepted",
        "order_dispatched",
        "out_for_delivery",
        "delivered",
    ]
    [dead] = await _raw(
        tracker.settings.kafka_bootstrap_servers, tracker.settings.orders_topic + ".dlq", 1
    )
    assert json.loads(dead.value)["id"] == "evt-endless"
    reason = dict(dead.headers)["dlq-reason"].decode()
    assert reason.startswith("does not match the contract: order.accepted.data.promised_delivery")


async def test_a_header_that_is_not_utf8_does_not_stop_a_valid_event(tracker: Tracker) -> None:
    """Another tracer's binary `traceparent`: FastStream decodes every header of a poll."""
    accepted = event("order.accepted")
    await tracker.producer.send_and_wait(
        tracker.settings.orders_topic,
        json.dumps(accepted).encode(),
        key=accepted["subject"].encode(),
        headers=[("traceparent", b"\xff\xfe\x00binary")],
    )
    assert kinds(await tracker.requests(1), "ord-10045") == ["order_accepted"]


async def test_an_event_in_binary_content_mode_is_read_as_the_official_sdks_write_it(
    tracker: Tracker,
) -> None:
    """CloudEvents' Kafka binding: attributes as `ce_` headers, the value is `data` alone."""
    accepted = event("order.accepted")
    headers = [
        (f"ce_{name}", str(value).encode())
        for name, value in accepted.items()
        if name not in ("data", "datacontenttype")
    ]
    headers.append(("content-type", b"application/json"))
    await tracker.producer.send_and_wait(
        tracker.settings.orders_topic,
        json.dumps(accepted["data"]).encode(),
        key=accepted["subject"].encode(),
        headers=headers,
    )
    assert kinds(await tracker.requests(1), "ord-10045") == ["order_accepted"]


async def test_support_sees_the_timeline_with_outcomes_behind_a_token(tracker: Tracker) -> None:
    await tracker.send(*home_journey()[:2])
    accepted = (await tracker.requests(2))[0]
    sent = examples.load("notification-outcomes.v1", "notification.sent")
    sent["data"]["notification_id"] = accepted["data"]["notification_id"]
    await tracker.send(sent)

    path = "/timeline?shop=kvetinac-cz&order=ord-10045"
    assert (await get(tracker.app, path))[0] == 401
    assert (await get(tracker.app, path, token="wrong"))[0] == 401
    for _ in range(50):
        status, body = await get(tracker.app, path, token=TOKEN)
        if body and body["notifications"][0]["outcomes"]:
            break
        await asyncio.sleep(0.1)
    assert status == 200
    assert [s["status"] for s in body["states"]] == ["accepted", "dispatched"]
    assert [n["kind"] for n in body["notifications"]] == ["order_accepted", "order_dispatched"]
    assert body["notifications"][0]["outcomes"][0]["outcome"] == "notification.sent"
    assert "petr" not in json.dumps(body).lower()  # no personal data in the timeline


async def test_erasure_forgets_the_customer_and_stops_the_messages(tracker: Tracker) -> None:
    await tracker.send(event("order.accepted"))
    await tracker.requests(1)
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    await tracker.send(erasure)
    await tracker.handled(tracker.settings.erasure_topic)  # topics are read in no set order
    await tracker.send(event("shipment.dispatched"))
    await asyncio.sleep(1)
    assert kinds(await tracker.requests(1), "ord-10045") == ["order_accepted"]


async def test_an_order_sent_before_its_customer_s_erasure_is_not_kept_when_it_comes_after(
    tracker: Tracker,
) -> None:
    """The erasure overtook the order (another topic, a backlog, a replay): the customer is
    neither stored again nor greeted. An order they place after the erasure is theirs anew."""
    erasure = examples.load("erasure-requests.v1", "customer.erasure_requested")
    erasure["time"] = "2026-11-02T12:00:00Z"
    await tracker.send(erasure)
    await tracker.handled(tracker.settings.erasure_topic)
    late = event("order.accepted", time="2026-11-02T10:14:03+01:00")
    anew = event("order.accepted", id=f"{late['id']}-anew", subject="ord-20001")
    anew["time"] = "2026-11-02T12:00:01Z"
    await tracker.send(late, anew)

    requests = await tracker.requests(1)
    assert kinds(requests, late["subject"]) == []
    assert "order_accepted" in kinds(requests, "ord-20001")
    engine = connect(tracker.settings.database_url.get_secret_value())
    try:
        async with engine.connect() as conn:
            stored = dict(
                (
                    await conn.execute(
                        sa.text("SELECT order_id, customer_email FROM tracker_orders")
                    )
                ).all()
            )
    finally:
        await engine.dispose()
    assert stored == {late["subject"]: None, "ord-20001": late["data"]["customer"]["email"]}


async def test_readiness_reflects_the_broker_and_the_database(tracker: Tracker) -> None:
    assert await get(tracker.app, "/readyz") == (200, {"ready": True})
    assert (await get(tracker.app, "/healthz"))[0] == 204


async def _raw(bootstrap: str, topic: str, count: int) -> list[Any]:
    async with asyncio.timeout(30):
        return await read_records(bootstrap, topic, count)
