"""Throughput and latency of the whole pipeline on one machine, against the raw Kafka ceiling.

    uv run --group bench python bench/pipeline.py [--journeys N] [--rate R] [--burst-rate B]
        [--scenarios outbox,peers,latency-100ms,burst] [--warm-up S] [--timeout S] [--keep DIR]
        [--profile SERVICE]

One broker for the whole run (KAFKA_BOOTSTRAP_SERVERS when set, else a local one).

Baseline first: bench/passthrough.py, a bare aiokafka consume → produce process, works through a
backlog of the same serialized events (its ceiling in messages/s), then forwards them at each
scenario's pace (its latency: event time → the forwarded record's timestamp).

Then each scenario gets fresh topics (3 partitions), databases and consumer groups, and the three
services as processes (status-tracker, returns, notifier; every kind announced on email and SMS at
any hour; each after its migrations step, as Kubernetes' init container runs it). After a warm-up
(a few journeys, or S seconds of them at R events/s), N journeys (workload.py: home and pickup
deliveries, delays, returns; cs, sk, pl, en) are published at the scenario's pace, each event's
`time` the moment it is sent, and the run waits until every expected notification has its outcomes
(or the timeout), then a little longer to catch extras. Checked: each expected request once on the
notifications topic (by notification id and kind), each (notification, channel) `notification.sent`
once, the emails and texts at the providers, nothing dead-lettered.

Scenarios: `outbox` (no provider latency; its files in memory where /dev/shm is), `peers` (SMTP
and Twilio peers answering at once) and `latency-100ms` (the peers answering after 100 ms), N
journeys at R events/s; `burst`: B events/s for 10 s, 10 B for 5 s, B for 15 s. What 100 ms of
latency costs is `latency-100ms` against `peers`: the same clients and peers on the same cores,
only slower answers (against `outbox` it would count the peers' CPU and the clients' too).

Measured per scenario:
- throughput: events/s through the whole pipeline (first event published → last message
  accepted), events/s taken in by the tracker and returns (their groups' committed offsets),
  notifications/s completed (outcomes' times, first → last). When the pace outruns the pipeline,
  as 500 events/s does, it works through a backlog and these are its capacity; when it keeps
  up, they are only the pace (the table marks them);
- latency per message a provider accepted: the `notification.sent` outcome's time (taken right
  after the provider's answer) minus its request's time (the causing event's time); p50, p95,
  p99, and for the burst by the phase its event was sent in;
- CPU seconds (and % of one core) over the window and peak RSS of each service, the broker (when
  local), the provider peers' process and this one (publisher, watchers), how busy the machine
  was, and how long the notifier took per batch (from its log).

Every figure is also given as a ratio to the baseline's. Results are printed, appended to
bench/results/pipeline-<date>.json and drawn in bench/results/pipeline-<date>.png.
`--profile SERVICE` runs that service under cProfile and prints where its time went (results are
not saved: the profiler slows it down).
"""

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import measure
import pipeline_plot
import pipeline_report as report
import workload
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from measure import (
    CPUS,
    child_pid,
    committed,
    cpu_seconds,
    end_offsets,
    interleaved,
    machine_cpu_seconds,
    peak_rss_mib,
    percentiles,
    providers,
    received,
    run_queue_seconds,
)
from workload import Journey, Phase

from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.processes import log_tail
from orderpulse_devkit.records import RecordWatch
from orderpulse_devkit.services import (
    MODULES,
    REPO,
    ServiceProcess,
    announce_everything,
    service_settings,
)

PARTITIONS = 3
PROVIDER_LATENCY = 0.1
CHANNELS = 2
"""Email and SMS: every customer has both and consents, every kind goes on both."""
WARM_UP_JOURNEYS = 3
"""Published at once before each scenario, unless `--warm-up` asks for seconds of them."""
BASELINE_BACKLOG_JOURNEYS = 3200
"""About 20,000 events: a few seconds of the pass-through's work."""
SAMPLE_SECONDS = 0.5
SETTLE_SECONDS = 2.0
"""How long to keep watching after the last expected outcome, to catch any extra."""
READY_TIMEOUT = 120.0
BURST_SECONDS = (10.0, 5.0, 15.0)
"""The burst scenario: B events/s this long, then 10 B, then B (about) this long."""
TOPICS = ("orders", "shipments", "returns", "erasure", "order_status", "notifications", "outcomes")
"""A scenario's topics; each is read by a service, so each has a dead-letter topic too."""
SETTINGS = {
    "status-tracker": (
        "orders",
        "shipments",
        "erasure",
        "outcomes",
        "order_status",
        "notifications",
    ),
    "returns": ("order_status", "returns", "erasure", "notifications"),
    "notifier": ("notifications", "erasure", "outcomes"),
}
"""The topics each service is told (its `<PREFIX><NAME>_TOPIC` settings)."""
INPUTS = {"status-tracker": ("orders", "shipments"), "returns": ("returns",)}
"""Which consumer group takes in which of the published topics."""


