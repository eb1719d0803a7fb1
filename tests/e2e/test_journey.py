"""One order journey through the three services, each its own process, on a real Kafka broker.

The e-shop's event is produced by a plain Kafka client (aiokafka's producer with JSON bytes), as
an integrator would, not by our code. The same running services show what operators watch: their
liveness, their consumer lag, and that the alert rules read only metrics they serve.
"""

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Iterator
from email import message_from_bytes, policy
from pathlib import Path

import aiohttp
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from orderpulse_devkit.journeys import upcoming
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.records import read_records
from orderpulse_devkit.services import (
    BRIDGES,
    MODULES,
    REPO,
    ServiceProcess,
    announce_everything,
    service_settings,
)
from orderpulse_devkit.waiting import answers, eventually, url
from orderpulse_kit import dead_letters
from orderpulse_schemas import examples
from orderpulse_schemas.topics import ALL_TOPICS

pytestmark = pytest.mark.kafka

SUBSCRIBED = {
    "status-tracker": {
        "orders.v1",
        "shipments.v1",
        "erasure-requests.v1",
        "notification-outcomes.v1",
    },
    "notifier": {"notifications.v1"},
    "returns": {"order-status.v1", "returns.v1", "erasure-requests.v1"},
    "couriers": {"orders.v1", "shipments.v1"},
}
"""The topics each service's consumer group reads (its group id is its name)."""
ALERTS = REPO / "deploy" / "k8s" / "monitoring" / "alerts.yaml"
NOT_OURS = {
    "up",  # Prometheus, per target
    "kube_deployment_status_replicas_available",  # kube-state-metrics, from here on
    "kube_pod_status_ready",
    "kube_pod_container_status_restarts_total",
    "kube_horizontalpodautoscaler_status_current_replicas",
    "kube_horizontalpodautoscaler_spec_max_replicas",
}
"""Metrics the alert rules may read that the services do not serve."""


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
        for name in {**MODULES, **BRIDGES}
    }
    for service in running.values():
        service.start()
    try:
        for service in running.values():
            await answers(service, "/readyz", 200)  # up, with its database and the broker
        yield running
    finally:
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

    async with asyncio.timeout(60):  # each group reading orders.v1 dead-letters its copy
        dead = await read_records(kafka, "orders.v1.dlq", 2)
    assert [r.value for r in dead] == [b'{"type": "order.accepted", '] * 2
    headers = [dict(record.headers) for record in dead]
    assert all(h[dead_letters.REASON].decode().startswith("not valid JSON") for h in headers)
    assert {h[dead_letters.SOURCE_TOPIC] for h in headers} == {b"orders.v1"}
    groups = {h[dead_letters.CONSUMER_GROUP] for h in headers}
    assert groups == {b"status-tracker", b"couriers"}


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


async def test_each_service_is_alive_while_it_consumes(
    services: dict[str, ServiceProcess],
) -> None:
    """The counterpart of test_liveness.py: a consuming service passes its liveness probe."""
    for service in services.values():
        await answers(service, "/healthz", 204, within=30)


async def test_each_service_reports_the_lag_of_its_consumer_group(
    kafka: str, services: dict[str, ServiceProcess]
) -> None:
    """Every partition of its topics (one replica holds them all), none behind once idle."""
    lags: dict[str, dict[tuple[str, str], float]] = {}
    # Other modules' services share the session's broker and may have made a topic first.
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        described = await admin.describe_topics(sorted(set().union(*SUBSCRIBED.values())))
    finally:
        await admin.close()
    partitions = {t["topic"]: {str(p["partition"]) for p in t["partitions"]} for t in described}

    async def caught_up() -> bool:
        for name, service in services.items():
            lags[name] = {
                (s.labels["topic"], s.labels["partition"]): s.value
                for s in await metrics(service)
                if s.name == "orderpulse_consumer_lag" and s.labels["group"] == name
            }
        return all(
            set(lag) == {(topic, p) for topic in SUBSCRIBED[name] for p in partitions[topic]}
            and not any(lag.values())
            for name, lag in lags.items()
        )

    deadline = time.monotonic() + 60  # it is refreshed every 10 s
    while not await caught_up():
        assert time.monotonic() < deadline, f"consumer lag on /metrics: {lags}"
        await asyncio.sleep(1)


async def test_the_alert_rules_read_only_metrics_the_services_expose(
    services: dict[str, ServiceProcess],
) -> None:
    exposed = set().union(*[await metric_names(service) for service in services.values()])
    rules = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["spec"]["groups"]
    read = {
        rule["alert"]: promql_metrics(rule["expr"]) for group in rules for rule in group["rules"]
    }
    assert "orderpulse_consumer_lag" in set().union(*read.values())  # the parser finds names
    unknown = {alert: names - exposed - NOT_OURS for alert, names in read.items()}
    assert {alert: names for alert, names in unknown.items() if names} == {}


def test_promql_metrics_are_told_from_functions_labels_and_keywords() -> None:
    expr = """histogram_quantile(0.99, sum by (le, channel) (rate(a_bucket{x=~"y|z"}[5m])))
              > on (channel) b offset 15m or c unless d"""
    assert promql_metrics(expr) == {"a_bucket", "b", "c", "d"}


def promql_metrics(expr: str) -> set[str]:
    """The metric names a PromQL expression reads, by a rough tokenizer good for our rules."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)  # strings
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\boffset\s+\w+", "", expr)  # matchers, ranges, offsets
    expr = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    words = re.finditer(r"([a-zA-Z_:][\w:]*)\s*(\(?)", expr)
    return {m[1] for m in words if not m[2]} - {"and", "or", "unless", "bool"}


async def metric_names(service: ServiceProcess) -> set[str]:
    """Every name a service's /metrics serves, with a histogram's and a counter's suffixes even
    for families that have no sample yet (a counter with labels appears at its first count)."""
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}
    families = text_string_to_metric_families(await scrape(service))
    return {
        name
        for family in families
        for name in (
            {family.name + suffix for suffix in suffixes.get(family.type, ("",))}
            | {sample.name for sample in family.samples}
        )
    }


async def scrape(service: ServiceProcess) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url(service, "/metrics")) as response,
    ):
        assert response.status == 200
        return await response.text()


async def metrics(service: ServiceProcess) -> list[Sample]:
    """The samples a service's /metrics shows now."""
    text = await scrape(service)
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def total(samples: list[Sample], name: str, labels: dict[str, str]) -> float:
    """The sum of the samples called `name` whose labels include `labels`."""
    return sum(
        sample.value
        for sample in samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )
