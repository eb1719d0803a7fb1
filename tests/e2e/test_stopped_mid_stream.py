"""The status-tracker and the returns service killed (SIGKILL) or stopped (SIGTERM, as Kubernetes
does) in the middle of a stream of events, then restarted. (The notifier's own: in
test_notifier_process.py.)

No notification request may be lost and none may be duplicated: after the restart every cause
yields its request exactly once by id. After a kill, a redelivery may re-publish the very same
record (the notifier dedupes by `notification_id`), so copies are allowed only when byte-identical;
after SIGTERM there may be none: the service finishes what it holds and commits before it exits.
The tests print the counts (`pytest -s` or `-rP` shows them).

Each service runs alone on its own topics and consumer group (a uuid suffix), so it shares the
session's broker with the other e2e modules without seeing their traffic.
"""

import asyncio
import json
import random
import time
import uuid
from collections import Counter, defaultdict, deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from orderpulse_devkit import journeys as stories
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import NotificationWatch
from orderpulse_devkit.services import ServiceProcess, announce_everything, service_settings
from orderpulse_returns.messages import derived_id as returns_derived_id
from orderpulse_schemas import examples
from orderpulse_status_tracker.messages import derived_id

pytestmark = pytest.mark.kafka

ORDERS = 150
DELIVERED = 450
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
    """`count` home journeys that ended yesterday, with no timer of the tracker due."""
    orders = [f"ord-crash-{n:04d}" for n in range(count)]
    moved = stories.ended_yesterday([stories.home_journey_for(order) for order in orders])
    return dict(zip(orders, moved, strict=True))


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
    producer: AIOKafkaProducer,
    stream: list[dict[str, Any]],
    topic_of: Callable[[dict[str, Any]], str],
) -> float:
    """Produce the stream at about SEND_RATE events a second; when the last one was acked."""
    for start in range(0, len(stream), SEND_RATE // 10):
        for message in stream[start : start + SEND_RATE // 10]:
            topic = topic_of(message)
            value = json.dumps(message, ensure_ascii=False).encode()
            await producer.send(topic, value, key=message["subject"].encode())
        await asyncio.sleep(0.1)
    await producer.flush()
    return time.monotonic()


async def wait_for(
    check: Callable[[], bool], service: ServiceProcess, seconds: float, what: Callable[[], str]
) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert service.running, f"the {service.name} died:\n{service.log()}"
        assert time.monotonic() < deadline, f"timed out: {what()}\n{service.log(20)}"
        await asyncio.sleep(0.01)


@dataclass
class Published:
    """What a run put on the notifications topic, and how it went."""

    bodies: dict[str, set[bytes]]
    """Each notification id's distinct record values."""
    kinds: dict[str, list[str]]
    """Each order's notice kinds, in the order they first came."""
    copies: int
    report: str


async def stopped_mid_stream(
    kafka: str,
    service: ServiceProcess,
    stop: str,
    producer: AIOKafkaProducer,
    stream: list[dict[str, Any]],
    topic_of: Callable[[dict[str, Any]], str],
    notifications: str,
    expected: set[str],
) -> Published:
    """Run `service` on the paced stream, `stop` it once a third of the requests are out, restart
    it, and wait for every expected request on `notifications` and a while longer for strays."""
    watch = NotificationWatch(kafka, notifications)
    await watch.start()
    service.start()
    started = time.monotonic()
    sending = asyncio.create_task(send(producer, stream, topic_of))
    try:
        await wait_for(
            lambda: len(watch.ids) >= KILL_AT * len(expected),
            service,
            30,
            lambda: f"{len(watch.ids)} of {len(expected)} requests before the stop",
        )
        if stop == "SIGKILL":
            assert service.kill() == -9
        else:
            assert service.stop() == 0, f"SIGTERM mid-stream:\n{service.log()}"
        at_stop, stopped_at = len(watch.ids), time.monotonic() - started
        mid_stream = not sending.done()  # else the stop hit the backlog of a slow service
        service.start()
        sent_in = await sending - started
        await wait_for(
            lambda: watch.ids >= expected,
            service,
            45,
            lambda: f"{len(expected - watch.ids)} of {len(expected)} requests missing",
        )
        await asyncio.sleep(1.5)  # a late copy or a stray request would show up by now
        finished = time.monotonic() - started
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        code = service.stop()
        await watch.stop()
    assert code == 0, f"the {service.name} did not stop cleanly:\n{service.log()}"

    bodies: dict[str, set[bytes]] = defaultdict(set)
    kinds: dict[str, list[str]] = defaultdict(list)
    for record in watch.records:
        request = json.loads(record.value)
        notification_id = request["data"]["notification_id"]
        assert record.key == request["subject"].encode()
        if notification_id not in bodies:
            kinds[request["subject"]].append(request["data"]["notice"]["kind"])
        bodies[notification_id].add(record.value)
    copies = len(watch.records) - len(bodies)
    report = (
        f"{len(stream)} events sent over {sent_in:.1f} s; {stop} at {stopped_at:.1f} s "
        f"({'while' if mid_stream else 'after'} they were sent) with {at_stop}/{len(expected)} "
        f"requests out; all out by {finished - 1.5:.1f} s; "
        f"{len(watch.records)} records, {len(bodies)} distinct, {copies} re-published copies"
    )
    print(f"{service.name}: {report}")
    assert set(bodies) == expected, (
        f"lost {len(expected - set(bodies))}, unexpected {len(set(bodies) - expected)}; {report}"
    )
    differing = {nid for nid, values in bodies.items() if len(values) > 1}
    assert not differing, f"{len(differing)} ids published with different bodies; {report}"
    if stop == "SIGTERM":
        assert copies == 0, report
    return Published(bodies, kinds, copies, report)


async def own_topics(kafka: str, names: tuple[str, ...]) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"{name.lower()}.stopped-{suffix}" for name in names}
    await create_topics(kafka, topics.values(), partitions=3)
    return topics


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
async def test_a_stopped_tracker_loses_and_duplicates_no_notification_request(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory, stop: str
) -> None:
    workdir: Path = tmp_path_factory.mktemp("tracker-stopped")
    topics = await own_topics(
        kafka, ("ORDERS", "SHIPMENTS", "ORDER_STATUS", "NOTIFICATIONS", "ERASURE", "OUTCOMES")
    )
    env = service_settings("status-tracker", kafka, workdir)
    env.update({f"TRACKER_{name}_TOPIC": topic for name, topic in topics.items()})
    env["TRACKER_GROUP_ID"] = f"status-tracker-{topics['ORDERS']}"
    env["TRACKER_SHOPS_FILE"] = str(announce_everything(workdir))

    by_order = journeys(ORDERS)
    expected = {
        derived_id(message["shopid"], message["id"], NOTICE_OF[message["type"]])
        for events in by_order.values()
        for message in events
        if message["type"] in NOTICE_OF
    }
    assert len(expected) == len(KINDS) * ORDERS

    published = await stopped_mid_stream(
        kafka,
        ServiceProcess("status-tracker", env, workdir),
        stop,
        producer,
        interleaved(by_order),
        lambda message: topics["ORDERS" if message["type"].startswith("order.") else "SHIPMENTS"],
        topics["NOTIFICATIONS"],
        expected,
    )

    per_kind = Counter((order, kind) for order, seen in published.kinds.items() for kind in seen)
    assert set(per_kind.values()) == {1}, published.report
    out_of_order = {order: seen for order, seen in published.kinds.items() if tuple(seen) != KINDS}
    assert not out_of_order, f"not in lifecycle order: {out_of_order}; {published.report}"


@pytest.mark.parametrize("stop", ["SIGKILL", "SIGTERM"])
async def test_a_stopped_returns_service_gives_every_order_its_instructions_once(
    kafka: str, producer: AIOKafkaProducer, tmp_path_factory: pytest.TempPathFactory, stop: str
) -> None:
    """Each delivered order gets its return instructions: one request, none lost, none twice."""
    workdir: Path = tmp_path_factory.mktemp("returns-stopped")
    topics = await own_topics(kafka, ("ORDER_STATUS", "RETURNS", "ERASURE", "NOTIFICATIONS"))
    env = service_settings("returns", kafka, workdir)
    env.update({f"RETURNS_{name}_TOPIC": topic for name, topic in topics.items()})
    env["RETURNS_GROUP_ID"] = f"returns-{topics['RETURNS']}"

    stream = [delivered(f"ord-stopped-{n:04d}") for n in range(DELIVERED)]
    expected = {
        returns_derived_id(message["shopid"], message["subject"], "return_instructions")
        for message in stream
    }

    published = await stopped_mid_stream(
        kafka,
        ServiceProcess("returns", env, workdir),
        stop,
        producer,
        stream,
        lambda _: topics["ORDER_STATUS"],
        topics["NOTIFICATIONS"],
        expected,
    )

    assert {kind for seen in published.kinds.values() for kind in seen} == {"return_instructions"}


def delivered(order: str) -> dict[str, Any]:
    """The tracker's example `delivered` status change, for `order`."""
    message = examples.load("order-status.v1", "order.status_changed")
    message.update(id=f"evt-st-{order}-delivered", subject=order)
    message["data"]["order_number"] = order.rsplit("-", 1)[-1]
    return message