@dataclass(frozen=True)
class Scenario:
    name: str
    journeys: int
    phases: tuple[Phase, ...]
    provider_latency: float | None = None

    def pace(self) -> str:
        """The pace in words, e.g. "20/s, 200/s for 5 s, 20/s"."""
        parts = [f"{phase.rate:g}/s" for phase in self.phases]
        if len(self.phases) > 1:
            parts[1] += f" for {self.phases[1].seconds:g} s"
        return ", ".join(parts)


@dataclass
class Sample:
    """The state of things at one moment of a load."""

    at: float
    """Epoch seconds."""
    consumed: int
    """Input events the consumer groups have committed."""
    cpu: dict[str, float]
    """CPU seconds so far, per process."""
    machine: float
    """Busy CPU seconds of the whole machine so far."""
    waited: dict[str, float] = field(default_factory=dict)
    """Seconds each process has waited for a core so far (`measure.run_queue_seconds`)."""


@dataclass
class Observed:
    """The raw observations of one load, for the figures and the picture."""

    name: str
    sent: list[float] = field(default_factory=list)
    """When each event was published (epoch seconds)."""
    accepted: list[float] = field(default_factory=list)
    """When each message was accepted: by a provider, or (pass-through) by the producer."""
    notified: list[float] = field(default_factory=list)
    """When each notification's last message was accepted."""
    latencies_ms: list[float] = field(default_factory=list)
    phase_latencies_ms: list[list[float]] = field(default_factory=list)
    """The latencies by the phase of the pace their causing event was sent in."""
    samples: list[Sample] = field(default_factory=list)


@dataclass
class ScenarioResult:
    scenario: str
    pace: str
    provider_latency_ms: float
    journeys: int
    events: int
    offered_events_per_second: float
    ready_seconds: float
    """Services started → the warm-up's notifications sent (imports, group joins, first work; and
    the seconds of journeys of `--warm-up`)."""
    publish_seconds: float
    drain_seconds: float
    """Last event published → last message accepted: how far the pipeline fell behind."""
    saturated: bool
    """It fell behind (drained for over two seconds): the throughput figures are its capacity,
    else they are only the pace it was offered."""
    complete: bool
    """Every expected outcome came before the timeout."""
    ok: bool
    """Complete, and nothing missing, duplicated, failed or dead-lettered."""
    requests_expected: int
    requests_seen: int
    requests_distinct: int
    kinds_differing: dict[str, list[int]]
    """Kinds whose number of requests differs: [expected, seen]."""
    sends_expected: int
    outcomes_seen: int
    sends_distinct: int
    sent: int
    emails_received: int
    texts_received: int
    """At the providers (outbox files or peers), warm-up included."""
    dead_letters: int
    events_per_second: float
    """Events through the whole pipeline: first event published → last message accepted."""
    events_in_per_second: float
    """Events taken in (committed) by the tracker and returns: first published → last taken."""
    notifications_per_second: float
    """Notifications (requests) whose messages were accepted: first acceptance → last."""
    sends_per_second: float
    latency_ms: dict[str, float]
    latency_ms_by_phase: dict[str, dict[str, float]]
    """With more than one phase (burst): by the phase the causing event was sent in."""
    latency_ms_by_hop: dict[str, dict[str, float]]
    latency_ms_by_turn: dict[str, dict[str, float]]
    """Messages that waited for their order's message before them on the channel (its turn),
    and the rest; with each group's share of the messages in "share"."""
    notifier_batches: int
    notifier_batch_seconds: dict[str, float]
    """How long the notifier took per batch of requests (it publishes their outcomes after)."""
    cpu_seconds: dict[str, float]
    """Per process, over the window: first event published → quiet."""
    cpu_percent: dict[str, float]
    """Of one core, per process, over the window."""
    machine_cpu_percent: float
    """Of all cores, over the window."""
    machine_cpu_percent_publishing: float
    """Of all cores, while the events were published (the window's drain and wait for quiet
    left out)."""
    waited_seconds: dict[str, float]
    """Per process, over the window: runnable but waiting for a core."""
    services_cpu_ms_per_event: float
    peak_rss_mib: dict[str, float]


@dataclass
class BaselineResult:
    backlog: int
    messages_per_second: float
    """Through a backlog: first forwarded record → last (their timestamps)."""
    cpu_seconds: float
    cpu_percent: float
    cpu_ms_per_message: float
    peak_rss_mib: float
    latency_ms: dict[str, dict[str, float]] = field(default_factory=dict)
    """Per pace (as the scenarios say it): p50, p95, p99, max of event time → the forwarded
    record's timestamp, with as many events as the scenario."""
    pace_cpu_percent: dict[str, float] = field(default_factory=dict)


