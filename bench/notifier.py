"""How many notifications per second one notifier process sends, on a real broker.

    uv run python bench/notifier.py [--requests N] [--scenarios a,b,...] [--rounds R]
        [--keep DIR] [--profile DIR]

Scenarios, side by side in one run (on a small, noisy machine their ratios say more than any
one number):

- sqlite/outbox, postgresql/outbox: email and SMS both written to the local outbox (files, in
  memory where /dev/shm is), the delivery store on SQLite or PostgreSQL; no provider latency.
- sqlite/peers-0ms, sqlite/peers-100ms: email over SMTP to devkit's SmtpCatcher and SMS to its
  TwilioFake, answering at once or after 100 ms. The Twilio send rate is raised to 10000/s so
  that the rate limit (10/s by default) caps nothing; concurrent sends must hide the latency.

For each: new topics (3 partitions), N `order_dispatched` notification requests (one per order,
each with its own notification id, order number and subject; the customer has email and SMS
consent) produced BEFORE the notifier starts, then its migrations step and one notifier process
(`python -m orderpulse_notifier`, as Kubernetes runs them) and a stopwatch on the outcomes topic.
Throughput is measured from the first poll taken (the notifier's log) to the last outcome (its
record timestamp): notifications/s (each one email and one SMS) and sends/s. CPU is the process's
own, during that window and in all. Checked: exactly 2N `notification.sent` outcomes, one per
(notification, channel), and exactly N emails and N texts at the peers or in the outbox, none
twice. Then, in the same run, a bare aiokafka pass-through (bench/passthrough.py) through the first
scenario's backlog, and each scenario's rate over it.

With `--rounds R` the scenarios run R times, one after another (a, b, a, b): what latency costs is
then told per round, from two runs side by side, and as the median of those ratios.

The broker is `KAFKA_BOOTSTRAP_SERVERS` when set, else a local one in a temporary directory; the
same goes for PostgreSQL and `ORDERPULSE_TEST_POSTGRES_URL`. The peers run in a child
process of their own (one for both), so they share the two cores with the notifier and the
broker, but not this process's interpreter. Results are printed
and appended to bench/results/notifier-<date>.json.
"""

import argparse
import asyncio
import contextlib
import itertools
import json
import re
import statistics
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import measure
from aiokafka import AIOKafkaProducer
from measure import (
    TWILIO_MAX_SEND_RATE,
    child_pid,
    cpu_seconds,
    database,
    kafka_source,
    passthrough_through,
    peak_rss_mib,
    providers,
    received,
    work_directory,
)

from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.records import NotificationWatch
from orderpulse_devkit.services import REPO, ServiceProcess, announce_everything, service_settings
from orderpulse_schemas import examples

PARTITIONS = 3
TIMEOUT = 120.0
"""Seconds one scenario may take before it is given up."""
SETTLE = 1.0
"""Seconds to keep watching after the last expected outcome, to catch any extra."""
SCENARIOS = ("sqlite/outbox", "postgresql/outbox", "sqlite/peers-0ms", "sqlite/peers-100ms")
LATENCIES = {"outbox": None, "peers-0ms": 0.0, "peers-100ms": 0.1}
"""Provider latency per scenario (seconds); None: the outbox."""
_RETRY_LINE = re.compile(r" attempt \d+: ")


@dataclass
class Result:
    scenario: str
    round: int
    requests: int
    produce_seconds: float
    startup_seconds: float
    """Notifier start to its first batch taken (imports, group join)."""
    first_outcome_seconds: float
    """Notifier start to its first outcome (outcomes are published when a batch is done)."""
    window_seconds: float
    """First batch taken (the notifier's log) to the last outcome (its record timestamp)."""
    batches: int
    notifications_per_second: float
    sends_per_second: float
    cpu_seconds: float
    """The notifier's CPU during the window (sampled when the log showed the first batch, and
    when the last outcome was seen)."""
    cpu_total_seconds: float
    peak_rss_mib: float
    outcomes: int
    sent: int
    distinct_sends: int
    emails: int
    distinct_emails: int
    texts: int
    distinct_texts: int
    retries_logged: int
    ok: bool
    passthrough_events_per_second: float = float("nan")
    ratio: float = float("nan")
    """Notifications/s over the pass-through's events/s."""


def requests(count: int, suffix: str) -> list[dict[str, Any]]:
    """`count` order_dispatched requests, one per order, from the contract's example."""
    result = []
    for n in range(count):
        request = examples.load("notifications.v1", "notification.requested.order_dispatched")
        number = f"9{n:06d}"
        request["id"] = f"evt-bench-{suffix}-{number}"
        request["subject"] = f"ord-{number}"
        data = request["data"]
        data["notification_id"] = f"bench-{suffix}-{number}/order_dispatched"
        data["order_number"] = number
        data["customer"]["consent"] = {"email": True, "sms": True}
        assert data["customer"]["email"] and data["customer"]["phone"]
        result.append(request)
    return result


