"""How fast one returns-service process works through a backlog, against a bare pass-through.

    uv run python bench/returns.py [--orders N] [--databases sqlite,postgresql] [--keep DIR]
        [--profile DIR]

For each database: new topics (3 partitions) and a new consumer group, and BEFORE the service
starts, keyed by order id, the returns service's inputs for N orders: an `order.status_changed`
to `delivered` for every order (on the order-status topic) and, for every other order, a
`return.requested` after it (on the returns topic); the examples' dates are moved by whole days
so that the return was asked for within the last day (never ahead of the clock: that is
dead-lettered) and the arrival a day before it, inside the return period, and no reminder comes
due. The shops file announces everything and keeps the shop's returns policy.
Then one returns process (`python -m orderpulse_returns`) and a stopwatch until the group's
offsets are committed to the end of the input topics; the notification requests it produced are
counted. Then bench/passthrough.py (a bare aiokafka consume → produce → commit loop) goes
through the same backlog with a group of its own.

Reported: events/s in (total, from the service's start; steady, the events committed after its
first commit over the time from that commit to the end),
notification requests out, the service's CPU seconds, CPU ms/event (all of it, and steady: from
its first commit on) and peak RSS, the
pass-through's events/s (from its first record forwarded to its last) and the ratio of the
service's steady rate to it. Everything it starts (broker, PostgreSQL, processes) it stops.

The broker is `KAFKA_BOOTSTRAP_SERVERS` when set, else a local one in a temporary directory; the
same goes for PostgreSQL and `ORDERPULSE_TEST_POSTGRES_URL`. Results are printed and appended to
bench/results/returns-<date>.json. `--profile DIR` runs each returns process under cProfile
(statistics in DIR/<database>.prof) and prints where its time went; results are then not saved
(the profiler slows the service down).
"""

import argparse
import asyncio
import contextlib
import json
import math
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import measure
import pipeline_report
import yaml
from aiokafka import AIOKafkaProducer, TopicPartition
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

from orderpulse_devkit.journeys import later
from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.records import NotificationWatch, RecordWatch
from orderpulse_devkit.services import REPO, ServiceProcess, announce_everything, service_settings
from orderpulse_schemas import examples

PARTITIONS = 3
TIMEOUT = 900.0
"""Seconds a run may take before it is given up."""
SETTLE_SECONDS = 2.0
"""After the offsets reach the end: how long the notifications topic must stay quiet."""
EXAMPLE_RETURN = "ret-10045-1"


@dataclass
class Result:
    database: str
    orders: int
    events: int
    returns_requested: int
    requests_seen: int
    produce_seconds: float
    startup_seconds: float
    """Service start to its first committed offset (imports, migrations, joining, first batch)."""
    consumed_seconds: float
    """Service start to the group's offsets committed at the end of the input topics."""
    events_per_second: float
    steady_events_per_second: float
    """The events after the first commit over the time from it to the end (startup and the
    first batch left out)."""
    cpu_seconds: float
    cpu_ms_per_event: float
    steady_cpu_ms_per_event: float
    """The service's CPU from its first commit to the end over the events committed meanwhile
    (start-up left out: imports, compiling, migrations)."""
    peak_rss_mib: float
    passthrough_events_per_second: float
    """The pass-through through the same backlog, from its first record forwarded to its last."""
    passthrough_cpu_ms_per_event: float
    ratio: float
    """The service's steady events/s over the pass-through's."""


def backlog(count: int) -> tuple[list[list[dict[str, Any]]], int]:
    """For each order its delivery and, for every other order, a return request after it.

    Dated so the request was made within the last day, its arrival the day before: inside the
    return period, and no event dated ahead of the consumer's clock.
    """
    delivered = examples.load("order-status.v1", "order.status_changed")
    requested = examples.load("returns.v1", "return.requested")
    days = (datetime.now(UTC) - datetime.fromisoformat(requested["time"])).days
    by_order, returns = [], 0
    for n in range(count):
        number = f"{700000 + n}"
        order = f"ord-{number}"
        arrival = json.loads(json.dumps(delivered))
        arrival.update(id=f"evt-st-{number}-delivered", subject=order)
        arrival["data"].update(order_number=number, cause_id=f"evt-bench-{number}-delivered")
        story = [later(arrival, days)]
        if n % 2 == 0:
            request = json.loads(json.dumps(requested).replace(EXAMPLE_RETURN, f"ret-{number}-1"))
            request.update(id=f"evt-{order}-return-requested", subject=order)
            story.append(later(request, days))
            returns += 1
        by_order.append(story)
    return by_order, returns