def scenarios(args: argparse.Namespace) -> list[Scenario]:
    """The scenarios asked for, with their paces."""
    steady = (Phase(float("inf"), args.rate),)
    calm, peak, after = BURST_SECONDS
    rate = args.burst_rate
    burst = (
        Phase(calm, rate, "before the burst"),
        Phase(peak, 10 * rate, "during the burst"),
        Phase(after, rate, "after the burst"),
    )
    burst_journeys = round(rate * (calm + 10 * peak + after) / workload.mean_events())
    every = {
        "outbox": Scenario("outbox", args.journeys, steady),
        "peers": Scenario("peers", args.journeys, steady, 0.0),
        "latency-100ms": Scenario("latency-100ms", args.journeys, steady, PROVIDER_LATENCY),
        "burst": Scenario("burst", burst_journeys, burst),
    }
    return [every[name] for name in args.scenarios]


def fresh_topics(prefix: str, names: Sequence[str]) -> dict[str, str]:
    """A new name for each topic, so that nothing of an earlier run is read."""
    suffix = uuid.uuid4().hex[:8]
    return {name: f"bench-{prefix}-{name}-{suffix}" for name in names}


async def new_topics(bootstrap: str, names: list[str]) -> None:
    """Create the topics, then give the broker a moment: its partitions may still be becoming
    leaders when the metadata already names them (clients then log NotLeaderForPartition)."""
    await create_topics(bootstrap, names, partitions=PARTITIONS)
    await asyncio.sleep(1)


def service_env(
    name: str, bootstrap: str, topics: dict[str, str], workdir: Path, shops: Path
) -> dict[str, str]:
    """Service `name`'s settings: the scenario's topics, its own group and database."""
    _, prefix = MODULES[name]
    env = service_settings(name, bootstrap, workdir, shops_file=shops)
    env.update({f"{prefix}{topic.upper()}_TOPIC": topics[topic] for topic in SETTINGS[name]})
    env[f"{prefix}GROUP_ID"] = group_of(name, topics)
    return env


def group_of(name: str, topics: dict[str, str]) -> str:
    """Service `name`'s consumer group in the scenario of `topics`."""
    return f"{name}-{topics['orders']}"


@contextlib.asynccontextmanager
async def services(
    bootstrap: str,
    topics: dict[str, str],
    workdir: Path,
    notifier_env: dict[str, str],
    profile: str | None,
) -> AsyncIterator[dict[str, ServiceProcess]]:
    """The three services as processes, each after its migrations step (as in Kubernetes); on
    leaving, each is stopped and must exit cleanly."""
    shops = announce_everything(workdir)  # also creates the directory
    running = {}
    for name in SETTINGS:
        env = service_env(name, bootstrap, topics, workdir, shops)
        if name == "notifier":
            env.update(notifier_env)
        options = ("-m", "cProfile", "-o", str(workdir / f"{name}.prof")) if name == profile else ()
        running[name] = ServiceProcess(name, env, workdir, python_options=options)
        running[name].migrate()
        running[name].start()
    try:
        yield running
    finally:
        codes = {name: service.stop() for name, service in running.items()}
    failed = {name: code for name, code in codes.items() if code != 0}
    if failed:
        logs = "\n".join(f"== {name}\n{running[name].log(30)}" for name in failed)
        raise RuntimeError(f"services exited with {failed}:\n{logs}")


def alive(running: dict[str, ServiceProcess]) -> Callable[[], None]:
    """A check that raises, with its log, when a service died."""

    def check() -> None:
        for name, service in running.items():
            if not service.running:
                raise RuntimeError(f"{name} died:\n{service.log()}")

    return check


def process_ids(running: dict[str, ServiceProcess]) -> dict[str, int]:
    """Each service's pid, the broker's when this process started it, and this process's."""
    pids = {name: child_pid(MODULES[name][0]) for name in running}
    with contextlib.suppress(LookupError):
        pids["broker"] = child_pid("kafka.Kafka")
    pids["bench"] = os.getpid()
    return pids


class Monitor:
    """Samples the input taken in and every process's CPU, twice a second, while a load runs."""

    def __init__(
        self, bootstrap: str, inputs: dict[str, list[TopicPartition]], pids: dict[str, int]
    ) -> None:
        self.samples: list[Sample] = []
        self._inputs, self._pids = inputs, pids
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "Monitor":
        await self._admin.start()
        self.samples.append(await self._sample())
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        self.samples.append(await self._sample())
        await self._admin.close()

    def taken_in(self) -> int:
        """Input events committed since the monitor started."""
        return self.samples[-1].consumed - self.samples[0].consumed

    async def _sample(self) -> Sample:
        consumed = 0
        for group, partitions in self._inputs.items():
            consumed += await committed(self._admin, group, partitions)
        cpu = {name: cpu_seconds(pid) for name, pid in self._pids.items()}
        waited = {name: run_queue_seconds(pid) for name, pid in self._pids.items()}
        return Sample(time.time(), consumed, cpu, machine_cpu_seconds(), waited)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(SAMPLE_SECONDS)
            self.samples.append(await self._sample())