async def produce(bootstrap: str, topic: str, messages: list[dict[str, Any]]) -> float:
    """Put the requests on the topic, keyed by order; how long it took."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=20)
    await producer.start()
    started = time.monotonic()
    try:
        for message in messages:
            value = json.dumps(message, ensure_ascii=False).encode()
            await producer.send(topic, value, key=message["subject"].encode())
        await producer.flush()
    finally:
        await producer.stop()
    return time.monotonic() - started


async def run(
    bootstrap: str,
    scenario: str,
    in_round: int,
    database_url: str | None,
    count: int,
    workdir: Path,
    profile: Path | None = None,
) -> tuple[Result, tuple[str, str]]:
    """One notifier process through a pre-loaded backlog of `count` requests; the result, the
    requests' topic and one for a pass-through of them. With `profile`, the process runs under
    cProfile and writes its statistics there (CPU figures then include the profiler's)."""
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"bench-{name}-{suffix}" for name in ("notifications", "outcomes", "passed")}
    await create_topics(bootstrap, topics.values(), partitions=PARTITIONS)
    shops = announce_everything(workdir)  # creates the run's directory
    env = service_settings("notifier", bootstrap, workdir, database_url, shops_file=shops)
    env.update(
        NOTIFIER_NOTIFICATIONS_TOPIC=(topic := topics["notifications"]),
        NOTIFIER_OUTCOMES_TOPIC=topics["outcomes"],
        NOTIFIER_GROUP_ID=f"notifier-bench-{suffix}",
    )
    print(f"[{scenario}] producing {count} requests …", flush=True)
    produce_seconds = await produce(bootstrap, topics["notifications"], requests(count, suffix))
    expected = 2 * count

    with contextlib.ExitStack() as stack:
        latency = LATENCIES[scenario.split("/")[1]]
        peer_settings, smtp, twilio = providers(stack, latency)
        env.update(peer_settings)
        profiled = ("-m", "cProfile", "-o", str(profile)) if profile else ()
        notifier = ServiceProcess("notifier", env, workdir, python_options=profiled)
        notifier.migrate()
        try:
            async with NotificationWatch(bootstrap, topics["outcomes"]) as outcomes:
                started = time.monotonic()
                notifier.start()
                pid = child_pid("orderpulse_notifier")
                print(f"[{scenario}] notifier pid {pid} started; waiting …", flush=True)
                cpu_first = taken = None
                taken_at = started
                last_report = started
                while len(outcomes.records) < expected:
                    if not notifier.running:
                        raise RuntimeError(f"the notifier died:\n{notifier.log()}")
                    now = time.monotonic()
                    if now - started > TIMEOUT:
                        raise TimeoutError(
                            f"{len(outcomes.records)}/{expected} outcomes after {TIMEOUT:g} s:\n"
                            + notifier.log(30)
                        )
                    if taken is None and (taken := first_batch(notifier.log_path, topic)):
                        cpu_first, taken_at = cpu_seconds(pid), now
                    if now - last_report >= 10:
                        print(f"  {now - started:5.0f} s: {len(outcomes.records)}/{expected}")
                        last_report = now
                    await asyncio.sleep(0.05)
                cpu_last, rss = cpu_seconds(pid), peak_rss_mib(pid)
                await asyncio.sleep(SETTLE)
                records = list(outcomes.records)
                first = outcomes.first or started
                log = notifier.log_path.read_text()
        finally:
            code = notifier.stop()
        emails, texts = received(env, smtp, twilio)
    if code != 0:
        raise RuntimeError(f"the notifier exited with {code}:\n{notifier.log()}")

    values = [json.loads(record.value) for record in records]
    types = Counter(value["type"] for value in values)
    sends = {(v["data"]["notification_id"], v["data"]["channel"]) for v in values}
    taken = taken or first_batch(notifier.log_path, topic)
    assert taken is not None, "no batch in the log, yet outcomes came"
    window = max(r.timestamp for r in records) / 1000 - taken
    result = Result(
        scenario=scenario,
        round=in_round,
        requests=count,
        produce_seconds=round(produce_seconds, 2),
        startup_seconds=round(taken_at - started, 2),
        first_outcome_seconds=round(first - started, 2),
        window_seconds=round(window, 2),
        batches=len(measure.batches(log, topic)),
        notifications_per_second=round(count / window, 1) if window else float("nan"),
        sends_per_second=round(expected / window, 1) if window else float("nan"),
        cpu_seconds=round(cpu_last - (cpu_first or 0.0), 2),
        cpu_total_seconds=round(cpu_last, 2),
        peak_rss_mib=round(rss, 1),
        outcomes=len(records),
        sent=types["notification.sent"],
        distinct_sends=len(sends),
        emails=len(emails),
        distinct_emails=len(set(emails)),
        texts=len(texts),
        distinct_texts=len(set(texts)),
        retries_logged=len(_RETRY_LINE.findall(log)),
        ok=False,
    )
    result.ok = (
        result.outcomes == result.sent == result.distinct_sends == expected
        and result.emails == result.distinct_emails == count
        and result.texts == result.distinct_texts == count
    )
    if not result.ok:
        print(f"[{scenario}] CHECK FAILED: outcome types {dict(types)}; log tail:")
        print(notifier.log(30))
    return result, (topic, topics["passed"])


