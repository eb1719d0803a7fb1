"""Returns across services: the returns service in-process on a real broker, with the notifier
(rendering into its outbox) and the tracker (for multi-parcel orders) beside it.

Every test has its own topics, consumer groups and SQLite files; events are produced as JSON bytes
by a plain aiokafka producer, as a shop's backend or the tracker would.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from faststream import TestApp

from orderpulse_devkit.groups import caught_up
from orderpulse_devkit.journeys import event
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.services import announce_everything
from orderpulse_kit import dead_letters
from orderpulse_notifier.app import build_app as build_notifier
from orderpulse_notifier.settings import Settings as NotifierSettings
from orderpulse_returns.app import build_app
from orderpulse_returns.settings import Settings
from orderpulse_schemas import examples
from orderpulse_status_tracker.app import build_app as build_tracker
from orderpulse_status_tracker.settings import Settings as TrackerSettings

pytestmark = pytest.mark.kafka

SHOP = "kvetinac-cz"
NO_RETURNS_SHOP = "bez-vraceni-cz"
"""The example shop again, without a `returns` section: it does not take returns through us."""
STEPS = ["requested", "label_issued", "received", "refunded"]
RETURN_KINDS = ["return_requested", "return_label_issued", "return_received", "return_refunded"]
WAIT = 30.0
"""Seconds to wait for what must come; far more than it takes."""
QUIET = 1.0
"""Seconds to wait after it came for what must not (a duplicate)."""


class FixedClock:
    """The tracker's clock, standing on the morning of the example order: no timer comes due."""

    def now(self) -> datetime:
        return datetime(2026, 11, 2, 9, tzinfo=UTC)


def delivered() -> dict[str, Any]:
    """ord-10045 delivered on Friday 6 November 2026, as the tracker says it (the example)."""
    return examples.load("order-status.v1", "order.status_changed")


def step(name: str, **changes: Any) -> dict[str, Any]:
    """The example `return.<name>` of ret-10045-1, its envelope changed as given."""
    message = examples.load("returns.v1", f"return.{name}")
    message.update(changes)
    return message


def kinds(requests: list[dict[str, Any]]) -> list[str]:
    return [r["data"]["notice"]["kind"] for r in requests]


@dataclass
class Returns:
    """A running returns service with its own topics, and a producer to feed it."""

    settings: Settings
    producer: AIOKafkaProducer
    workdir: Path

    @property
    def bootstrap(self) -> str:
        return self.settings.kafka_bootstrap_servers

    async def send(self, *messages: dict[str, Any]) -> None:
        """Produce each message to the topic of its type, keyed by its order, one after another."""
        for message in messages:
            topic = (
                self.settings.order_status_topic
                if message["type"] == "order.status_changed"
                else self.settings.returns_topic
            )
            await self.send_to(topic, message)

    async def send_to(self, topic: str, message: dict[str, Any]) -> None:
        value = json.dumps(message, ensure_ascii=False).encode()
        await self.producer.send_and_wait(topic, value, key=message["subject"].encode())

    async def requests(self, expected: int) -> list[dict[str, Any]]:
        """The notification requests published: waits for `expected`, then a while for more."""
        records = await settled(self.bootstrap, self.settings.notifications_topic, expected)
        return [json.loads(r.value) for r in records]

    async def caught_up(self, *topics: str) -> None:
        """Wait until the service has committed everything produced to `topics` so far."""
        async with asyncio.timeout(WAIT):
            await caught_up(self.bootstrap, self.settings.group_id, list(topics))


@pytest.fixture
async def returns(kafka: str, tmp_path: Path) -> AsyncIterator[Returns]:
    unique = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        group_id=f"returns-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'returns.db'}",
        shops_file=shops_file(tmp_path),
        order_status_topic=f"order-status.{unique}",
        returns_topic=f"returns.{unique}",
        erasure_topic=f"erasure-requests.{unique}",
        notifications_topic=f"notifications.{unique}",
        reminder_interval_seconds=0.05,
    )
    topics = [getattr(settings, name) for name in Settings.model_fields if name.endswith("_topic")]
    await create_topics(kafka, [*topics, f"{settings.returns_topic}.dlq"])
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        async with TestApp(build_app(settings)):
            yield Returns(settings, producer, tmp_path)
    finally:
        await producer.stop()