async def wait_for(
    done: Callable[[], bool],
    seconds: float,
    check: Callable[[], None],
    progress: Callable[[], str],
) -> bool:
    """Wait until `done()`, up to `seconds` (False then); `check()` raises if a process died."""
    started = last_report = time.monotonic()
    while not done():
        check()
        now = time.monotonic()
        if now - started > seconds:
            return False
        if now - last_report >= 10:
            print(f"  {progress()}", flush=True)
            last_report = now
        await asyncio.sleep(0.1)
    return True


def expected_requests(journeys: Sequence[Journey]) -> Counter[str]:
    """The notification requests the journeys must cause, by kind."""
    total: Counter[str] = Counter()
    for journey in journeys:
        total.update(journey.requests)
    return total


def stream_of(journeys: Sequence[Journey]) -> list[dict[str, Any]]:
    """The journeys' events mixed into one stream, each order's in order."""
    return interleaved([journey.events for journey in journeys])


async def publish_now(bootstrap: str, stream: list[dict[str, Any]], topics: dict[str, str]) -> None:
    """Publish `stream` as fast as it goes (a backlog)."""
    await workload.publish(bootstrap, stream, [0.0] * len(stream), topics)


@dataclass
class Collected:
    """What one scenario left behind, for `summarize`."""

    journeys: list[Journey]
    warm_up: list[Journey]
    requests: list[dict[str, Any]]
    requested_at: dict[str, float]
    """When each request was produced (its record's timestamp), by notification id."""
    outcomes: list[dict[str, Any]]
    received: tuple[int, int]
    ready: float
    complete: bool
    rss: dict[str, float]
    dead_letters: int
    notifier_batches: list[tuple[float, float]]
    """When the notifier took each batch of requests, and how long it took."""


async def run_scenario(
    bootstrap: str, scenario: Scenario, first_order: int, workdir: Path, args: argparse.Namespace
) -> tuple[ScenarioResult, Observed]:
    """One scenario, from fresh topics and processes to quiet; its figures and raw data."""
    topics = fresh_topics(scenario.name, TOPICS)
    dead = [f"{topic}.dlq" for topic in topics.values()]
    await new_topics(bootstrap, [*topics.values(), *dead])
    count = round(args.warm_up * args.rate / workload.mean_events()) or WARM_UP_JOURNEYS
    warm_up = workload.journeys(count, first_order - count)
    journeys = workload.journeys(scenario.journeys, first_order)
    stream = stream_of(journeys)
    warm_sends = CHANNELS * sum(expected_requests(warm_up).values())
    sends = CHANNELS * sum(expected_requests(journeys).values())
    observed = Observed(scenario.name)
    with contextlib.ExitStack() as stack:
        notifier_env, smtp, twilio = providers(stack, scenario.provider_latency)
        async with (
            services(bootstrap, topics, workdir, notifier_env, args.profile) as running,
            RecordWatch(bootstrap, topics["notifications"]) as requests,
            RecordWatch(bootstrap, topics["outcomes"]) as outcomes,
        ):
            ready = await warmed_up(
                bootstrap,
                scenario.name,
                topics,
                running,
                outcomes,
                warm_up,
                args.rate if args.warm_up else float("inf"),
            )
            print(
                f"[{scenario.name}] ready after {ready:.1f} s; publishing {len(stream)} events "
                f"({scenario.journeys} journeys) at {scenario.pace()} …",
                flush=True,
            )
            pids = process_ids(running)
            if smtp is not None:  # the latency scenario's provider peers
                pids["peers"] = smtp.pid
            async with Monitor(bootstrap, inputs_of(topics), pids) as monitor:
                offsets = workload.schedule(len(stream), scenario.phases)
                observed.sent = await workload.publish(bootstrap, stream, offsets, topics)
                complete = await wait_for(
                    lambda: len(outcomes.records) >= warm_sends + sends,
                    args.timeout,
                    alive(running),
                    lambda: (
                        f"{time.time() - observed.sent[0]:4.0f} s: "
                        f"{monitor.taken_in()}/{len(stream)} events taken in, "
                        f"{len(outcomes.records) - warm_sends}/{sends} messages sent"
                    ),
                )
                await asyncio.sleep(SETTLE_SECONDS)
            rss = {name: peak_rss_mib(pid) for name, pid in pids.items()}
            notifier_log = running["notifier"].log_path.read_text()
            notifier_batches = measure.batches(notifier_log, topics["notifications"])
        emails, texts = received(notifier_env, smtp, twilio)
    observed.samples = monitor.samples
    collected = Collected(
        journeys=journeys,
        warm_up=warm_up,
        requests=(asked := [json.loads(r.value) for r in requests.records]),
        requested_at={
            request["data"]["notification_id"]: record.timestamp / 1000
            for request, record in zip(asked, requests.records, strict=True)
        },
        outcomes=[json.loads(r.value) for r in outcomes.records],
        received=(len(emails), len(texts)),
        ready=ready,
        complete=complete,
        rss=rss,
        dead_letters=sum((await end_offsets(bootstrap, dead, PARTITIONS)).values()),
        notifier_batches=notifier_batches,
    )
    return summarize(scenario, collected, observed), observed


