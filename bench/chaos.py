"""The standing chaos run: the three services as processes against one real Kafka broker, while
they are killed, their broker restarted, their providers storm and hostile records pour in.

    uv run --frozen python bench/chaos.py [--short] [--seed N] [--keep DIR] [--results DIR]

Journeys (bench/workload.py: home and pickup deliveries, delays, returns; cs, sk, pl, en) are
published at a steady pace, mixed with hostile records (bench/hostile.py: contract-invalid events
generated from the committed JSON Schemas, and byte-level cases); one journey in ten carries a
`content-type: text/plain` header and one in ten a `traceparent` that is not UTF-8, which must
not matter. Meanwhile a monkey SIGKILLs a random service at random moments (restarted at once)
and SIGTERMs each once; mid-run the local broker is stopped and started again on the same port
and data; the Twilio fake answers 429 then 503 to a run of requests, the SMTP server 421 then 451.

Once quiet, what the notifier gave up on (a provider failed every retry during a storm: the
request is dead-lettered) is replayed with the kit's tool, as an operator would, and once quiet
again it checks: every journey's expected notifications are at the providers,
each email (by Message-ID) and text (by body) once; a copy is allowed only when a notifier kill
fell between the two (a send in flight), and is counted; every hostile record is in its topic's
`.dlq`, once per consumer group that reads the topic (found by its `chaos-<n>` key); no valid
event was dead-lettered; every group committed up to the end of what it reads (no consumer
stopped); no service exited unasked. Figures are printed and appended to
bench/results/chaos-<date>.json; the exit code is 1 when a check failed.

Then the replicas scenario (bench/chaos_replicas.py): two replicas of each service on PostgreSQL
over six partitions, one of each killed mid-stream; the survivors must take over, with the same
checks. There email goes through the SES peer, which answers 429 then 503 to a run of requests.

`--short` is the test command's version (tests/e2e/test_chaos.py): a kill and a SIGTERM of
each service and a few hundred hostile records over 45 s, then a small replicas scenario: two to
four minutes on a busy two-core machine. With KAFKA_BOOTSTRAP_SERVERS set, that broker is used
and not restarted.
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import sys
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import chaos_check
import hostile
import measure
import workload
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from chaos_fleet import PARTITIONS, TOPICS, Fleet, Monkey, recovery_figures, storms
from chaos_replicas import run_replicas
from hostile import Hostile
from workload import Journey

from orderpulse_devkit.kafka import LocalKafkaBroker, create_topics
from orderpulse_devkit.ports import free_ports
from orderpulse_devkit.services import announce_everything

FIRST_ORDER = 7_000_000
"""Order numbers are 7 digits from here, so they can be found in a subject or a text."""
PROVIDER_LATENCY = 0.05
"""Seconds the peers take to answer: sends are in flight when the notifier is killed."""
BROKER_DOWN_SECONDS = 5.0


@dataclass(frozen=True)
class Plan:
    """How much chaos: journeys and hostile records over `seconds`, kills per service, storms."""

    journeys: int
    hostile: int
    byte_rounds: int
    seconds: float
    kills: int
    storm: int
    """Failures in each provider storm."""
    timeout: float
    """Seconds the run may take after publishing to become quiet."""
    replica_journeys: int
    replica_seconds: float


FULL = Plan(
    journeys=500,
    hostile=10_000,
    byte_rounds=20,
    seconds=330,
    kills=20,
    storm=30,
    timeout=240,
    replica_journeys=120,
    replica_seconds=40,
)
SHORT = Plan(
    journeys=30,
    hostile=300,
    byte_rounds=1,
    seconds=45,
    kills=1,
    storm=6,
    timeout=150,
    replica_journeys=30,
    replica_seconds=20,
)
STORMS = ((0.25, "twilio", 429), (0.30, "smtp", 421), (0.60, "twilio", 503), (0.65, "smtp", 451))
"""When (share of the publishing time), whom, and with what status the providers storm."""
BROKER_RESTART_AT = 0.45
MONKEY_OVERTIME = 60.0
"""Seconds the monkey may go on after publishing (while the services drain) to send its share."""


@dataclass(frozen=True)
class Item:
    """One record to publish: a journey's event (with extra headers), or a hostile record."""

    event: dict[str, Any] | None
    hostile: Hostile | None
    headers: tuple[tuple[str, bytes], ...] = ()


ODD_HEADERS = {0: (("content-type", b"text/plain"),), 5: (("traceparent", b"\xff\xfe00-bin"),)}
"""Journey number mod 10 → headers its events carry, which must not matter."""


