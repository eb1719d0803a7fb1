"""How fast one status-tracker process works through a backlog, on a real broker.

    uv run python bench/tracker.py [--orders N] [--databases sqlite,postgresql] [--keep DIR]

For each database: new topics (3 partitions) and a new consumer group, N order journeys (home and
pickup-point deliveries mixed, 4-5 events each) produced onto the orders and shipments topics
BEFORE the tracker starts, then one tracker process (`python -m orderpulse_status_tracker`) and a
stopwatch until every expected notification request is on the notifications topic and the
group's offsets are committed to the end. Reported: events/s in, notification requests/s out, the
process's CPU seconds and peak RSS; then, in the same run, a bare aiokafka pass-through
(bench/passthrough.py) through the same backlog, and the tracker's steady rate over its rate.
Everything it starts (broker, PostgreSQL, tracker) it stops.

The broker is `KAFKA_BOOTSTRAP_SERVERS` when set, else a local one in a temporary directory; the
same goes for PostgreSQL and `ORDERPULSE_TEST_POSTGRES_URL`. Results are printed and appended to
bench/results/tracker-<date>.json.
"""

import argparse
import asyncio
import contextlib
import json
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import measure
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from measure import (
    child_pid,
    committed,
    cpu_seconds,
    database,
    end_offsets,
    interleaved,
    kafka_source,
    passthrough_through,
    peak_rss_mib,
    work_directory,
)

from orderpulse_devkit import journeys as stories
from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.records import NotificationWatch
from orderpulse_devkit.services import REPO, ServiceProcess, announce_everything, service_settings

PARTITIONS = 3
TIMEOUT = 900.0
"""Seconds a run may take before it is given up."""
HOME = ("order_accepted", "order_dispatched", "out_for_delivery", "delivered")
PICKUP = ("order_accepted", "order_dispatched", "at_pickup_point", "picked_up")


@dataclass
class Result:
    database: str
    orders: int
    events: int
    expected_requests: int
    requests_seen: int
    produce_seconds: float
    startup_seconds: float
    """Tracker start to its first committed offset (imports, group join, first event)."""
    first_request_seconds: float
    """Tracker start to its first notification request."""
    requests_seconds: float
    """Tracker start to the last expected notification request."""
    consumed_seconds: float
    """Tracker start to the group's offsets committed at the end of both input topics."""
    events_per_second: float
    requests_per_second: float
    steady_events_per_second: float
    """Events over the time from the first committed offset to the end (startup left out)."""
    cpu_seconds: float
    peak_rss_mib: float
    passthrough_events_per_second: float
    """A bare aiokafka consume → produce → commit loop through the same backlog, right after."""
    ratio: float
    """Steady events/s of the tracker over the pass-through's."""


def journeys(count: int) -> tuple[list[list[dict[str, Any]]], int]:
    """`count` journeys (three home deliveries to two pickups) and the requests they cause.

    The journeys ended yesterday, their promised dates a year ahead so that no timer
    comes due; the shop announces every kind.
    """
    result, requests = [], 0
    for n in range(count):
        order = f"ord-bench-{n:06d}"
        home = n % 5 < 3
        result.append(stories.home_journey_for(order) if home else stories.pickup_journey(order))
        requests += len(HOME if home else PICKUP)
    return stories.ended_yesterday(result), requests


