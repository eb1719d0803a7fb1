"""The demo: a real broker, the three services as processes, a few orders, then what was sent.

`python -m orderpulse_devkit.demo [--workdir var/demo]`. Starts from a clean work dir each time;
leaves the outbox (and the service logs) there for a person to open.
"""

import argparse
import asyncio
import json
import logging
import shutil
import sqlite3
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaProducer, ConsumerRecord

from orderpulse_devkit.journeys import at, home_journey, upcoming
from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.records import NotificationWatch, read_records
from orderpulse_devkit.services import MODULES, ServiceProcess, service_settings
from orderpulse_schemas import examples
from orderpulse_schemas.topics import (
    ALL_TOPICS,
    NOTIFICATION_OUTCOMES,
    NOTIFICATIONS,
    ORDERS,
    RETURNS,
    SHIPMENTS,
)

DEMO_PORT = 19092
SHOP_ZONE = ZoneInfo("Europe/Prague")
MALFORMED = b'{"type": "order.accepted", "subject": "ord-broken", "data": {"order_number": 1'
TOPIC_OF = {"order": ORDERS.name, "shipment": SHIPMENTS.name, "return": RETURNS.name}
EXPECTED_REQUESTS = 6
"""Two order_accepted, then order_dispatched, delivered (deploy/shops.yaml announces neither the
transit scan nor out_for_delivery), return_instructions and return_requested."""


def home_order(now: datetime) -> list[dict[str, Any]]:
    """ord-10045 (Petr Novák) told as of now: delivered half an hour ago, then withdrawn from.

    Promises lie ahead and the delivery was early: a date already missed would make the tracker
    announce a delay, which is not this story.
    """
    accepted, dispatched, in_transit, out_for_delivery, delivered = home_journey()
    yesterday = (now - timedelta(days=1)).date()
    return [
        upcoming(at(accepted, now - timedelta(days=2)), today=yesterday),  # dispatch due today
        at(dispatched, now - timedelta(days=1)),  # expected today
        at(in_transit, now - timedelta(hours=18)),
        at(out_for_delivery, now - timedelta(hours=3)),
        at(delivered, now - timedelta(minutes=30)),
        at(examples.load(RETURNS, "return.requested"), now - timedelta(minutes=5)),
    ]


def pickup_order(now: datetime) -> dict[str, Any]:
    """ord-20001 (Emma Clarke, English): accepted a moment ago, for a Zásilkovna point."""
    english = upcoming(at(examples.load(ORDERS, "order.accepted"), now - timedelta(minutes=2)))
    point = examples.load(SHIPMENTS, "shipment.at_pickup_point")["data"]["point"]
    english.update(id="evt-demo-20001-accepted", subject="ord-20001")
    english["data"].update(
        order_number="20001",
        items=[{"name": "Monstera deliciosa, 60 cm", "quantity": 1}],
        total={"amount": "689.00", "currency": "CZK"},
        delivery={"method": "pickup_point", "point": point},
        carrier="zasilkovna",
    )
    english["data"]["customer"].update(
        first_name="Emma",
        last_name="Clarke",
        email="emma.clarke@example.com",
        phone="+447700900123",
        locale="en",
    )
    return english


def journeys() -> list[dict[str, Any]]:
    """Every event of the demo, in the order the e-shop and the courier would publish them."""
    now = datetime.now(SHOP_ZONE).replace(microsecond=0)
    return [*home_order(now), pickup_order(now)]


async def publish(bootstrap: str, events: list[dict[str, Any]]) -> None:
    """Publish as an e-shop would: JSON bytes keyed by the order id, plus one broken message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(ORDERS.name, MALFORMED, key=b"ord-broken")
        for event in events:
            value = json.dumps(event, ensure_ascii=False).encode()
            topic = TOPIC_OF[event["type"].split(".", 1)[0]]
            await producer.send_and_wait(topic, value, key=event["subject"].encode())
    finally:
        await producer.stop()


async def settled(requests: NotificationWatch, outcomes: NotificationWatch) -> None:
    """Wait for the expected requests, then until each has an outcome and no more come (2 s).

    How many outcomes there are depends on the shop's channels and the hour (quiet hours hold
    texts back), so only requests are counted.
    """
    while True:
        seen = len(outcomes.records)
        await asyncio.sleep(2)
        requested = len(requests.ids) >= EXPECTED_REQUESTS
        if requested and requests.ids <= outcomes.ids and len(outcomes.records) == seen:
            return


async def run(workdir: Path) -> int:
    """Run the whole demo; 0 when every expected request was answered (or held for later)."""
    shutil.rmtree(workdir, ignore_errors=True)
    events = journeys()
    async with kafka_bootstrap(workdir / "kafka", port=DEMO_PORT) as bootstrap:
        print(f"Kafka is up at {bootstrap}")
        await create_topics(
            bootstrap, [t.name for t in ALL_TOPICS] + [t.dead_letter for t in ALL_TOPICS]
        )
        services = [
            ServiceProcess(name, service_settings(name, bootstrap, workdir), workdir)
            for name in MODULES
        ]
        for service in services:
            service.start()
        print("Services started:", ", ".join(s.name for s in services))
        try:
            async with (
                NotificationWatch(bootstrap, NOTIFICATIONS.name) as requests,
                NotificationWatch(bootstrap, NOTIFICATION_OUTCOMES.name) as outcomes,
            ):
                await publish(bootstrap, events)
                print_published(events)
                async with asyncio.timeout(90):
                    await settled(requests, outcomes)
                    dead = await read_records(bootstrap, ORDERS.dead_letter, 1)
        except TimeoutError:
            answered = len(requests.ids & outcomes.ids)
            print(
                f"Timed out after 90 s: {len(requests.ids)} of {EXPECTED_REQUESTS} notification "
                f"requests came, {answered} with an outcome. The service logs:",
                file=sys.stderr,
            )
            for service in services:
                print(f"\n== {service.name} log ==\n{service.log()}", file=sys.stderr)
            return 1
        finally:
            for service in services:
                service.stop()
    report(workdir, values(requests), values(outcomes), dead[0])
    return 0


def print_published(events: list[dict[str, Any]]) -> None:
    """Say what went in: each order's events, and the broken message."""
    for order in dict.fromkeys(event["subject"] for event in events):
        types = [event["type"] for event in events if event["subject"] == order]
        print(f"Published {order}: {', '.join(types)}")
    print(f"Published 1 malformed message to {ORDERS.name}")


