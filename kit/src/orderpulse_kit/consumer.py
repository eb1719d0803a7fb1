"""How this process's Kafka consumer is doing: still consuming (`/healthz`), and how far behind
its group is on the partitions this process holds (`orderpulse_consumer_lag` on `/metrics`).

FastStream starts the broker only after the ASGI start-up, so if Kafka is unreachable then, the
consumer never starts and uvicorn serves on; a consume task that ends (its consumer closed) or is
cancelled is not restarted either. Only a restart helps, so `/healthz` answers 503 and Kubernetes
restarts the pod. The process does not exit by itself: uvicorn belongs to `__main__`, and a
self-sent SIGTERM would exit 0 like a clean stop. A Kafka outage while consuming is no such case:
aiokafka reconnects, and `/readyz` reports it.

Each replica reports the lag of its own partitions only, so `sum by (group, topic)` is the group's
lag with nothing counted twice; a partition no replica holds, or a process Kafka does not answer,
reports nothing rather than a stale number.

"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from faststream.asgi import AsgiFastStream
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import LogicSubscriber
from prometheus_client import Gauge

from orderpulse_kit import chores

log = logging.getLogger(__name__)

Labels = tuple[str, str, str]
"""group, topic, partition"""

LAG = Gauge(
    "orderpulse_consumer_lag",
    "Records on the partitions assigned to this process that the group has not committed yet.",
    ["group", "topic", "partition"],
)


def consuming(broker: KafkaBroker) -> bool:
    """Whether every subscriber runs and still has a consume task going."""
    subscribers = broker.subscribers
    return bool(subscribers) and all(
        isinstance(s, LogicSubscriber) and s.running and any(not t.done() for t in s.tasks)
        for s in subscribers
    )


def report_lag(app: AsgiFastStream, broker: KafkaBroker, interval: float = 10.0) -> None:
    """Refresh `LAG` every `interval` seconds while `app` runs."""
    shown: dict[Labels, int] = {}

    def show(lags: dict[Labels, int]) -> None:
        nonlocal shown
        for gone in shown.keys() - lags.keys():
            LAG.remove(*gone)
        for labels, lag in lags.items():
            LAG.labels(*labels).set(lag)
        shown = lags

    async def refresh() -> None:
        try:
            async with asyncio.timeout(interval):
                show(await measure_lag(broker))
        except Exception as error:
            log.warning("consumer lag unknown: %r", error)
            show({})

    async def forget() -> None:
        show({})

    chores.every(app, interval, refresh, "measuring consumer lag")
    app.after_shutdown(forget)


async def measure_lag(broker: KafkaBroker) -> dict[Labels, int]:
    """End offset minus committed offset (or log start) by (group, topic, partition) assigned."""
    found: dict[Labels, int] = {}
    for subscriber in broker.subscribers:
        consumer = getattr(subscriber, "consumer", None)
        group = getattr(subscriber, "group_id", None)
        # Not started, the test broker's fake, or no group that commits: nothing to report.
        if not isinstance(consumer, AIOKafkaConsumer) or not group:
            continue
        assigned = sorted(consumer.assignment())
        if not assigned:
            continue
        ends = await consumer.end_offsets(assigned)
        committed = await asyncio.gather(*(consumer.committed(tp) for tp in assigned))
        never = [tp for tp, offset in zip(assigned, committed, strict=True) if offset is None]
        starts = await consumer.beginning_offsets(never) if never else {}
        for tp, offset in zip(assigned, committed, strict=True):
            done = starts[tp] if offset is None else offset
            found[(group, tp.topic, str(tp.partition))] = max(ends[tp] - done, 0)
    return found