def first_batch(log: Path, topic: str) -> float | None:
    """When (epoch seconds) the notifier took its first batch, from its log; None before."""
    lines = measure.handling(log.read_text(), topic) if log.exists() else []
    return next((moment for moment, what in lines if what == "Received"), None)


def table(results: list[Result]) -> str:
    """The results as a plain text table."""
    columns = [
        ("scenario", "scenario", "{}"),
        ("round", "round", "{}"),
        ("requests", "requests", "{}"),
        ("startup s", "startup_seconds", "{:.1f}"),
        ("batches", "batches", "{}"),
        ("window s", "window_seconds", "{:.2f}"),
        ("notif/s", "notifications_per_second", "{:.0f}"),
        ("sends/s", "sends_per_second", "{:.0f}"),
        ("CPU s", "cpu_seconds", "{:.1f}"),
        ("CPU % of window", "cpu_share", "{:.0f}"),
        ("CPU ms/notif", "cpu_ms_per_notification", "{:.2f}"),
        ("CPU total s", "cpu_total_seconds", "{:.1f}"),
        ("RSS MiB", "peak_rss_mib", "{:.0f}"),
        ("outcomes sent", "sent", "{}"),
        ("emails", "emails", "{}"),
        ("texts", "texts", "{}"),
        ("retries", "retries_logged", "{}"),
        ("ok", "ok", "{}"),
        ("pass-through ev/s", "passthrough_events_per_second", "{:.0f}"),
        ("notif/s / pass-through", "ratio", "{:.3f}"),
    ]
    rows = [
        {
            **asdict(result),
            "cpu_share": 100 * result.cpu_seconds / result.window_seconds,
            "cpu_ms_per_notification": 1000 * result.cpu_seconds / result.requests,
        }
        for result in results
    ]
    return measure.table(columns, rows)


def latency_costs(results: list[Result]) -> list[float]:
    """peers-100ms throughput over peers-0ms throughput in each round both ran in: what latency
    costs."""
    rounds: dict[int, dict[str, float]] = {}
    for result in results:
        rounds.setdefault(result.round, {})[result.scenario] = result.notifications_per_second
    return [
        round(by_name["sqlite/peers-100ms"] / by_name["sqlite/peers-0ms"], 3)
        for by_name in rounds.values()
        if "sqlite/peers-0ms" in by_name and "sqlite/peers-100ms" in by_name
    ]


def save(results: list[Result], argv: dict[str, Any], bootstrap_source: str) -> Path:
    run = {
        "args": argv,
        "kafka": bootstrap_source,
        "settings": {"twilio_max_send_rate": TWILIO_MAX_SEND_RATE, "poll": "default"},
        "results": [asdict(result) for result in results],
        "latency_100ms_over_0ms_by_round": (costs := latency_costs(results)),
        "latency_100ms_over_0ms": statistics.median(costs) if costs else None,
    }
    return measure.append_run("notifier", run)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=5000, help="requests (default 5000)")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default all)",
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="run the scenarios R times, in turn (default 1)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="work in DIR and keep it (logs, databases; not the outbox, written in memory); "
        "default: a temporary directory",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each notifier under cProfile, its statistics in DIR/<scenario>.prof",
    )
    args = parser.parse_args()
    scenarios = [name.strip() for name in args.scenarios.split(",") if name.strip()]
    results, topics = [], []
    with contextlib.ExitStack() as stack:
        workdir = work_directory(stack, args.keep)
        async with kafka_bootstrap(workdir / "kafka") as bootstrap:
            for n, scenario in itertools.product(range(1, args.rounds + 1), scenarios):
                name = scenario.replace("/", "-") + (f"-{n}" if args.rounds > 1 else "")
                async with database(scenario.split("/")[0], workdir) as url:
                    profile = args.profile and args.profile / f"{name}.prof"
                    result, topic = await run(
                        bootstrap, scenario, n, url, args.requests, workdir / name, profile
                    )
                results.append(result)
                topics.append(topic)
            source, passed = topics[0]
            baseline, _ = await passthrough_through(
                bootstrap, [source], passed, workdir, args.requests, "pass-through"
            )
    for result in results:
        result.passthrough_events_per_second = round(baseline, 1)
        result.ratio = round(result.notifications_per_second / baseline, 3)
    print()
    print(table(results))
    if costs := latency_costs(results):
        each = ", ".join(f"{cost:.2f}" for cost in costs)
        print(f"\npeers-100ms / peers-0ms throughput: {statistics.median(costs):.2f} ({each})")
    argv = {"requests": args.requests, "scenarios": scenarios, "rounds": args.rounds}
    path = save(results, argv, kafka_source())
    print(f"\nwritten to {path.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