def values(watch: NotificationWatch) -> list[dict[str, Any]]:
    """The watched messages in the order they came (per order, the order sent), each once.

    A service that crashed after publishing publishes the same message (same id) again.
    """
    messages = (json.loads(record.value) for record in watch.records)
    return list({message["id"]: message for message in messages}.values())


def report(
    workdir: Path,
    requests: list[dict[str, Any]],
    outcomes: list[dict[str, Any]],
    dead: ConsumerRecord[bytes, bytes],
) -> None:
    """Tell the person what each customer was sent, order by order, and where to look."""
    outbox = workdir / "outbox"
    waiting = deferred_texts(workdir)
    print("\nWhat the customers got (the local outbox; nothing left this machine):")
    for order in dict.fromkeys(request["subject"] for request in requests):
        mine = [request["data"] for request in requests if request["subject"] == order]
        customer = mine[0]["customer"]
        print(f"\n{order} ({customer['first_name']} {customer['last_name']})")
        for request in mine:
            print(f"  {request['notice']['kind']}")
            for outcome in outcomes:
                if outcome["data"]["notification_id"] == request["notification_id"]:
                    print_outcome(outbox, outcome)
            if request["notification_id"] in waiting:
                due = shop_time(waiting[request["notification_id"]])
                print(f"    SMS waits for the end of quiet hours ({due})")
    reason = dict(dead.headers)["dlq-reason"].decode()
    print(f"\nDead-lettered to {ORDERS.dead_letter} (the services carried on): {reason}")
    if waiting:
        texts = "1 text waits" if len(waiting) == 1 else f"{len(waiting)} texts wait"
        due = shop_time(min(waiting.values()))
        print(f"{texts} for the end of quiet hours ({due}), kept by the notifier till then")
    print(f"\nEverything is in {outbox}/ ; service logs (JSON lines) in {workdir}/*.log")


def print_outcome(outbox: Path, outcome: dict[str, Any]) -> None:
    """One channel of one notification: why it failed, or what the outbox got."""
    data = outcome["data"]
    if outcome["type"] == "notification.failed":
        print(f"    {data['channel'].upper()} not sent: {data['reason']}")
    elif outcome["type"] == "notification.sent" and data["channel"] == "email":
        print_email(outbox / data["provider_message_id"])
    elif outcome["type"] == "notification.sent":
        print_sms(outbox / data["provider_message_id"])
    # notification.delivered comes from a provider's receipt: the outbox gives none


def print_email(path: Path) -> None:
    """Who it is to and what it is about, read back from the .eml as a mail client would."""
    email = message_from_bytes(path.read_bytes(), policy=policy.default)
    print(f"    EMAIL to {email['To']}\n      Subject: {email['Subject']}")
    print(f"      Open in a browser: {path.with_suffix('.html')}")
    print(f"      Open in a mail client: {path}")


def print_sms(path: Path) -> None:
    """The text as the phone shows it, with what the network charges: encoding and segments."""
    meta, body = path.read_text(encoding="utf-8").split("\n\n", 1)
    sms = json.loads(meta)
    print(f"    SMS to {sms['to']} ({sms['encoding']}, {sms['segments']} segment(s))")
    print(f"      {body.strip()}")


def deferred_texts(workdir: Path) -> dict[str, datetime]:
    """Texts the notifier holds back for quiet hours, by notification id, with when they go.

    They have no outcome yet, so only the notifier's own table knows of them.
    """
    database = f"file:{workdir / 'notifier.db'}?mode=ro"
    with closing(sqlite3.connect(database, uri=True)) as db:
        rows = db.execute(
            "SELECT notification_id, due_at FROM notifier_deliveries WHERE status = 'deferred'"
        ).fetchall()
    return {id_: datetime.fromisoformat(due).replace(tzinfo=UTC) for id_, due in rows}


def shop_time(moment: datetime) -> str:
    """The time of day at the shop, which is its Czech customer's too."""
    return moment.astimezone(SHOP_ZONE).strftime("%H:%M")


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("var/demo"))
    logging.basicConfig(level=logging.WARNING)
    # Fresh topics elect their leaders while the demo reads them: aiokafka logs and retries.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    sys.exit(asyncio.run(run(parser.parse_args().workdir.resolve())))


if __name__ == "__main__":
    main()
