"""The demo: a real broker, the three services as processes, a few orders, then what was sent.

`python -m orderpulse_devkit.demo [--workdir var/demo]`. Starts from a clean work dir each time;
leaves the outbox (and the service logs) there for a person to open.
"""

import argparse
import asyncio
import json
import logging
import shutil
import sys
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer, ConsumerRecord

from orderpulse_devkit.journeys import upcoming
from orderpulse_devkit.kafka import create_topics, kafka_bootstrap
from orderpulse_devkit.records import read_records
from orderpulse_devkit.services import MODULES, ServiceProcess, service_settings
from orderpulse_schemas import examples
from orderpulse_schemas.topics import ALL_TOPICS

DEMO_PORT = 19092
MALFORMED = b'{"type": "order.accepted", "subject": "ord-broken", "data": {"order_number": 1'


def journeys() -> list[dict[str, Any]]:
    """Realistic order events: a Czech home delivery and an English pickup-point order."""
    czech = upcoming(examples.load("orders.v1", "order.accepted"))
    english = upcoming(examples.load("orders.v1", "order.accepted"))
    point = examples.load("shipments.v1", "shipment.at_pickup_point")["data"]["point"]
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
    return [czech, english]


async def publish(bootstrap: str, events: list[dict[str, Any]]) -> None:
    """Publish as an e-shop would: JSON bytes keyed by the order id, plus one broken message."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait("orders.v1", MALFORMED, key=b"ord-broken")
        for event in events:
            value = json.dumps(event, ensure_ascii=False).encode()
            await producer.send_and_wait("orders.v1", value, key=event["subject"].encode())
    finally:
        await producer.stop()


async def run(workdir: Path) -> int:
    """Run the whole demo; 0 when every expected message was sent."""
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
            await publish(bootstrap, events)
            print(f"Published {len(events)} orders and 1 malformed message to orders.v1")
            async with asyncio.timeout(90):
                outcomes = await read_records(
                    bootstrap, "notification-outcomes.v1", 2 * len(events)
                )
                dead = await read_records(bootstrap, "orders.v1.dlq", 1)
        except TimeoutError:
            for service in services:
                print(f"\n== {service.name} log ==\n{service.log()}", file=sys.stderr)
            return 1
        finally:
            for service in services:
                service.stop()
    report(workdir, outcomes, dead)
    return 0


def report(
    workdir: Path,
    outcomes: list[ConsumerRecord[bytes, bytes]],
    dead: list[ConsumerRecord[bytes, bytes]],
) -> None:
    """Tell the person what was sent and where to look."""
    outbox = workdir / "outbox"
    print("\nWhat the customers got (the local outbox; nothing left this machine):")
    for outcome in (json.loads(record.value) for record in outcomes):
        data = outcome["data"]
        path = outbox / data["provider_message_id"]
        if data["channel"] == "email":
            email = message_from_bytes(path.read_bytes(), policy=policy.default)
            print(f"\n  EMAIL to {email['To']}\n    Subject: {email['Subject']}")
            print(f"    Open in a browser: {path.with_suffix('.html')}")
            print(f"    Open in a mail client: {path}")
        else:
            meta, body = path.read_text(encoding="utf-8").split("\n\n", 1)
            sms = json.loads(meta)
            print(f"\n  SMS to {sms['to']} ({sms['encoding']}, {sms['segments']} segment(s))")
            print(f"    {body.strip()}")
    for record in dead:
        reason = dict(record.headers)["dlq-reason"].decode()
        print(f"\nDead-lettered to orders.v1.dlq (the services carried on): {reason}")
    print(f"\nEverything is in {outbox}/ ; service logs in {workdir}/*.log")


def main() -> None:
    """Parse arguments and run the demo."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workdir", type=Path, default=Path("var/demo"))
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # leader-election retries are expected
    sys.exit(asyncio.run(run(parser.parse_args().workdir.resolve())))


if __name__ == "__main__":
    main()