def shops_file(workdir: Path) -> Path:
    """The shops announcing everything, and a second shop that takes no returns through us."""
    path = announce_everything(workdir)
    shops = yaml.safe_load(path.read_text(encoding="utf-8"))
    other = {key: value for key, value in shops["shops"][SHOP].items() if key != "returns"}
    shops["shops"][NO_RETURNS_SHOP] = other
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Outbox:
    """What the notifier wrote for the customer instead of sending it."""

    directory: Path

    def files(self, suffix: str, order_number: str = "10045") -> list[Path]:
        return sorted((self.directory / SHOP / order_number).rglob(f"*{suffix}"))

    def emails(self) -> dict[str, EmailMessage]:
        """Each email by the kind of message it is (the folder the outbox files it under)."""
        emails: dict[str, EmailMessage] = {}
        for path in self.files(".eml"):
            assert path.parent.name not in emails, f"a second {path.parent.name} email"
            email = message_from_bytes(path.read_bytes(), policy=policy.default)
            assert isinstance(email, EmailMessage)
            emails[path.parent.name] = email
        return emails

    def texts(self) -> dict[str, str]:
        """Each SMS (its metadata line, a blank line, the body) by the kind of message it is."""
        texts: dict[str, str] = {}
        for path in self.files(".txt"):
            assert path.parent.name not in texts, f"a second {path.parent.name} text"
            texts[path.parent.name] = path.read_text(encoding="utf-8")
        return texts

    async def settled(self, emails: int) -> None:
        """Wait until `emails` emails are written, then a while for anything more."""
        deadline = asyncio.get_running_loop().time() + WAIT
        while (written := len(self.files(".eml"))) < emails:
            if asyncio.get_running_loop().time() > deadline:
                pytest.fail(f"{written} of {emails} emails came: {self.files('.eml')}")
            await asyncio.sleep(0.05)
        await asyncio.sleep(QUIET)


@pytest.fixture
async def outbox(returns: Returns, tmp_path: Path) -> AsyncIterator[Outbox]:
    """The notifier, reading the returns service's requests, writing to a local outbox."""
    unique = uuid.uuid4().hex[:8]
    settings = NotifierSettings(
        kafka_bootstrap_servers=returns.bootstrap,
        group_id=f"notifier-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        notifications_topic=returns.settings.notifications_topic,
        outcomes_topic=f"notification-outcomes.{unique}",
        shops_file=returns.settings.shops_file,
        email_backend="outbox",
        sms_backend="outbox",
        outbox_dir=tmp_path / "outbox",
    )
    await create_topics(returns.bootstrap, [settings.outcomes_topic])
    async with TestApp(build_notifier(settings)):
        yield Outbox(settings.outbox_dir)


@asynccontextmanager
async def tracker_feeding(returns: Returns) -> AsyncIterator[TrackerSettings]:
    """The status-tracker, publishing its status changes to the returns service's topic."""
    unique = uuid.uuid4().hex[:8]
    settings = TrackerSettings(
        kafka_bootstrap_servers=returns.bootstrap,
        group_id=f"tracker-{unique}",
        database_url=f"sqlite+aiosqlite:///{returns.workdir / 'tracker.db'}",
        shops_file=returns.settings.shops_file,
        orders_topic=f"orders.{unique}",
        shipments_topic=f"shipments.{unique}",
        erasure_topic=returns.settings.erasure_topic,
        outcomes_topic=f"notification-outcomes.{unique}",
        order_status_topic=returns.settings.order_status_topic,
        notifications_topic=f"tracker-notifications.{unique}",  # not the returns service's
        timer_interval_seconds=0.05,
    )
    topics = [getattr(settings, f) for f in TrackerSettings.model_fields if f.endswith("_topic")]
    await create_topics(returns.bootstrap, topics)
    async with TestApp(build_tracker(settings, clock=FixedClock())):
        yield settings