def inputs_of(topics: dict[str, str]) -> dict[str, list[TopicPartition]]:
    """The partitions of the published topics, by the consumer group that takes them in."""
    return {
        group_of(name, topics): [
            TopicPartition(topics[topic], p) for topic in names for p in range(PARTITIONS)
        ]
        for name, names in INPUTS.items()
    }


async def warmed_up(
    bootstrap: str,
    name: str,
    topics: dict[str, str],
    running: dict[str, ServiceProcess],
    outcomes: RecordWatch,
    journeys: list[Journey],
    rate: float,
) -> float:
    """Publish `journeys` at `rate` (inf: at once) and wait for all their messages, so that
    imports, group joins and first-time work stay out of the measurement; how long it took.

    A few journeys do not warm the broker: one just started spent up to half a core compiling
    its Java code through the first measured scenario (its JIT threads, /proc/<pid>/task; 4.3,
    2.7 then 2.0 CPU seconds on three runs of `outbox` one after another). Seconds of journeys
    do (`--warm-up`), but the provider peers keep every message they were sent and slow down
    with them: `latency-100ms` after `--warm-up 5` lost a fifth of its throughput.
    """
    print(f"[{name}] services started; warming up …", flush=True)
    started = time.time()
    stream = stream_of(journeys)
    paced = workload.schedule(len(stream), (Phase(float("inf"), rate),))
    await workload.publish(bootstrap, stream, paced, topics)
    sends = CHANNELS * sum(expected_requests(journeys).values())
    if not await wait_for(
        lambda: len(outcomes.records) >= sends,
        READY_TIMEOUT,
        alive(running),
        lambda: f"warm-up: {len(outcomes.records)}/{sends} outcomes",
    ):
        raise TimeoutError(f"[{name}] no warm-up after {READY_TIMEOUT:g} s")
    return time.time() - started


def epoch(value: str) -> float:
    """An ISO 8601 time as epoch seconds."""
    return datetime.fromisoformat(value).timestamp()


def rate(count: int, moments: Sequence[float]) -> float:
    """`count` over the time from the first of `moments` to the last, per second."""
    span = max(moments) - min(moments) if len(moments) > 1 else 0.0
    return round(count / span, 1) if span > 0 else float("nan")


def summarize(scenario: Scenario, collected: Collected, observed: Observed) -> ScenarioResult:
    """The scenario's figures and checks; fills in `observed`'s acceptances and latencies."""
    warm_orders = {journey.events[0]["subject"] for journey in collected.warm_up}
    requests = [r for r in collected.requests if r["subject"] not in warm_orders]
    outcomes = [o for o in collected.outcomes if o["subject"] not in warm_orders]
    sent = [o for o in outcomes if o["type"] == "notification.sent"]
    asked = {r["data"]["notification_id"]: epoch(r["time"]) for r in requests}
    match(scenario, observed, asked, sent)
    kinds = expected_requests(collected.journeys)
    seen_kinds = Counter(r["data"]["notice"]["kind"] for r in requests)
    first, last = observed.sent[0], max(observed.accepted, default=float("nan"))
    events = len(observed.sent)
    start, end = observed.samples[0], observed.samples[-1]
    taken_in = next(
        (s.at for s in observed.samples if s.consumed - start.consumed >= events), float("nan")
    )
    window = end.at - start.at
    cpu = {name: end.cpu[name] - start.cpu[name] for name in end.cpu}
    publishing = [s for s in observed.samples if first <= s.at <= observed.sent[-1]]
    batches = [took for at, took in collected.notifier_batches if at >= first]
    result = ScenarioResult(
        scenario=scenario.name,
        pace=scenario.pace(),
        provider_latency_ms=1000 * (scenario.provider_latency or 0.0),
        journeys=len(collected.journeys),
        events=events,
        offered_events_per_second=rate(events, observed.sent),
        ready_seconds=round(collected.ready, 1),
        publish_seconds=round(observed.sent[-1] - first, 1),
        drain_seconds=round(last - observed.sent[-1], 1),
        saturated=last - observed.sent[-1] > 2.0,
        complete=collected.complete,
        ok=False,
        requests_expected=sum(kinds.values()),
        requests_seen=len(requests),
        requests_distinct=len(asked),
        kinds_differing={
            kind: [kinds[kind], seen_kinds[kind]]
            for kind in sorted(kinds | seen_kinds)
            if kinds[kind] != seen_kinds[kind]
        },
        sends_expected=CHANNELS * sum(kinds.values()),
        outcomes_seen=len(outcomes),
        sends_distinct=len({(o["data"]["notification_id"], o["data"]["channel"]) for o in sent}),
        sent=len(sent),
        emails_received=collected.received[0],
        texts_received=collected.received[1],
        dead_letters=collected.dead_letters,
        events_per_second=round(events / (last - first), 1),
        events_in_per_second=round(events / (taken_in - first), 1),
        notifications_per_second=rate(len(observed.notified), observed.notified),
        sends_per_second=rate(len(sent), observed.accepted),
        latency_ms=percentiles(observed.latencies_ms),
        latency_ms_by_phase=by_phase(scenario, observed),
        latency_ms_by_hop=by_hop(asked, collected.requested_at, sent),
        latency_ms_by_turn=by_turn(requests, asked, collected.requested_at, sent),
        notifier_batches=len(batches),
        notifier_batch_seconds=percentiles(batches),
        cpu_seconds={name: round(value, 2) for name, value in cpu.items()},
        cpu_percent={name: round(100 * value / window, 1) for name, value in cpu.items()},
        machine_cpu_percent=round(100 * (end.machine - start.machine) / window / CPUS, 1),
        machine_cpu_percent_publishing=busy_percent(publishing),
        waited_seconds={name: round(end.waited[name] - start.waited[name], 2) for name in cpu},
        services_cpu_ms_per_event=round(1000 * sum(cpu[name] for name in SETTINGS) / events, 2),
        peak_rss_mib={name: round(value, 1) for name, value in collected.rss.items()},
    )
    warm_requests = sum(expected_requests(collected.warm_up).values())
    result.ok = passed(result, result.requests_expected + warm_requests)
    return result


