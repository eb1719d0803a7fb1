"""The chaos run's services and its monkey: processes killed at random, restarted at once, and
how long each took to recover (its consumer group committing again)."""

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from measure import Peers, committed

from orderpulse_devkit.services import MODULES, ServiceProcess, service_settings

PARTITIONS = 3
TOPICS = ("orders", "shipments", "returns", "erasure", "order_status", "notifications", "outcomes")
READS = {
    "status-tracker": ("orders", "shipments", "erasure", "outcomes"),
    "returns": ("order_status", "returns", "erasure"),
    "notifier": ("notifications",),
}
"""What each service's main consumer group reads (the notifier's erasure group aside)."""
RECOVERY_TIMEOUT = 120.0
"""Seconds a killed service may take to commit again before it counts as not recovered."""
SAMPLE_SECONDS = 0.25
PATIENT_EVERY = 7
LANDING_SECONDS = 0.5
"""After a notifier dies, how long its requests already on the wire may take to land."""
IMPATIENT_SECONDS = 8.0


@dataclass
class Kill:
    """One signal the monkey sent, and when the service was back (committing)."""

    service: str
    signal: str
    at: float
    """Epoch seconds."""
    exit_code: int
    recovered_seconds: float | None = None
    """Signal → the restarted process's group committed past where it stood; None: signalled
    again before that, or not within RECOVERY_TIMEOUT."""
    peers_counts: dict[str, int] = field(default_factory=dict)
    """How many messages the providers had accepted once the notifier was gone, before it was
    started again (notifier only): a copy of a message from before this mark, sent after it, is
    one the dead process had under way."""


class Fleet:
    """The three services as processes, on one run's topics and groups."""

    def __init__(
        self,
        bootstrap: str,
        topics: dict[str, str],
        workdir: Path,
        shops: Path,
        extra: dict[str, str],
        *,
        partitions: int = PARTITIONS,
        databases: dict[str, str] | None = None,
    ) -> None:
        """`extra`: the notifier's provider settings; `databases`: a URL per service (else a
        SQLite file each in `workdir`). Fleets on the same topics are replicas of each other."""
        self.bootstrap, self.topics, self.partition_count = bootstrap, topics, partitions
        self.groups = {name: f"chaos-{name}-{topics['orders']}" for name in MODULES}
        self.processes: dict[str, ServiceProcess] = {}
        for name, (_, prefix) in MODULES.items():
            url = databases[name] if databases else None
            env = service_settings(name, bootstrap, workdir, database_url=url, shops_file=shops)
            env |= {f"{prefix}{topic.upper()}_TOPIC": topics[topic] for topic in TOPICS}
            env[f"{prefix}GROUP_ID"] = self.groups[name]
            if name == "notifier":
                env["NOTIFIER_ERASURE_GROUP_ID"] = f"{self.groups[name]}-erasure"
                env |= extra
            self.processes[name] = ServiceProcess(name, env, workdir)
        self.crashes: list[tuple[str, float, str]] = []
        """Exits nobody asked for: service, when, the end of its log."""

    def start(self) -> None:
        for process in self.processes.values():
            process.start()

    def stop(self) -> dict[str, int]:
        """SIGTERM each; their exit codes."""
        return {name: process.stop() for name, process in self.processes.items()}

    def revive(self) -> None:
        """Restart any service that exited on its own, and note it as a crash."""
        for name, process in self.processes.items():
            if not process.running:
                self.crashes.append((name, time.time(), process.log(40)))
                process.start()

    def partitions(self, name: str) -> list[TopicPartition]:
        """The partitions service `name`'s main group reads."""
        return [
            TopicPartition(self.topics[topic], p)
            for topic in READS[name]
            for p in range(self.partition_count)
        ]