async def settled(bootstrap: str, topic: str, expected: int) -> list[ConsumerRecord[bytes, bytes]]:
    """The records of `topic`, in order: waits for `expected` of them, then `QUIET` s for more."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []

    async def poll(milliseconds: int) -> None:
        batch = await consumer.getmany(timeout_ms=milliseconds)
        records.extend(record for part in batch.values() for record in part)

    try:
        try:
            async with asyncio.timeout(WAIT):
                while len(records) < expected:
                    await poll(200)
        except TimeoutError:
            seen = [json.loads(r.value).get("type") for r in records]
            pytest.fail(f"{topic}: {len(records)} of {expected} records came: {seen}")
        quiet_until = asyncio.get_running_loop().time() + QUIET
        while asyncio.get_running_loop().time() < quiet_until:  # a duplicate shows up by now
            await poll(100)
    finally:
        await consumer.stop()
    return sorted(records, key=lambda r: (r.partition, r.offset))


def plain_text(email: EmailMessage) -> str:
    body = email.get_body(("plain",))
    assert isinstance(body, EmailMessage)
    return body.get_content()  # type: ignore[no-any-return]


async def test_a_delivery_brings_one_czech_email_with_the_withdrawal_deadline(
    returns: Returns, outbox: Outbox
) -> None:
    await returns.send(delivered())

    [request] = await returns.requests(1)
    assert request["type"] == "notification.requested"
    assert (request["subject"], request["shopid"]) == ("ord-10045", SHOP)
    notice = request["data"]["notice"]
    assert notice["kind"] == "return_instructions"
    assert notice["withdrawal_deadline"] == "2026-11-20"  # Friday 6 Nov + 14 days, a Friday

    await outbox.settled(emails=1)
    emails = outbox.emails()
    assert list(emails) == ["return_instructions"]
    email = emails["return_instructions"]
    assert email["To"] == "Petr Novák <petr.novak@example.cz>"
    assert email["Subject"] == "Vrácení zboží z objednávky č. 10045 je možné do pá 20. 11."
    text = plain_text(email)
    assert text.startswith("Dobrý den, Petře,")
    assert "Lhůta pro vrácení končí: pátek 20. listopadu 2026" in text
    assert "https://kvetinac.example.cz/vraceni" in text
    # Every kind goes on every channel here (announce_everything): the text says it too.
    [sms] = outbox.texts().values()
    assert '"to": "+420601123456"' in sms
    assert "vratit do pa 20. 11." in sms


async def test_a_whole_return_is_one_message_per_step_despite_duplicates_and_redelivery(
    returns: Returns, outbox: Outbox
) -> None:
    await returns.send(delivered())
    await returns.requests(1)  # the order has arrived before its return starts
    for name in STEPS:
        await returns.send(step(name), step(name))  # the shop's producer retried
    resent = step("requested", id="evt-kc-ret-10045-1-requested-resent")
    await returns.send(resent, delivered())  # the same facts again, under new or old ids

    requests = await returns.requests(5)
    assert kinds(requests) == ["return_instructions", *RETURN_KINDS]
    assert len({r["data"]["notification_id"] for r in requests}) == 5
    assert len({r["id"] for r in requests}) == 5
    requested = requests[1]["data"]["notice"]
    assert (requested["return_code"], requested["refund_by"]) == ("Z-7KQ4-22", "2026-11-21")

    # Kafka hands everything to the service once more (a reset offset, a lost commit):
    again = returns.settings.model_copy(update={"group_id": f"{returns.settings.group_id}-2"})
    async with TestApp(build_app(again)), asyncio.timeout(WAIT):
        topics = [again.order_status_topic, again.returns_topic]
        await caught_up(returns.bootstrap, again.group_id, topics)
        assert kinds(await returns.requests(5)) == kinds(requests)

    await outbox.settled(emails=5)
    emails = outbox.emails()
    assert sorted(emails) == sorted(["return_instructions", *RETURN_KINDS])
    assert [emails[kind]["Subject"] for kind in RETURN_KINDS] == [
        "Potvrzujeme vrácení zboží z objednávky č. 10045",
        "Štítek pro vrácení zboží z objednávky č. 10045 je připravený",
        "Vrácené zboží z objednávky č. 10045 k nám dorazilo",
        "Vracíme vám peníze za vrácené zboží z objednávky č. 10045",
    ]
    assert "Kód pro vrácení: Z-7KQ4-22" in plain_text(emails["return_requested"])
    # The customer consented to texts and this shop texts every kind: one text each as well.
    assert sorted(outbox.texts()) == sorted(emails)


async def test_a_return_heard_before_the_delivery_waits_for_it(returns: Returns) -> None:
    await returns.send(step("requested"))
    await returns.caught_up(returns.settings.returns_topic)
    await returns.send(delivered())

    requests = await returns.requests(2)
    assert kinds(requests) == ["return_instructions", "return_requested"]
    assert requests[0]["data"]["notice"]["withdrawal_deadline"] == "2026-11-20"


def two_parcels(order: str, delivered_first: str) -> list[dict[str, Any]]:
    """`order` accepted, sent in parcels A and B; A delivered on Friday 27 November, B on
    Tuesday 1 December. `delivered_first` names the parcel whose delivery is told first."""
    number = order.removeprefix("ord-")
    accepted = event(
        "order.accepted", id=f"evt-{order}-accepted", subject=order, data={"order_number": number}
    )
    parcels = {"A": f"PPL-{number}-A", "B": f"PPL-{number}-B"}
    dispatched = [
        event(
            "shipment.dispatched",
            id=f"evt-{parcel}-dispatched",
            subject=order,
            data={
                "tracking_number": parcel,
                "tracking_url": f"https://sledovani.example.cz/ppl/{parcel}",
                "parcel_count": 2,
            },
        )
        for parcel in parcels.values()
    ]
    times = {"A": "2026-11-27T10:21:09+01:00", "B": "2026-12-01T14:05:00+01:00"}
    deliveries = {
        name: event(
            "shipment.delivered",
            id=f"evt-{parcel}-delivered",
            subject=order,
            time=times[name],
            data={"tracking_number": parcel},
        )
        for name, parcel in parcels.items()
    }
    second = "B" if delivered_first == "A" else "A"
    return [accepted, *dispatched, deliveries[delivered_first], deliveries[second]]


@pytest.mark.parametrize("delivered_first", ["A", "B"], ids=["in-order", "last-parcel-told-first"])
async def test_a_multi_parcel_order_counts_from_its_last_parcel(
    returns: Returns, delivered_first: str
) -> None:
    order = f"ord-{uuid.uuid4().int % 10**8:08d}"
    async with tracker_feeding(returns) as tracker:
        for message in two_parcels(order, delivered_first):
            topic = tracker.orders_topic if message["type"].startswith("order.") else None
            await returns.send_to(topic or tracker.shipments_topic, message)

        [request] = await returns.requests(1)

    assert request["subject"] == order
    notice = request["data"]["notice"]
    assert notice["kind"] == "return_instructions"
    assert notice["withdrawal_deadline"] == "2026-12-15"  # Tuesday 1 Dec + 14, not 11 Dec
    assert request["data"]["customer"]["first_name"] == "Petr"


async def test_a_return_for_a_shop_without_a_returns_policy_is_dead_lettered(
    returns: Returns,
) -> None:
    # Another shop's order of the same id: the same key, so the same partition, right before
    # the valid events (a dead letter that blocked its partition would hold them up).
    stray = step("requested", shopid=NO_RETURNS_SHOP, id="evt-bv-ret-10045-1-requested")
    no_returns_delivery = dict(delivered(), shopid=NO_RETURNS_SHOP, id="evt-bv-10045-delivered")
    await returns.send(no_returns_delivery, stray)  # its delivery: nothing to say
    await returns.send(delivered(), step("requested"))

    requests = await returns.requests(2)
    assert kinds(requests) == ["return_instructions", "return_requested"]
    assert {r["shopid"] for r in requests} == {SHOP}

    [dead] = await settled(returns.bootstrap, f"{returns.settings.returns_topic}.dlq", 1)
    assert json.loads(dead.value) == stray
    assert dead.key == b"ord-10045"
    headers = {key: value.decode() for key, value in dead.headers}
    assert headers[dead_letters.REASON] == (
        f"shop {NO_RETURNS_SHOP} has no returns policy: "
        "no `returns` section for it in the shops file"
    )
    assert headers[dead_letters.SOURCE_TOPIC] == returns.settings.returns_topic
    assert headers[dead_letters.CONSUMER_GROUP] == returns.settings.group_id
