"""One order journey through the three services, each its own process, on a real Kafka broker.

The e-shop's event is produced by a plain Kafka client (aiokafka's producer with JSON bytes), as
an integrator would, not by our code.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from orderpulse_devkit.journeys import upcoming
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import read_records
from orderpulse_devkit.services import (
    MODULES,
    ServiceProcess,
    announce_everything,
    service_settings,
)
from orderpulse_schemas import dead_letters, examples
from orderpulse_schemas.topics import ALL_TOPICS

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
async def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="module")
async def services(kafka: str, workdir: Path) -> AsyncIterator[dict[str, ServiceProcess]]:
    topics = [t.name for t in ALL_TOPICS] + [t.dead_letter for t in ALL_TOPICS]
    await create_topics(kafka, topics)
    shops = announce_everything(workdir)
    running = {
        name: ServiceProcess(
            name, service_settings(name, kafka, workdir, shops_file=shops), workdir
        )
        for name in MODULES
    }
    for service in running.values():
        service.start()
    yield running
    exits = {name: service.stop() for name, service in running.items()}  # stop all, then judge
    for name, code in exits.items():
        assert code == 0, f"{name} did not shut down cleanly:\n{running[name].log()}"
    unfit = {name: unfit_log_lines(service.log_path) for name, service in running.items()}
    assert unfit == {name: [] for name in running}, f"not JSON, or personal: {unfit}"


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


async def eventually(check: Callable[[], bool], services: dict[str, ServiceProcess]) -> None:
    """Wait up to 60 s for `check`, failing early with the logs if a service died."""
    deadline = time.monotonic() + 60
    while not check():
        for name, service in services.items():
            assert service.running, f"{name} died:\n{service.log()}"
        assert time.monotonic() < deadline, "timed out; logs:\n" + "\n".join(
            f"== {name}\n{s.log(30)}" for name, s in services.items()
        )
        await asyncio.sleep(0.2)


def unfit_log_lines(log: Path) -> list[str]:
    """Lines of a service's log that are not JSON objects or that hold the customer's contacts."""
    customer = examples.load("orders.v1", "order.accepted")["data"]["customer"]
    personal = [customer["email"], customer["email"].split("@")[0], customer["phone"]]
    return [
        line
        for line in log.read_text(encoding="utf-8").splitlines()
        if not json_object(line) or any(value in line for value in personal)
    ]


def json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def outbox(workdir: Path, order_number: str) -> Iterator[Path]:
    return (workdir / "outbox" / "kvetinac-cz" / order_number).rglob("*.*")


async def test_an_accepted_order_becomes_one_czech_email_and_one_sms(
    kafka: str, services: dict[str, ServiceProcess], producer: AIOKafkaProducer, workdir: Path
) -> None:
    event = upcoming(examples.load("orders.v1", "order.accepted"))
    value = json.dumps(event, ensure_ascii=False).encode()
    await producer.send_and_wait("orders.v1", value=value, key=event["subject"].encode())

    await eventually(lambda: len(list(outbox(workdir, "10045"))) >= 3, services)
    await asyncio.sleep(1)  # a duplicate would show up by now
    files = sorted(outbox(workdir, "10045"))
    assert [f.suffix for f in files] == [".eml", ".html", ".txt"]

    email = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert email["Subject"] == "Přijali jsme vaši objednávku č. 10045"
    assert email["To"] == "Petr Novák <petr.novak@example.cz>"
    text = email.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert text.startswith("Dobrý den, Petře,")
    sms = files[2].read_text()
    assert '"to": "+420601123456"' in sms
    assert "Dekujeme, objednavku c. 10045 jsme prijali." in sms

    async with asyncio.timeout(60):
        outcomes = await read_records(kafka, "notification-outcomes.v1", 2)
    sent = [json.loads(r.value) for r in outcomes if r.key == b"ord-10045"]
    assert sorted(o["data"]["channel"] for o in sent) == ["email", "sms"]
    assert {o["type"] for o in sent} == {"notification.sent"}


async def test_a_malformed_event_is_dead_lettered_and_the_next_one_still_flows(
    kafka: str, services: dict[str, ServiceProcess], producer: AIOKafkaProducer, workdir: Path
) -> None:
    english = upcoming(examples.load("orders.v1", "order.accepted"))
    english.update(id="evt-e2e-en-accepted", subject="ord-20001")
    english["data"].update(order_number="20001")
    english["data"]["customer"].update(first_name="Emma", last_name="Clarke", locale="en")

    await producer.send_and_wait("orders.v1", value=b'{"type": "order.accepted", ', key=b"ord-x")
    await producer.send_and_wait("orders.v1", value=json.dumps(english).encode(), key=b"ord-20001")

    await eventually(lambda: len(list(outbox(workdir, "20001"))) >= 3, services)
    email = next(f for f in outbox(workdir, "20001") if f.suffix == ".eml")
    message = message_from_bytes(email.read_bytes(), policy=policy.default)
    assert message["Subject"] == "We have received your order 20001"

    async with asyncio.timeout(60):
        dead = await read_records(kafka, "orders.v1.dlq", 1)
    assert [r.value for r in dead] == [b'{"type": "order.accepted", ']
    headers = dict(dead[0].headers)
    assert headers[dead_letters.REASON].decode().startswith("not valid JSON")
    assert headers[dead_letters.SOURCE_TOPIC] == b"orders.v1"
    assert headers[dead_letters.CONSUMER_GROUP] == b"status-tracker"


async def test_each_service_counts_its_work_on_metrics(
    kafka: str, services: dict[str, ServiceProcess], producer: AIOKafkaProducer, workdir: Path
) -> None:
    before = {name: await metrics(service) for name, service in services.items()}
    accepted = upcoming(examples.load("orders.v1", "order.accepted"))
    accepted.update(id="evt-e2e-metrics-accepted", subject="ord-30001")
    accepted["data"].update(order_number="30001")
    delivered = examples.load("order-status.v1", "order.status_changed")
    delivered.update(id="evt-e2e-metrics-delivered", subject="ord-30002")
    delivered["data"].update(order_number="30002")
    for topic, event in (("orders.v1", accepted), ("order-status.v1", delivered)):
        value = json.dumps(event).encode()
        await producer.send_and_wait(topic, value=value, key=event["subject"].encode())
    await eventually(
        lambda: bool(list(outbox(workdir, "30001"))) and bool(list(outbox(workdir, "30002"))),
        services,
    )
    await asyncio.sleep(1)  # the outcomes are counted as they are published
    after = {name: await metrics(service) for name, service in services.items()}

    def moved(service: str, name: str, **labels: str) -> float:
        return total(after[service], name, labels) - total(before[service], name, labels)

    assert moved("status-tracker", "orderpulse_received_messages_total") >= 1
    assert moved("status-tracker", "orderpulse_published_messages_total") >= 2  # status, request
    assert moved("returns", "orderpulse_received_messages_total") >= 1
    to_notifier = {"destination": "notifications.v1"}
    assert moved("returns", "orderpulse_published_messages_total", **to_notifier) >= 1
    assert moved("notifier", "orderpulse_notifier_outcomes_total", outcome="sent") >= 2
    assert moved("notifier", "orderpulse_notifier_event_to_send_seconds_count") >= 2
    assert total(after["notifier"], "process_cpu_seconds_total", {}) > 0


async def metrics(service: ServiceProcess) -> list[Sample]:
    """The samples a service's /metrics shows now."""
    port = next(value for key, value in service.env.items() if key.endswith("_HTTP_PORT"))
    url = f"http://127.0.0.1:{port}/metrics"
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        assert response.status == 200
        text = await response.text()
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def total(samples: list[Sample], name: str, labels: dict[str, str]) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        sample.value
        for sample in samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