def shops_with_returns(workdir: Path) -> Path:
    """The announce-everything shops file; it must keep a returns policy."""
    path = announce_everything(workdir)
    shops = yaml.safe_load(path.read_text(encoding="utf-8"))["shops"]
    shop = examples.load("returns.v1", "return.requested")["shopid"]
    if "returns" not in shops.get(shop, {}):
        raise RuntimeError(f"{path}: shop {shop} has no returns policy")
    return path


async def produce(bootstrap: str, stream: list[dict[str, Any]], topics: dict[str, str]) -> float:
    """Put the whole stream on the input topics, keyed by order id; how long it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    started = time.monotonic()
    try:
        for message in stream:
            topic = topics["order_status" if message["type"].startswith("order.") else "returns"]
            value = json.dumps(message, ensure_ascii=False).encode()
            await producer.send(topic, value, key=message["subject"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    return time.monotonic() - started


async def until_quiet(watch: RecordWatch, seconds: float) -> None:
    """Wait until `watch` has taken no record for `seconds` (at most 30 s)."""
    deadline, last, since = time.monotonic() + 30, len(watch.records), time.monotonic()
    while time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        if len(watch.records) != last:
            last, since = len(watch.records), time.monotonic()
        elif time.monotonic() - since >= seconds:
            return


async def service_through(
    bootstrap: str,
    env: dict[str, str],
    workdir: Path,
    group: str,
    ends: dict[TopicPartition, int],
    events: int,
    notifications: str,
    label: str,
    profile: Path | None,
) -> dict[str, Any]:
    """One returns process through the backlog: its timings, CPU, RSS and requests; under
    cProfile, its statistics written to `profile`."""
    profiled = ("-m", "cProfile", "-o", str(profile)) if profile else ()
    service = ServiceProcess("returns", env, workdir, python_options=profiled)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        async with NotificationWatch(bootstrap, notifications) as requests:
            started = time.monotonic()
            service.start()
            pid = child_pid("orderpulse_returns")
            print(f"[{label}] returns pid {pid} started; waiting …", flush=True)
            first_commit = done = None
            first_count, first_cpu = 0, 0.0
            last_report = started
            while done is None:
                if not service.running:
                    raise RuntimeError(f"the returns service died:\n{service.log()}")
                now = time.monotonic()
                if now - started > TIMEOUT:
                    raise TimeoutError(f"not through after {TIMEOUT} s:\n{service.log(20)}")
                count = await committed(admin, group, ends)
                if first_commit is None and count:
                    first_commit, first_count, first_cpu = now, count, cpu_seconds(pid)
                done = now if count >= events else None
                if now - last_report >= 10:
                    print(f"  {now - started:5.0f} s: {count}/{events} committed", flush=True)
                    last_report = now
                await asyncio.sleep(0.05)
            cpu, rss = cpu_seconds(pid), peak_rss_mib(pid)
            await until_quiet(requests, SETTLE_SECONDS)
            seen = len(requests.ids)
    finally:
        await admin.close()
        code = service.stop()
    if code != 0:
        raise RuntimeError(f"the returns service exited with {code}:\n{service.log()}")
    assert first_commit is not None
    return {
        "startup": first_commit - started,
        "consumed": done - started,
        "total_rate": events / (done - started),
        "steady_rate": (
            (events - first_count) / (done - first_commit) if done > first_commit else math.nan
        ),
        "cpu": cpu,
        "steady_cpu": (cpu - first_cpu) / (events - first_count) if events > first_count else 0,
        "rss": rss,
        "seen": seen,
    }


async def run(
    bootstrap: str,
    database: str,
    database_url: str | None,
    orders: int,
    workdir: Path,
    profile: Path | None,
) -> Result:
    """One returns process, then the pass-through, through a pre-loaded backlog."""
    suffix = uuid.uuid4().hex[:8]
    names = ("order_status", "returns", "erasure", "notifications", "passed")
    topics = {name: f"bench-{name}-{suffix}" for name in names}
    await create_topics(bootstrap, topics.values(), partitions=PARTITIONS)
    group = f"returns-bench-{suffix}"
    shops = shops_with_returns(workdir)  # creates the run's directory
    env = service_settings("returns", bootstrap, workdir, database_url, shops_file=shops)
    env.update(
        RETURNS_GROUP_ID=group,
        RETURNS_ORDER_STATUS_TOPIC=topics["order_status"],
        RETURNS_RETURNS_TOPIC=topics["returns"],
        RETURNS_ERASURE_TOPIC=topics["erasure"],
        RETURNS_NOTIFICATIONS_TOPIC=topics["notifications"],
    )

    by_order, returns = backlog(orders)
    stream = interleaved(by_order)
    print(f"[{database}] producing {len(stream)} events of {orders} orders …", flush=True)
    produce_seconds = await produce(bootstrap, stream, topics)
    inputs = [topics["order_status"], topics["returns"], topics["erasure"]]
    ends = await end_offsets(bootstrap, inputs, PARTITIONS)
    assert sum(ends.values()) == len(stream), f"{sum(ends.values())} on the topics"

    got = await service_through(
        bootstrap,
        env,
        workdir,
        group,
        ends,
        len(stream),
        topics["notifications"],
        database,
        profile,
    )
    print(
        f"[{database}] returns: {got['steady_rate']:.0f} events/s steady, "
        f"{got['seen']} notification requests",
        flush=True,
    )
    if got["seen"] != len(stream):  # each event asks for one: the rest were dead-lettered
        raise RuntimeError(f"{got['seen']} notification requests for {len(stream)} events")
    baseline, baseline_cpu = await passthrough_through(
        bootstrap, inputs, topics["passed"], workdir, len(stream), database
    )
    print(f"[{database}] pass-through: {baseline:.0f} events/s", flush=True)
    return Result(
        database=database,
        orders=orders,
        events=len(stream),
        returns_requested=returns,
        requests_seen=got["seen"],
        produce_seconds=round(produce_seconds, 2),
        startup_seconds=round(got["startup"], 2),
        consumed_seconds=round(got["consumed"], 2),
        events_per_second=round(got["total_rate"], 1),
        steady_events_per_second=round(got["steady_rate"], 1),
        cpu_seconds=round(got["cpu"], 2),
        cpu_ms_per_event=round(1000 * got["cpu"] / len(stream), 3),
        steady_cpu_ms_per_event=round(1000 * got["steady_cpu"], 3),
        peak_rss_mib=round(got["rss"], 1),
        passthrough_events_per_second=round(baseline, 1),
        passthrough_cpu_ms_per_event=round(baseline_cpu, 3),
        ratio=round(got["steady_rate"] / baseline, 3),
    )


def table(results: list[Result]) -> str:
    """The results as a plain text table."""
    columns = [
        ("database", "database", "{}"),
        ("orders", "orders", "{}"),
        ("events", "events", "{}"),
        ("requests out", "requests_seen", "{}"),
        ("startup s", "startup_seconds", "{:.1f}"),
        ("all in s", "consumed_seconds", "{:.1f}"),
        ("events/s in", "events_per_second", "{:.0f}"),
        ("steady ev/s", "steady_events_per_second", "{:.0f}"),
        ("CPU s", "cpu_seconds", "{:.1f}"),
        ("CPU ms/event", "cpu_ms_per_event", "{:.3f}"),
        ("steady CPU ms/event", "steady_cpu_ms_per_event", "{:.3f}"),
        ("peak RSS MiB", "peak_rss_mib", "{:.0f}"),
        ("pass-through ev/s", "passthrough_events_per_second", "{:.0f}"),
        ("steady/pass-through", "ratio", "{:.2f}"),
    ]
    return measure.table(columns, [asdict(result) for result in results])


def save(results: list[Result], argv: dict[str, Any], bootstrap_source: str) -> Path:
    run = {"args": argv, "kafka": bootstrap_source, "results": [asdict(r) for r in results]}
    return measure.append_run("returns", run)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=4000, help="orders (default 4000)")
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
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each returns process under cProfile, its statistics in DIR/<database>.prof",
    )
    args = parser.parse_args()
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    kinds = [kind.strip() for kind in args.databases.split(",") if kind.strip()]
    results = []
    with contextlib.ExitStack() as stack:
        workdir = work_directory(stack, args.keep)
        async with kafka_bootstrap(workdir / "kafka") as bootstrap:
            for kind in kinds:
                async with database(kind, workdir) as url:
                    profile = args.profile and args.profile.absolute() / f"{kind}.prof"
                    results.append(
                        await run(bootstrap, kind, url, args.orders, workdir / kind, profile)
                    )
    print()
    print(table(results))
    if args.profile:
        for kind in kinds:
            pipeline_report.print_profile(args.profile / f"{kind}.prof")
        print("profiled: results not saved (the profiler slows the service down)")
        return
    path = save(results, {"orders": args.orders, "databases": kinds}, kafka_source())
    print(f"\nwritten to {path.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