async def produce(bootstrap: str, stream: list[dict[str, Any]], topics: dict[str, str]) -> float:
    """Put the whole stream on the input topics; how long it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    started = time.monotonic()
    try:
        for message in stream:
            topic = topics["orders" if message["type"].startswith("order.") else "shipments"]
            value = json.dumps(message, ensure_ascii=False).encode()
            await producer.send(topic, value, key=message["subject"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    return time.monotonic() - started


async def run(
    bootstrap: str, database: str, database_url: str | None, orders: int, workdir: Path
) -> Result:
    """One tracker process through a pre-loaded backlog of `orders` journeys."""
    suffix = uuid.uuid4().hex[:8]
    names = (
        "orders",
        "shipments",
        "order_status",
        "notifications",
        "erasure",
        "outcomes",
        "passed",
    )
    topics = {name: f"bench-{name}-{suffix}" for name in names}
    await create_topics(bootstrap, topics.values(), partitions=PARTITIONS)
    group = f"status-tracker-bench-{suffix}"
    shops = announce_everything(workdir)  # creates the run's directory
    env = service_settings("status-tracker", bootstrap, workdir, database_url)
    env.update({f"TRACKER_{name.upper()}_TOPIC": topic for name, topic in topics.items()})
    env.update(TRACKER_GROUP_ID=group, TRACKER_SHOPS_FILE=str(shops))

    by_order, expected = journeys(orders)
    stream = interleaved(by_order)
    print(f"[{database}] producing {len(stream)} events of {orders} journeys …", flush=True)
    produce_seconds = await produce(bootstrap, stream, topics)
    ends = await end_offsets(bootstrap, [topics["orders"], topics["shipments"]], PARTITIONS)
    assert sum(ends.values()) == len(stream), f"{sum(ends.values())} on the topics"

    tracker = ServiceProcess("status-tracker", env, workdir)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with NotificationWatch(bootstrap, topics["notifications"]) as requests:
            started = time.monotonic()
            tracker.start()
            pid = child_pid("orderpulse_status_tracker")
            print(f"[{database}] tracker pid {pid} started; waiting …", flush=True)
            done_requests = done_consumed = first_commit = None
            last_report = started
            while done_requests is None or done_consumed is None:
                if not tracker.running:
                    raise RuntimeError(f"the tracker died:\n{tracker.log()}")
                now = time.monotonic()
                if now - started > TIMEOUT:
                    raise TimeoutError(
                        f"{len(requests.ids)}/{expected} requests after {TIMEOUT} s:\n"
                        + tracker.log(20)
                    )
                if done_requests is None and len(requests.ids) >= expected:
                    done_requests = now
                if done_consumed is None:
                    count = await committed(admin, group, ends)
                    first_commit = first_commit or (now if count else None)
                    done_consumed = now if count >= len(stream) else None
                if now - last_report >= 10:
                    print(f"  {now - started:5.0f} s: {len(requests.ids)}/{expected} requests")
                    last_report = now
                await asyncio.sleep(0.05)
            cpu, rss = cpu_seconds(pid), peak_rss_mib(pid)
            first_request = requests.first or done_requests
            first_commit = first_commit or done_consumed
            seen = len(requests.ids)
    finally:
        await admin.close()
        code = tracker.stop()
    if code != 0:
        raise RuntimeError(f"the tracker exited with {code}:\n{tracker.log()}")
    finished = max(done_requests, done_consumed)
    steady = len(stream) / (finished - first_commit)
    sources = [topics["orders"], topics["shipments"]]
    baseline, _ = await passthrough_through(
        bootstrap, sources, topics["passed"], workdir, len(stream), database
    )
    return Result(
        database=database,
        orders=orders,
        events=len(stream),
        expected_requests=expected,
        requests_seen=seen,
        produce_seconds=round(produce_seconds, 2),
        startup_seconds=round(first_commit - started, 2),
        first_request_seconds=round(first_request - started, 2),
        requests_seconds=round(done_requests - started, 2),
        consumed_seconds=round(done_consumed - started, 2),
        events_per_second=round(len(stream) / (finished - started), 1),
        requests_per_second=round(expected / (done_requests - started), 1),
        steady_events_per_second=round(steady, 1),
        cpu_seconds=round(cpu, 2),
        peak_rss_mib=round(rss, 1),
        passthrough_events_per_second=round(baseline, 1),
        ratio=round(steady / baseline, 3),
    )


def table(results: list[Result]) -> str:
    """The results as a plain text table."""
    columns = [
        ("database", "database", "{}"),
        ("orders", "orders", "{}"),
        ("events", "events", "{}"),
        ("requests", "expected_requests", "{}"),
        ("startup s", "startup_seconds", "{:.1f}"),
        ("1st request s", "first_request_seconds", "{:.1f}"),
        ("all out s", "requests_seconds", "{:.1f}"),
        ("events/s in", "events_per_second", "{:.0f}"),
        ("steady ev/s", "steady_events_per_second", "{:.0f}"),
        ("requests/s out", "requests_per_second", "{:.0f}"),
        ("CPU s", "cpu_seconds", "{:.1f}"),
        ("CPU ms/event", "cpu_ms_per_event", "{:.1f}"),
        ("peak RSS MiB", "peak_rss_mib", "{:.0f}"),
        ("pass-through ev/s", "passthrough_events_per_second", "{:.0f}"),
        ("steady/pass-through", "ratio", "{:.2f}"),
    ]
    rows = [
        {**asdict(result), "cpu_ms_per_event": 1000 * result.cpu_seconds / result.events}
        for result in results
    ]
    return measure.table(columns, rows)


def save(results: list[Result], argv: dict[str, Any], bootstrap_source: str) -> Path:
    run = {"args": argv, "kafka": bootstrap_source, "results": [asdict(r) for r in results]}
    return measure.append_run("tracker", run)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=2000, help="journeys (default 2000)")
    parser.add_argument(
        "--databases",
        default="sqlite,postgresql",
        help="comma-separated: sqlite, postgresql (default both)",
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep it (logs, databases); default: a temporary directory",
    )
    args = parser.parse_args()
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    results = []
    with contextlib.ExitStack() as stack:
        workdir = work_directory(stack, args.keep)
        async with kafka_bootstrap(workdir / "kafka") as bootstrap:
            for kind in kinds:
                async with database(kind, workdir) as url:
                    results.append(await run(bootstrap, kind, url, args.orders, workdir / kind))
    print()
    print(table(results))
    path = save(results, {"orders": args.orders, "databases": kinds}, kafka_source())
    print(f"\nwritten to {path.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