class Monkey:
    """Sends SIGKILL (`kills` per service) and one SIGTERM per service at random moments, each
    followed at once by a restart.

    Every PATIENT_EVERY-th signal of a service waits for its recovery before the next; the others
    only IMPATIENT_SECONDS, so a service may be killed again while it starts or takes over (and
    twenty kills of a notifier, whose recovery waits out a dead owner's claims, fit the run)."""

    def __init__(
        self,
        fleet: Fleet,
        kills: int,
        rng: random.Random,
        peers_counts: Callable[[], dict[str, int]],
    ) -> None:
        self.fleet, self.kills_each, self.rng = fleet, kills, rng
        self.peers_counts = peers_counts
        self.done: list[Kill] = []
        self.pause = asyncio.Lock()
        """Held while something else (a broker restart) must not be mixed with a kill."""
        self._watchers: dict[str, asyncio.Task[None]] = {}
        self._next: dict[str, float] = {}
        """When (monotonic) each service may be signalled again at the latest."""
        self._terms = {name: rng.randrange(kills + 1) for name in fleet.processes}
        """After how many of its kills each service gets its SIGTERM."""

    def left(self, name: str) -> int:
        """Signals service `name` has still to get."""
        sent = sum(kill.service == name for kill in self.done)
        return self.kills_each + 1 - sent

    def eligible(self, name: str) -> bool:
        """Service `name` has signals left and recovered from the last, or waited long enough."""
        watcher = self._watchers.get(name)
        waited = time.monotonic() >= self._next.get(name, 0.0)
        return bool(self.left(name)) and (watcher is None or watcher.done() or waited)

    async def run(self, admin: AIOKafkaAdminClient, deadline: float) -> None:
        """Signal services until each had its share (or time.monotonic() passed `deadline`);
        then wait for the last restarted ones to recover."""
        while time.monotonic() < deadline and any(self.left(n) for n in self.fleet.processes):
            await asyncio.sleep(self.rng.uniform(0.3, 2.0))
            ready = [n for n in self.fleet.processes if self.eligible(n)]
            if ready:
                async with self.pause:
                    self.fleet.revive()
                    await self._signal(admin, self.rng.choice(sorted(ready)))
        await asyncio.gather(*self._watchers.values(), return_exceptions=True)

    async def settled(self) -> None:
        """Wait (a while at most) until no signalled service is still recovering."""
        if self._watchers:
            await asyncio.wait([*self._watchers.values()], timeout=RECOVERY_TIMEOUT / 4)

    async def _signal(self, admin: AIOKafkaAdminClient, name: str) -> None:
        process = self.fleet.processes[name]
        mine = [k for k in self.done if k.service == name]
        kills = sum(k.signal == "SIGKILL" for k in mine)
        term = all(k.signal != "SIGTERM" for k in mine) and (
            kills >= self._terms[name] or kills == self.kills_each
        )
        if (watcher := self._watchers.get(name)) is not None:
            watcher.cancel()  # signalled again before it recovered: that one stays None
        group, partitions = self.fleet.groups[name], self.fleet.partitions(name)
        at = time.time()
        code = await asyncio.to_thread(process.stop if term else process.kill)
        # Where the process left its group, once it is gone: a stopped one commits on its way
        # out, and that commit is not the restarted one's recovery.
        before = await committed(admin, group, partitions)
        counts = {}
        if name == "notifier":  # what the dead one sent, its last requests landed; not a new one's
            await asyncio.sleep(LANDING_SECONDS)
            counts = self.peers_counts()
        process.start()
        kill = Kill(name, "SIGTERM" if term else "SIGKILL", at, code, peers_counts=counts)
        self.done.append(kill)
        patient = len(mine) % PATIENT_EVERY == 0
        self._next[name] = time.monotonic() + (RECOVERY_TIMEOUT if patient else IMPATIENT_SECONDS)
        self._watchers[name] = asyncio.create_task(recovery(admin, group, partitions, kill, before))


async def recovery(
    admin: AIOKafkaAdminClient,
    group: str,
    partitions: list[TopicPartition],
    kill: Kill,
    before: int,
) -> None:
    """Set `kill.recovered_seconds` once `group` has committed more than `before` on
    `partitions` (give up after RECOVERY_TIMEOUT)."""
    while time.time() - kill.at < RECOVERY_TIMEOUT:
        if await committed(admin, group, partitions) > before:
            kill.recovered_seconds = round(time.time() - kill.at, 2)
            return
        await asyncio.sleep(SAMPLE_SECONDS)


def recovery_figures(kills: list[Kill]) -> dict[str, dict[str, float | int | None]]:
    """Per service and signal: how many, median and max seconds to recover, and how many were
    signalled again first (or the run ended first, or not within RECOVERY_TIMEOUT)."""
    figures: dict[str, dict[str, float | int | None]] = {}
    for name in sorted({k.service for k in kills}):
        for signal in ("SIGKILL", "SIGTERM"):
            mine = [k for k in kills if k.service == name and k.signal == signal]
            times = [k.recovered_seconds for k in mine if k.recovered_seconds is not None]
            figures[f"{name} {signal}"] = {
                "count": len(mine),
                "median_s": round(statistics.median(times), 1) if times else None,
                "max_s": max(times, default=None),
                "not_recovered_before_next_signal_or_end": len(mine) - len(times),
            }
    return figures


async def storms(
    peers: Peers, schedule: tuple[tuple[float, str, int], ...], size: int, seconds: float
) -> list[dict[str, Any]]:
    """Script the providers' storms at their moments of the publishing time: `schedule` says
    when (share of it), whom and with what status; each storm fails `size` requests."""
    started, done = time.monotonic(), []
    for share, peer, status in schedule:
        await asyncio.sleep(max(0.0, started + share * seconds - time.monotonic()))
        answer = await asyncio.to_thread(peers.command, f"fail {peer} {status} {size}")
        done.append({**answer, "at": time.time()})
    return done