def busy_percent(samples: Sequence[Sample]) -> float:
    """How busy the machine's cores were between the first and the last of `samples` (NaN for
    fewer than two)."""
    if len(samples) < 2 or samples[-1].at <= samples[0].at:
        return float("nan")
    busy = samples[-1].machine - samples[0].machine
    return round(100 * busy / (samples[-1].at - samples[0].at) / CPUS, 1)


def match(
    scenario: Scenario, observed: Observed, asked: dict[str, float], sent: list[dict[str, Any]]
) -> None:
    """Each message's latency from its request's time (`asked`, by notification id), overall
    and by phase; when messages were accepted, and when each notification was complete."""
    first = observed.sent[0]
    observed.phase_latencies_ms = [[] for _ in scenario.phases]
    complete: dict[str, float] = {}
    for outcome in sent:
        notification, accepted = outcome["data"]["notification_id"], epoch(outcome["time"])
        cause = asked[notification]
        latency = 1000 * (accepted - cause)
        observed.accepted.append(accepted)
        observed.latencies_ms.append(latency)
        observed.phase_latencies_ms[workload.phase_of(cause - first, scenario.phases)].append(
            latency
        )
        complete[notification] = max(complete.get(notification, accepted), accepted)
    observed.accepted.sort()
    observed.notified = sorted(complete.values())


def by_hop(
    asked: dict[str, float], requested_at: dict[str, float], sent: list[dict[str, Any]]
) -> dict[str, dict[str, float]]:
    """Where the latency is: event → its request produced (the tracker or returns service and
    the broker), and request produced → message accepted (the notifier and its provider)."""
    return {
        "event → request": percentiles(
            [1000 * (requested_at[n] - asked[n]) for n in asked if n in requested_at]
        ),
        "request → accepted": percentiles(
            [
                1000 * (epoch(o["time"]) - requested_at[o["data"]["notification_id"]])
                for o in sent
                if o["data"]["notification_id"] in requested_at
            ]
        ),
    }


def by_turn(
    requests: list[dict[str, Any]],
    asked: dict[str, float],
    requested_at: dict[str, float],
    sent: list[dict[str, Any]],
) -> dict[str, dict[str, float]]:
    """Latency of the messages that waited for their turn, and of the rest. An order's messages
    on a channel leave one after another (the notifier's promise), so a message whose request
    came while the order's message before it was still with the provider waits for that one's
    answer: with 100 ms providers, a return's instructions wait for the delivery's message
    (both caused by the arrival, a few ms apart). Telling only where the notifier keeps up:
    behind a backlog most requests come while the message before them still waits in it."""
    order = {r["data"]["notification_id"]: r["subject"] for r in requests}
    chains: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for outcome in sent:
        notification = outcome["data"]["notification_id"]
        if notification in requested_at:
            chain = chains.setdefault((order[notification], outcome["data"]["channel"]), [])
            accepted = epoch(outcome["time"])
            chain.append((requested_at[notification], accepted, accepted - asked[notification]))
    waited, free = [], []
    for chain in chains.values():
        chain.sort()
        for before, (requested, _, latency) in zip([None, *chain], chain, strict=False):
            (waited if before is not None and before[1] > requested else free).append(latency)
    total = max(len(waited) + len(free), 1)
    return {
        name: {**percentiles([1000 * latency for latency in group]), "share": len(group) / total}
        for name, group in (("waited for their turn", waited), ("did not wait", free))
    }