def stream(journeys: list[Journey], hostiles: list[Hostile], rng: random.Random) -> list[Item]:
    """The journeys' events (each order's in order) with the hostile records mixed in at random."""
    headers = {
        journey.events[0]["subject"]: ODD_HEADERS.get(n % 10, ())
        for n, journey in enumerate(journeys)
    }
    events = measure.interleaved([journey.events for journey in journeys])
    items = [Item(event, None, headers[event["subject"]]) for event in events]
    for record in hostiles:
        items.insert(rng.randrange(len(items) + 1), Item(None, record))
    return items


async def publish(
    bootstrap: str, items: list[Item], seconds: float, topics: dict[str, str]
) -> list[float]:
    """Send the items evenly over `seconds`, each event's `time` the moment it is sent; when.

    The producer waits out a broker restart (long request timeout, idempotent retries)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        max_request_size=2 * hostile.NEAR_LIMIT_BYTES,
        request_timeout_ms=300_000,
    )
    await producer.start()
    sent: list[float] = []
    acks: list[asyncio.Future[Any]] = []
    try:
        start, gap = time.monotonic(), seconds / len(items)
        for index, item in enumerate(items):
            if (wait := start + index * gap - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            now = time.time()
            if item.event is not None:
                event = item.event
                event["time"] = datetime.fromtimestamp(now, UTC).isoformat()
                value = json.dumps(event, ensure_ascii=False).encode()
                topic, key = topics[workload.topic_key(event)], event["subject"].encode()
            else:
                assert item.hostile is not None
                topic, key, value = topics[item.hostile.topic], item.hostile.key, item.hostile.value
            acks.append(await producer.send(topic, value, key=key, headers=list(item.headers)))
            sent.append(now)
        await asyncio.gather(*acks)  # a record the broker never took would raise here
    finally:
        await producer.stop()
    return sent


async def restart_broker(
    broker: LocalKafkaBroker | None, monkey: Monkey, seconds: float
) -> dict[str, float]:
    """Stop the local broker at its moment and start it again on the same port and data; not
    while a restarted service is still starting (one that cannot reach the broker at its start
    exits, for Kubernetes to start it again: that is not what this is about)."""
    if broker is None:
        return {}
    await asyncio.sleep(BROKER_RESTART_AT * seconds)
    async with monkey.pause:
        await monkey.settled()
        stopped = time.time()
        await broker.stop()
        await asyncio.sleep(BROKER_DOWN_SECONDS)
        await broker.start()
        back = time.time()
    print(f"  broker restarted: down {back - stopped:.1f} s", flush=True)
    return {"stopped_at": stopped, "down_seconds": round(back - stopped, 1)}


@contextlib.asynccontextmanager
async def broker_for(workdir: Path) -> Any:
    """KAFKA_BOOTSTRAP_SERVERS (not restarted), else a local broker on fixed ports (so that it
    can be restarted on them)."""
    if external := os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield external, None
        return
    port, controller = free_ports(2)
    broker = LocalKafkaBroker(
        workdir / "kafka", port=port, controller_port=controller, partitions=PARTITIONS
    )
    await broker.start()
    try:
        yield broker.bootstrap, broker
    finally:
        await broker.stop()


async def run(plan: Plan, seed: int, workdir: Path) -> dict[str, Any]:
    """One chaos run; its figures and checks."""
    rng = random.Random(seed)
    suffix = uuid.uuid4().hex[:8]
    topics = {name: f"chaos-{name}-{suffix}" for name in TOPICS}
    journeys = workload.journeys(plan.journeys, FIRST_ORDER)
    hostiles = hostile.generated(plan.hostile, rng, 0)
    hostiles += hostile.byte_cases(rng, len(hostiles), plan.byte_rounds)
    items = stream(journeys, hostiles, rng)
    print(f"[chaos] seed {seed}: {len(items)} records ({len(hostiles)} hostile)", flush=True)
    async with broker_for(workdir) as (bootstrap, broker):
        dead = [f"{topic}.dlq" for topic in topics.values()]
        await create_topics(bootstrap, [*topics.values(), *dead], partitions=PARTITIONS)
        with contextlib.ExitStack() as stack:
            peers = measure.Peers(PROVIDER_LATENCY)
            stack.callback(peers.stop)
            settings = measure.peer_settings(measure.PeerSmtp(peers), measure.PeerTwilio(peers))
            fleet = Fleet(bootstrap, topics, workdir, announce_everything(workdir), settings)
            fleet.start()
            stack.callback(fleet.stop)
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
            await admin.start()
            try:
                found = await chaos(plan, rng, items, topics, fleet, peers, admin, broker)
                quiet = (fleet, peers, admin, bootstrap, topics, plan.timeout)
                ends = await chaos_check.quiet(*quiet, found["last_notifier_kill"])
                notifications = f"{topics['notifications']}.dlq"
                found["replay"] = await chaos_check.replay(
                    bootstrap, notifications, workdir / "replay.log"
                )
                ends_after_replay = await chaos_check.quiet(*quiet, 0.0)
                ends["quiet"] = ends["quiet"] and ends_after_replay["quiet"]
                ends["lag"] = ends_after_replay["lag"]
            finally:
                await admin.close()
            codes = fleet.stop()
            delivered = peers.received()
            logs = {name: p.log_path for name, p in fleet.processes.items()}
        checks = await chaos_check.verify(
            bootstrap, topics, journeys, hostiles, delivered, found["kills"], FIRST_ORDER
        )
        replicas = await run_replicas(
            bootstrap,
            workdir / "replicas",
            plan.replica_journeys,
            plan.replica_seconds,
            FIRST_ORDER + plan.journeys,
            plan.timeout,
            PROVIDER_LATENCY,
            plan.storm,
        )
    kills = found.pop("kills")
    result = {
        "seed": seed,
        "plan": asdict(plan),
        "records": {"events": len(items) - len(hostiles), "hostile": len(hostiles)},
        "kills": {
            signal: sum(k.signal == signal for k in kills) for signal in ("SIGKILL", "SIGTERM")
        },
        "restarts": len(kills),
        "recovery": recovery_figures(kills),
        "kill_log": [asdict(k) for k in kills],
        "crashes": [{"service": s, "at": at, "log": log} for s, at, log in fleet.crashes],
        "exit_codes": codes,
        "logs": {name: str(path) for name, path in logs.items()},
        **found,
        **ends,
        **checks,
    }
    result["ok"] = chaos_check.passed(result) and replicas["ok"]
    result["replicas"] = replicas
    return result


async def chaos(
    plan: Plan,
    rng: random.Random,
    items: list[Item],
    topics: dict[str, str],
    fleet: Fleet,
    peers: measure.Peers,
    admin: AIOKafkaAdminClient,
    broker: LocalKafkaBroker | None,
) -> dict[str, Any]:
    """Publish while the monkey, the broker restart and the storms do their work."""
    await chaos_check.ready(fleet)
    monkey = Monkey(fleet, plan.kills, rng, lambda: peers.command("counts"))
    started = time.time()
    print(f"[chaos] services up; publishing over {plan.seconds:.0f} s …", flush=True)
    deadline = time.monotonic() + plan.seconds + MONKEY_OVERTIME
    tasks = (
        asyncio.create_task(monkey.run(admin, deadline)),
        asyncio.create_task(restart_broker(broker, monkey, plan.seconds)),
        asyncio.create_task(storms(peers, STORMS, plan.storm, plan.seconds)),
    )
    sent = await publish(fleet.bootstrap, items, plan.seconds, topics)
    _, restarted, stormed = await asyncio.gather(*tasks)
    notifier_kills = [k.at for k in monkey.done if k.service == "notifier"]
    return {
        "publish_seconds": round(sent[-1] - started, 1),
        "kills": monkey.done,
        "last_notifier_kill": max(notifier_kills, default=0.0),
        "broker_restart": restarted,
        "storms": stormed,
    }


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="the test command's short run")
    parser.add_argument("--seed", type=int, default=None, help="default: a new one, printed")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (logs, databases)"
    )
    parser.add_argument(
        "--results", type=Path, default=measure.RESULTS, help="where chaos-<date>.json goes"
    )
    return parser.parse_args()


async def main() -> int:
    args = parse_args()
    seed = args.seed if args.seed is not None else random.randrange(2**31)
    started, load = time.monotonic(), os.getloadavg()[0]
    with contextlib.ExitStack() as stack:
        workdir = measure.work_directory(stack, args.keep)
        found = await run(SHORT if args.short else FULL, seed, workdir)
    found["wall_seconds"] = round(time.monotonic() - started, 1)
    found["load_average_before"] = round(load, 2)
    found["kafka"] = measure.kafka_source()
    found["short"] = args.short
    print(chaos_check.report(found))
    path = measure.append_run("chaos", found, args.results)
    print(f"written to {path}")
    return 0 if found["ok"] else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
