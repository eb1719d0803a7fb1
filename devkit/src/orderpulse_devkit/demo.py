"""The demo: a real broker, the services as processes, a few orders, then what was sent.

The three services every order passes through, and couriers, which polls a local fake of
Packeta's API for the one order whose shop tells only its acceptance and dispatch.

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

from orderpulse_devkit.demo_orders import (
    PACKET,
    SHOP,
    journeys,
    last_pickup_day,
    ready_for_pickup,
)
from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.peers import TEST_API_PASSWORD, PacketaFake
from orderpulse_devkit.records import NotificationWatch, RecordWatch, read_records
from orderpulse_devkit.services import BRIDGES, MODULES, ServiceProcess, service_settings
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
COURIERS_SOURCE = "/orderpulse/couriers/"
EXPECTED_REQUESTS = 9
"""Three order_accepted, two order_dispatched, delivered (deploy/shops.yaml announces neither the
transit scans nor out_for_delivery), return_instructions, return_requested and at_pickup_point
(ord-20002's, from Packeta through couriers)."""


async def publish(bootstrap: str, events: list[dict[str, Any]]) -> None:
    """Publish as an e-shop would: JSON bytes keyed by the order id, plus one broken message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(ORDERS.name, MALFORMED, key=b"ord-broken")
        for message in events:
            value = json.dumps(message, ensure_ascii=False).encode()
            topic = TOPIC_OF[message["type"].split(".", 1)[0]]
            await producer.send_and_wait(topic, value, key=message["subject"].encode())
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
    now = datetime.now(SHOP_ZONE).replace(microsecond=0)
    events = journeys(now)
    async with kafka_bootstrap(workdir / "kafka", port=DEMO_PORT) as bootstrap:
        print(f"Kafka is up at {bootstrap}")
        await create_topics(
            bootstrap, [t.name for t in ALL_TOPICS] + [t.dead_letter for t in ALL_TOPICS]
        )
        with PacketaFake() as packeta:
            # The shop registered the packet with Packeta, which took it in last night.
            packeta.add_status(PACKET, 2, now - timedelta(hours=16))
            return await run_services(workdir, bootstrap, events, packeta, now)


async def run_services(
    workdir: Path, bootstrap: str, events: list[dict[str, Any]], packeta: PacketaFake, now: datetime
) -> int:
    """Start the services, publish, wait for every request's outcome, stop them, report."""
    packeta_settings = {
        "COURIERS_PACKETA_API_URL": packeta.api_url,
        "COURIERS_PACKETA_API_PASSWORDS": json.dumps({SHOP: TEST_API_PASSWORD}),
        "COURIERS_PACKETA_POLL_SECONDS": "0.5",  # 30 minutes after news in production
    }
    services = [
        ServiceProcess(name, service_settings(name, bootstrap, workdir), workdir)
        for name in [*MODULES, *BRIDGES]
    ]
    for service in services:
        if service.name == "couriers":
            service.env |= packeta_settings
    for service in services:
        service.start()
    print("Services started:", ", ".join(s.name for s in services))
    try:
        async with (
            NotificationWatch(bootstrap, NOTIFICATIONS.name) as requests,
            NotificationWatch(bootstrap, NOTIFICATION_OUTCOMES.name) as outcomes,
            RecordWatch(bootstrap, SHIPMENTS.name) as shipments,
        ):
            await publish(bootstrap, events)
            print_published(events)
            print(
                f"Packeta's API (a local fake) tells couriers of Z{PACKET}: arrived, "
                f"then ready for pickup until {last_pickup_day(now):%a %d %b}"
            )
            async with asyncio.timeout(90):
                await asyncio.gather(settled(requests, outcomes), ready_for_pickup(packeta, now))
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
    finally:  # SIGTERM to all at once: each takes a moment to finish
        codes = await asyncio.gather(*(asyncio.to_thread(s.stop) for s in services))
        exits = {service.name: code for service, code in zip(services, codes, strict=True)}
    if unclean := {name: code for name, code in exits.items() if code != 0}:
        print(f"Services that did not stop cleanly (exit codes): {unclean}", file=sys.stderr)
        return 1
    bridged = {
        message["id"]
        for message in map(json.loads, (record.value for record in shipments.records))
        if message["source"].startswith(COURIERS_SOURCE)
    }
    report(workdir, values(requests), values(outcomes), dead[0], bridged)
    return 0


def print_published(events: list[dict[str, Any]]) -> None:
    """Say what went in: each order's events, and the broken message."""
    for order in dict.fromkeys(message["subject"] for message in events):
        types = [message["type"] for message in events if message["subject"] == order]
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
    bridged: set[str],
) -> None:
    """Tell the person what each customer was sent, order by order, and where to look.

    `bridged`: the ids of the events couriers published, which caused the requests they did.
    """
    outbox = workdir / "outbox"
    waiting = deferred_texts(workdir)
    print("\nWhat the customers got (the local outbox; nothing left this machine):")
    for order in dict.fromkeys(request["subject"] for request in requests):
        mine = [request["data"] for request in requests if request["subject"] == order]
        customer = mine[0]["customer"]
        print(f"\n{order} ({customer['first_name']} {customer['last_name']})")
        for request in mine:
            print(f"  {request['notice']['kind']}")
            if request.get("cause_id") in bridged:
                print(
                    "    not published by the shop: couriers polled Packeta's tracking (the fake)"
                    " and published it to shipments.v1"
                )
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
