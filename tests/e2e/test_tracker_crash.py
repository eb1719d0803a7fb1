"""The status-tracker killed (SIGKILL) or stopped (SIGTERM, as Kubernetes does) in the middle of a
stream of events, then restarted.

No notification request may be lost and none may be duplicated: after the restart every cause
yields its request exactly once by id. After a kill, a redelivery may re-publish the very same
record (the notifier dedupes by `notification_id`), so copies are allowed only when byte-identical;
after SIGTERM there may be none: the tracker finishes what it holds and commits before it exits.
The test prints the counts (`pytest -s` or `-rP` shows them).

The tracker runs alone on its own topics and consumer group (a uuid suffix), so it shares the
session's broker with the other e2e module without seeing its traffic.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from orderpulse_devkit import journeys as stories
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import NotificationWatch
from orderpulse_devkit.services import ServiceProcess, announce_everything, service_settings
from orderpulse_status_tracker.messages import derived_id

pytestmark = pytest.mark.kafka

ORDERS = 150
SEND_RATE = 60
"""Events a second: slower than the tracker takes them, so the crash comes mid-stream."""
KILL_AT = 1 / 3
"""Kill once this share of the expected requests is on the topic."""
KINDS = ("order_accepted", "order_dispatched", "out_for_delivery", "delivered")
"""What a home journey announces, in lifecycle order (the transit scan is not announced)."""
NOTICE_OF = {
    "order.accepted": "order_accepted",
    "shipment.dispatched": "order_dispatched",
    "shipment.out_for_delivery": "out_for_delivery",
    "shipment.delivered": "delivered",
}


def journeys(count: int) -> dict[str, list[dict[str, Any]]]:
    """`count` home journeys, a year in the future so that no timer of the tracker comes due."""
    orders = [f"ord-crash-{n:04d}" for n in range(count)]
    first = stories.home_journey_for(orders[0])[0]
    days = (date.today() - date.fromisoformat(first["time"][:10])).days + 365
    return {
        order: [stories.later(message, days) for message in stories.home_journey_for(order)]
        for order in orders
    }


def interleaved(by_order: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Every event once, orders mixed at random, each order's own events in their order."""
    rng = random.Random(20261123)
    queues = [deque(events) for events in by_order.values()]
    stream = []
    while queues:
        queue = rng.choice(queues)
        stream.append(queue.popleft())
        if not queue:
            queues.remove(queue)
    return stream


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    yield producer
    await producer.stop()


async def send(
    producer: AIOKafkaProducer, stream: list[dict[str, Any]], topics: dict[str, str]
) -> float:
    """Produce the stream at about SEND_RATE events a second; when the last one was acked."""
    for start in range(0, len(stream), SEND_RATE // 10):
        for message in stream[start : start + SEND_RATE // 10]:
            topic = topics["ORDERS" if message["type"].startswith("order.") else "SHIPMENTS"]
            value = json.dumps(message, ensure_ascii=False).encode()
            await producer.send(topic, value, key=message["subject"].encode())
        await asyncio.sleep(0.1)
    await producer.flush()
    return time.monotonic()


async def wait_for(
    check: Callable[[], bool], tracker: ServiceProcess, seconds: float, what: Callable[[], str]
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert tracker.running, f"the tracker died:\n{tracker.log()}"
        assert time.monotonic() < deadline, f"timed out: {what()}\n{tracker.log(20)}"
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
async def test_a_stopped_tracker_loses_and_duplicates_no_notification_request(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory, stop: str
) -> None:
    workdir: Path = tmp_path_factory.mktemp("tracker-crash")
    suffix = uuid.uuid4().hex[:8]
    topics = {
        name: f"{name.lower()}.crash-{suffix}"
        for name in ("ORDERS", "SHIPMENTS", "ORDER_STATUS", "NOTIFICATIONS", "ERASURE", "OUTCOMES")
    }
    await create_topics(kafka, topics.values(), partitions=3)
    env = service_settings("status-tracker", kafka, workdir)
    env.update({f"TRACKER_{name}_TOPIC": topic for name, topic in topics.items()})
    env["TRACKER_GROUP_ID"] = f"status-tracker-crash-{suffix}"
    env["TRACKER_SHOPS_FILE"] = str(announce_everything(workdir))

    by_order = journeys(ORDERS)
    kind_of = {
        derived_id(message["shopid"], message["id"], NOTICE_OF[message["type"]]): (
            NOTICE_OF[message["type"]]
        )
        for events in by_order.values()
        for message in events
        if message["type"] in NOTICE_OF
    }
    expected = set(kind_of)
    assert len(expected) == len(KINDS) * ORDERS
    stream = interleaved(by_order)

    watch = NotificationWatch(kafka, topics["NOTIFICATIONS"])
    await watch.start()
    tracker = ServiceProcess("status-tracker", env, workdir)
    tracker.start()
    started = time.monotonic()
    sending = asyncio.create_task(send(producer, stream, topics))
    try:
        await wait_for(
            lambda: len(watch.ids) >= KILL_AT * len(expected),
            tracker,
            30,
            lambda: f"{len(watch.ids)} of {len(expected)} requests before the crash",
        )
        if stop == "SIGKILL":
            assert tracker.kill() == -9
        else:
            assert tracker.stop() == 0, f"SIGTERM mid-stream:\n{tracker.log()}"
        at_kill, killed_at = len(watch.ids), time.monotonic() - started
        mid_stream = not sending.done()  # else the crash hit the backlog of a slow tracker
        tracker.start()
        sent_in = await sending - started
        await wait_for(
            lambda: watch.ids >= expected,
            tracker,
            45,
            lambda: (
                f"{len(expected - watch.ids)} of {len(expected)} requests missing: "
                + str(Counter(kind_of[i] for i in expected - watch.ids))
            ),
        )
        await asyncio.sleep(1.5)  # a late copy or a stray request would show up by now
        finished = time.monotonic() - started
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        code = tracker.stop()
        await watch.stop()
    assert code == 0, f"the tracker did not stop cleanly:\n{tracker.log()}"

    values: dict[str, set[bytes]] = defaultdict(set)
    kinds: dict[str, list[str]] = defaultdict(list)
    for record in watch.records:
        request = json.loads(record.value)
        notification_id = request["data"]["notification_id"]
        assert record.key == request["subject"].encode()
        if notification_id not in values:
            kinds[request["subject"]].append(request["data"]["notice"]["kind"])
        values[notification_id].add(record.value)
    copies = len(watch.records) - len(values)
    report = (
        f"{len(stream)} events sent over {sent_in:.1f} s; {stop} at {killed_at:.1f} s "
        f"({'while' if mid_stream else 'after'} they were sent) with {at_kill}/{len(expected)} "
        f"requests out; all out by {finished - 1.5:.1f} s; "
        f"{len(watch.records)} records, {len(values)} distinct, {copies} re-published copies"
    )
    print(report)

    assert set(values) == expected, (
        f"lost {len(expected - set(values))}, unexpected {len(set(values) - expected)}; {report}"
    )
    differing = {nid for nid, bodies in values.items() if len(bodies) > 1}
    if stop == "SIGTERM":
        assert copies == 0, report
    assert not differing, f"{len(differing)} ids published with different bodies; {report}"
    per_kind = Counter((order, kind) for order, seen in kinds.items() for kind in seen)
    assert set(per_kind.values()) == {1}, report
    out_of_order = {order: seen for order, seen in kinds.items() if tuple(seen) != KINDS}
    assert not out_of_order, f"not in lifecycle order: {out_of_order}; {report}"