def by_phase(scenario: Scenario, observed: Observed) -> dict[str, dict[str, float]]:
    """p50, p95, p99, max per phase of a pace with more than one."""
    if len(scenario.phases) < 2:
        return {}
    return {
        f"{phase.name} ({phase.rate:g}/s)": percentiles(latencies)
        for phase, latencies in zip(scenario.phases, observed.phase_latencies_ms, strict=True)
    }


def passed(result: ScenarioResult, messages: int) -> bool:
    """Complete, and each request and message exactly once (`messages` per channel at the
    providers, warm-up included), all sent, nothing dead-lettered."""
    return (
        result.complete
        and result.requests_seen == result.requests_distinct == result.requests_expected
        and not result.kinds_differing
        and result.outcomes_seen == result.sent == result.sends_distinct == result.sends_expected
        and result.emails_received == result.texts_received == messages
        and result.dead_letters == 0
    )


async def run_baseline(
    bootstrap: str, paces: list[Scenario], workdir: Path, seconds: float
) -> tuple[BaselineResult, dict[str, Observed]]:
    """The pass-through process through a backlog, then at each pace; its figures and data."""
    topics = fresh_topics("baseline", ("orders", "shipments", "returns", "passed"))
    await new_topics(bootstrap, list(topics.values()))
    backlog = stream_of(workload.journeys(BASELINE_BACKLOG_JOURNEYS, 9_000_000))
    print(f"[baseline] producing a backlog of {len(backlog)} events …", flush=True)
    await publish_now(bootstrap, backlog, topics)
    process = start_passthrough(bootstrap, topics, workdir)
    observed: dict[str, Observed] = {}

    def check() -> None:
        if process.poll() is not None:
            raise RuntimeError(f"the pass-through died:\n{log_tail(workdir / LOG)}")

    try:
        async with RecordWatch(bootstrap, topics["passed"]) as passed:
            result = await through_backlog(process.pid, passed, len(backlog), check, seconds)
            print(f"[baseline] {result.messages_per_second:.0f} messages/s", flush=True)
            for index, scenario in enumerate(paces):
                pace, first_order = scenario.pace(), 9_500_000 + 100_000 * index
                observed[pace] = await forward_at_pace(
                    bootstrap, scenario, first_order, topics, (process.pid, passed, check)
                )
                samples = observed[pace].samples
                cpu = samples[-1].cpu["passthrough"] - samples[0].cpu["passthrough"]
                span = samples[-1].at - samples[0].at
                result.pace_cpu_percent[pace] = round(100 * cpu / span, 1)
                result.latency_ms[pace] = percentiles(observed[pace].latencies_ms)
            result.peak_rss_mib = round(peak_rss_mib(process.pid), 1)
    finally:
        process.terminate()
        code = process.wait(30)
    if code != 0:
        raise RuntimeError(f"the pass-through exited with {code}")
    return result, observed


async def through_backlog(
    pid: int, passed: RecordWatch, backlog: int, check: Callable[[], None], seconds: float
) -> BaselineResult:
    """The pass-through's rate and CPU through the backlog, from its first record forwarded."""
    await wait_for(lambda: bool(passed.records), READY_TIMEOUT, check, lambda: "starting")
    cpu_first = cpu_seconds(pid)
    if not await wait_for(
        lambda: len(passed.records) >= backlog,
        seconds,
        check,
        lambda: f"{len(passed.records)}/{backlog} forwarded",
    ):
        raise TimeoutError("the pass-through did not get through its backlog")
    cpu = cpu_seconds(pid) - cpu_first
    stamps = [record.timestamp / 1000 for record in passed.records]
    span = max(stamps) - min(stamps)
    return BaselineResult(
        backlog=backlog,
        messages_per_second=round((len(stamps) - 1) / span, 1),
        cpu_seconds=round(cpu, 2),
        cpu_percent=round(100 * cpu / span, 1),
        cpu_ms_per_message=round(1000 * cpu / backlog, 3),
        peak_rss_mib=float("nan"),
    )


