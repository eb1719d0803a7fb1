"""What the pipeline benchmark publishes: realistic order journeys, at a paced rate.

A journey is one order's events in order: a home delivery (accepted, dispatched, in transit, out
for delivery, delivered) or a pickup-point one (accepted, dispatched, at the point, picked up);
one in eight is delayed by the shop (`order.delayed`) and still on its way when the run ends,
one in eight is delayed by the courier (`shipment.delayed`); one in three of those that arrive
is returned (requested, label issued, received, refunded). Customers write in cs, sk, pl and en.
Each journey knows which notification requests it must cause, so that a run can prove none was
lost or sent twice.
"""

import asyncio
import json
import math
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from orderpulse_devkit import journeys as stories

CUSTOMERS = (
    ("cs", "Petr", "Novák", "petr.novak@example.cz", "+420601123456"),
    ("sk", "Zuzana", "Horváthová", "zuzana.horvathova@example.sk", "+421905123456"),
    ("pl", "Piotr", "Wiśniewski", "piotr.wisniewski@example.pl", "+48601234567"),
    ("en", "Emma", "Clarke", "emma.clarke@example.com", "+420777123456"),
    ("cs", "Jana", "Dvořáková", "jana.dvorakova@example.cz", "+420602987654"),
    ("pl", "Anna", "Kowalska", "anna.kowalska@example.pl", "+48512345678"),
    ("sk", "Ján", "Kováč", "jan.kovac@example.sk", "+421911234567"),
)
"""Name, address and number per locale; everyone consents to email and SMS."""
HOME = ("order_accepted", "order_dispatched", "out_for_delivery", "delivered")
PICKUP = ("order_accepted", "order_dispatched", "at_pickup_point", "picked_up")
RETURN = ("return_requested", "return_label_issued", "return_received", "return_refunded")
INPUTS = {"order": "orders", "shipment": "shipments", "return": "returns"}
"""Event type prefix → the input topic it goes to."""


@dataclass(frozen=True)
class Journey:
    """One order's events and the notification requests they must cause, by kind."""

    events: list[dict[str, Any]]
    requests: Counter[str]


@dataclass(frozen=True)
class Phase:
    """Publish at `rate` events/s for `seconds` (the last phase lasts until the events run out)."""

    seconds: float
    rate: float
    name: str = "steady"


def journeys(count: int, first: int) -> list[Journey]:
    """`count` journeys of orders `ord-<first>`, `ord-<first + 1>`, … told as of now."""
    now = datetime.now(UTC)
    return [journey(f"ord-{n}", random.Random(n), now) for n in range(first, first + count)]


def journey(order: str, rng: random.Random, now: datetime) -> Journey:
    """One order: home (3 in 5) or pickup, maybe delayed, maybe returned, by `rng`.

    Each event's dates keep their distance from the event, told as of `now`; the promises of
    `order.accepted` lie ahead (`upcoming`). Publishing sets each `time` to the moment it is sent.
    """
    home = rng.random() < 0.6
    events = stories.home_journey_for(order) if home else stories.pickup_journey(order)
    events = [stories.at(event, now) for event in events]
    stories.upcoming(events[0])
    locale, first, last, email, phone = rng.choice(CUSTOMERS)
    events[0]["data"]["customer"].update(
        first_name=first, last_name=last, email=email, phone=phone, locale=locale
    )
    delay = rng.random()
    if delay < 0.125:
        return _delayed_by_shop(order, events, now)
    requests = Counter(HOME if home else PICKUP)
    requests["return_instructions"] += 1  # the returns service's, once the order arrived
    if delay < 0.25:  # the courier's, on the way
        parcel = {key: events[1]["data"][key] for key in ("carrier", "tracking_number")}
        delayed = stories.event(
            "shipment.delayed", id=f"evt-{order}-shipment-delayed", subject=order, data=parcel
        )
        events.insert(2, stories.at(delayed, now))
        requests["order_delayed"] += 1
    if rng.random() < 1 / 3:
        events += stories.return_journey_for(order)
        requests.update(RETURN)
    return Journey(events, requests)


def _delayed_by_shop(order: str, events: list[dict[str, Any]], now: datetime) -> Journey:
    """Accepted, delayed by the shop, dispatched (and scanned): still on its way.

    It stops there because the shop's `order.delayed` and the courier's events travel on
    different topics, which Kafka does not order: behind a backlog, the tracker may hear of the
    arrival first and then, rightly, say nothing about the delay.
    """
    delayed = stories.event("order.delayed", id=f"evt-{order}-delayed", subject=order)
    on_its_way = [e for e in events if e["type"] in ("shipment.dispatched", "shipment.in_transit")]
    requests = Counter(("order_accepted", "order_delayed", "order_dispatched"))
    return Journey([events[0], stories.at(delayed, now), *on_its_way], requests)


def mean_events() -> float:
    """How many events a journey has on average, in this mix."""
    sample = journeys(1000, 0)
    return sum(len(journey.events) for journey in sample) / len(sample)


def topic_key(event: dict[str, Any]) -> str:
    """Which input topic (orders, shipments, returns) carries `event`."""
    return INPUTS[event["type"].split(".", 1)[0]]


def phase_of(offset: float, phases: Sequence[Phase]) -> int:
    """Which phase an event sent `offset` seconds after the first one belongs to."""
    end = 0.0
    for index, phase in enumerate(phases):
        end += phase.seconds
        if offset < end:
            return index
    return len(phases) - 1


def schedule(count: int, phases: Sequence[Phase]) -> list[float]:
    """When each of `count` events is due, in seconds from the start, phase by phase."""
    offsets: list[float] = []
    start = 0.0
    for index, phase in enumerate(phases):
        last = index == len(phases) - 1
        room = count - len(offsets)
        n = room if last else min(room, math.floor(phase.seconds * phase.rate))
        offsets += [start + i / phase.rate for i in range(n)]
        start += n / phase.rate
    return offsets


async def publish(
    bootstrap: str,
    stream: Sequence[dict[str, Any]],
    offsets: Sequence[float],
    topics: dict[str, str],
) -> list[float]:
    """Send `stream[i]` at `offsets[i]` from now, each `time` set to when it is sent.

    Returns those moments (epoch seconds). Falling behind, it sends at once to catch up, so the
    moments, not the schedule, say what load was offered.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    sent: list[float] = []
    try:
        for topic in set(topics.values()):
            await producer.partitions_for(topic)  # metadata now, not on the clock of a first send
        start = time.monotonic()
        for event, offset in zip(stream, offsets, strict=True):
            if (wait := start + offset - time.monotonic()) > 0:
                await asyncio.sleep(wait)
            now = time.time()
            event["time"] = datetime.fromtimestamp(now, UTC).isoformat()
            value = json.dumps(event, ensure_ascii=False).encode()
            await producer.send(topics[topic_key(event)], value, key=event["subject"].encode())
            sent.append(now)
        await producer.flush()
    finally:
        await producer.stop()
    return sent
