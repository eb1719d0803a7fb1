"""The chaos run's services and its monkey: processes killed at random, restarted at once, and
how long each took to recover (its consumer group committing again)."""

import asyncio
import contextlib
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from measure import committed

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


@dataclass
class Kill:
    """One signal the monkey sent, and when the service was back (committing)."""

    service: str
    signal: str
    at: float
    """Epoch seconds."""
    exit_code: int
    recovered_seconds: float | None = None
    """Signal → the restarted process's group committed past where it stood; None: not within
    RECOVERY_TIMEOUT."""
    peers_counts: dict[str, int] = field(default_factory=dict)
    """How many messages the providers had accepted just before the signal (notifier only)."""


class Fleet:
    """The three services as processes, on one run's topics and groups."""

    def __init__(
        self,
        bootstrap: str,
        topics: dict[str, str],
        workdir: Path,
        shops: Path,
        extra: dict[str, str],
    ) -> None:
        self.bootstrap, self.topics = bootstrap, topics
        self.groups = {name: f"chaos-{name}-{topics['orders']}" for name in MODULES}
        self.processes: dict[str, ServiceProcess] = {}
        for name, (_, prefix) in MODULES.items():
            env = service_settings(name, bootstrap, workdir, shops_file=shops)
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
            for p in range(PARTITIONS)
        ]


class Monkey:
    """Sends SIGKILL (`kills` per service) and one SIGTERM per service at random moments, each
    followed at once by a restart; a service is signalled again only once it has recovered."""

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
        self._recovering: set[str] = set()
        self._watchers: list[asyncio.Task[None]] = []
        self._terms = {name: rng.randrange(kills + 1) for name in fleet.processes}
        """After how many of its kills each service gets its SIGTERM."""

    def left(self, name: str) -> int:
        """Signals service `name` has still to get."""
        sent = sum(kill.service == name for kill in self.done)
        return self.kills_each + 1 - sent

    async def run(self, admin: AIOKafkaAdminClient, until: asyncio.Event) -> None:
        """Signal services until each had its share or `until` is set; then wait for the last
        restarted ones to recover."""
        while not until.is_set() and any(self.left(n) for n in self.fleet.processes):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(until.wait(), self.rng.uniform(0.3, 2.0))
            ready = [n for n in self.fleet.processes if self.left(n) and n not in self._recovering]
            if until.is_set() or not ready:
                continue
            async with self.pause:
                self.fleet.revive()
                await self._signal(admin, self.rng.choice(sorted(ready)))
        await asyncio.gather(*self._watchers)

    async def settled(self) -> None:
        """Wait until no signalled service is still recovering."""
        await asyncio.gather(*self._watchers)

    async def _signal(self, admin: AIOKafkaAdminClient, name: str) -> None:
        process = self.fleet.processes[name]
        kills = sum(k.service == name and k.signal == "SIGKILL" for k in self.done)
        terms = sum(k.service == name and k.signal == "SIGTERM" for k in self.done)
        term = not terms and (kills >= self._terms[name] or kills == self.kills_each)
        group, partitions = self.fleet.groups[name], self.fleet.partitions(name)
        before = await committed(admin, group, partitions)
        counts = self.peers_counts() if name == "notifier" else {}
        at = time.time()
        code = await asyncio.to_thread(process.stop if term else process.kill)
        process.start()
        kill = Kill(name, "SIGTERM" if term else "SIGKILL", at, code, peers_counts=counts)
        self.done.append(kill)
        self._recovering.add(name)
        self._watchers.append(asyncio.create_task(self._recovery(admin, kill, before)))

    async def _recovery(self, admin: AIOKafkaAdminClient, kill: Kill, before: int) -> None:
        group, partitions = self.fleet.groups[kill.service], self.fleet.partitions(kill.service)
        try:
            while time.time() - kill.at < RECOVERY_TIMEOUT:
                if await committed(admin, group, partitions) > before:
                    kill.recovered_seconds = round(time.time() - kill.at, 2)
                    return
                await asyncio.sleep(SAMPLE_SECONDS)
        finally:
            self._recovering.discard(kill.service)


def recovery_figures(kills: list[Kill]) -> dict[str, dict[str, float | int | None]]:
    """Per service and signal: how many, median and max seconds to recover, how many never did."""
    figures: dict[str, dict[str, float | int | None]] = {}
    for name in sorted({k.service for k in kills}):
        for signal in ("SIGKILL", "SIGTERM"):
            mine = [k for k in kills if k.service == name and k.signal == signal]
            times = [k.recovered_seconds for k in mine if k.recovered_seconds is not None]
            figures[f"{name} {signal}"] = {
                "count": len(mine),
                "median_s": round(statistics.median(times), 1) if times else None,
                "max_s": max(times, default=None),
                "not_recovered": len(mine) - len(times),
            }
    return figures