def start_passthrough(
    bootstrap: str, topics: dict[str, str], workdir: Path
) -> subprocess.Popen[bytes]:
    """bench/passthrough.py from the input topics to `passed`, logging into `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, str(Path(__file__).with_name("passthrough.py")), bootstrap]
    command += [f"passthrough-{topics['passed']}", topics["passed"]]
    command += [topics[name] for name in ("orders", "shipments", "returns")]
    with (workdir / LOG).open("ab") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


LOG = "passthrough.log"


async def forward_at_pace(
    bootstrap: str,
    scenario: Scenario,
    first_order: int,
    topics: dict[str, str],
    passthrough: tuple[int, RecordWatch, Callable[[], None]],
) -> Observed:
    """As many events as the scenario's, at its pace, through the pass-through (its pid, what
    it forwarded, a check that it lives); the latencies."""
    pid, passed, check = passthrough
    stream = stream_of(workload.journeys(scenario.journeys, first_order))
    before = len(passed.records)
    print(f"[baseline] {len(stream)} events at {scenario.pace()} …", flush=True)
    observed = Observed(f"pass-through, {scenario.pace()}")
    observed.samples.append(Sample(time.time(), 0, {"passthrough": cpu_seconds(pid)}, 0.0))
    offsets = workload.schedule(len(stream), scenario.phases)
    observed.sent = await workload.publish(bootstrap, stream, offsets, topics)
    await wait_for(
        lambda: len(passed.records) >= before + len(stream),
        READY_TIMEOUT,
        check,
        lambda: f"{len(passed.records) - before}/{len(stream)} forwarded",
    )
    observed.samples.append(Sample(time.time(), 0, {"passthrough": cpu_seconds(pid)}, 0.0))
    records = passed.records[before:]
    observed.accepted = sorted(record.timestamp / 1000 for record in records)
    observed.latencies_ms = [
        record.timestamp - 1000 * epoch(json.loads(record.value)["time"]) for record in records
    ]
    return observed


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--journeys",
        type=int,
        default=500,
        help="journeys in each steady scenario (default 500, about 2,900 events)",
    )
    parser.add_argument(
        "--rate", type=float, default=500, help="events/s of the steady scenarios (default 500)"
    )
    parser.add_argument(
        "--burst-rate",
        type=float,
        default=10,
        help=f"events/s before and after the burst scenario's {BURST_SECONDS[1]:g} s at ten "
        "times that (default 10)",
    )
    parser.add_argument(
        "--scenarios",
        type=lambda text: [name.strip() for name in text.split(",") if name.strip()],
        default=list(SCENARIOS),
        help=f"comma-separated, of {', '.join(SCENARIOS)} (default all)",
    )
    parser.add_argument(
        "--warm-up",
        type=float,
        default=0,
        metavar="SECONDS",
        help="seconds of journeys at --rate before each scenario, not measured (default 0: "
        f"{WARM_UP_JOURNEYS} journeys at once)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=240,
        help="seconds a scenario may go on after its last event (default 240)",
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
        choices=tuple(SETTINGS),
        help="run this service under cProfile and print where its time went (nothing is saved)",
    )
    args = parser.parse_args()
    if unknown := set(args.scenarios) - set(SCENARIOS):
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return args


SCENARIOS = ("outbox", "peers", "latency-100ms", "burst")


async def main() -> None:
    args = parse_args()
    started, load = time.monotonic(), os.getloadavg()[0]
    chosen = scenarios(args)
    paces: dict[str, Scenario] = {}  # the first scenario of each pace
    for scenario in chosen:
        paces.setdefault(scenario.pace(), scenario)
    results, observed = [], []
    with contextlib.ExitStack() as stack:
        workdir = measure.work_directory(stack, args.keep)
        async with kafka_bootstrap(workdir / "kafka", partitions=PARTITIONS) as bootstrap:
            baseline, paced = await run_baseline(
                bootstrap, list(paces.values()), workdir / "baseline", args.timeout
            )
            for index, scenario in enumerate(chosen):
                first_order = 100_000 * (index + 1)
                result, seen = await run_scenario(
                    bootstrap, scenario, first_order, workdir / scenario.name, args
                )
                name, share = report.busiest(result)
                print(
                    f"[{scenario.name}] {'ok' if result.ok else 'CHECK FAILED'}; "
                    f"{result.events_per_second:.0f} events/s, p99 "
                    f"{result.latency_ms['p99']:,.0f} ms; busiest: {name} at {share:.0f} %",
                    flush=True,
                )
                results.append(result)
                observed.append(seen)
        for scenario in chosen if args.profile else ():
            report.print_profile(workdir / scenario.name / f"{args.profile}.prof")
    wall = time.monotonic() - started
    found = report.aims(baseline, results, args.rate)
    print(f"\n{report.summary_table(baseline, results)}")
    print(f"\n{report.process_table(baseline, results)}")
    print(f"\n{report.details_text(results)}")
    print(f"\n{report.aims_text(found)}\n\nwall time {wall:.0f} s")
    if args.profile:
        print("profiled: results not saved (the profiler slows the service down)")
        return
    run = {
        "args": {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        },
        "kafka": measure.kafka_source(),
        "wall_seconds": round(wall, 1),
        "load_average_before": round(load, 2),
        "baseline": asdict(baseline),
        "results": [asdict(result) for result in results],
        "busiest": {result.scenario: report.busiest(result) for result in results},
        "aims": found,
    }
    path = measure.append_run("pipeline", run)
    picture = path.with_suffix(".png")
    pipeline_plot.draw(picture, list(paced.values()), results, observed)
    print(f"written to {path.relative_to(REPO)} and {picture.relative_to(REPO)}")


if __name__ == "__main__":
    asyncio.run(main())
