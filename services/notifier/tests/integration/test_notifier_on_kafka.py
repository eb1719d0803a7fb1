"""The notifier in-process on a real broker, sending through SES (moto's server) and a local
Twilio, with a clock we move."""

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from faststream import TestApp

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.peers import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, MotoSes, TwilioFake
from orderpulse_devkit.records import read_records
from orderpulse_kit import dead_letters
from orderpulse_notifier.app import build_app
from orderpulse_notifier.settings import Settings
from orderpulse_schemas import examples

from ..conftest import SHOPS_FILE

pytestmark = pytest.mark.kafka

NOON = datetime(2026, 11, 25, 11, 0, tzinfo=UTC)  # 12:00 in Prague


@dataclass
class Clock:
    now: datetime = NOON


@pytest.fixture(scope="module")
def ses() -> Iterator[MotoSes]:
    with MotoSes() as server:
        server.verify("kvetinac.example.cz")
        yield server


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake() as server:
        yield server


@pytest.fixture
def shops_file(tmp_path: Path) -> Path:
    """The example shop, texting "out for delivery" only (so a failed text falls back)."""
    shops = yaml.safe_load(SHOPS_FILE.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-cz"]["messaging"]["channels"] = {"out_for_delivery": ["sms"]}
    path = tmp_path / "shops.yaml"
    path.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Notifier:
    settings: Settings
    clock: Clock
    producer: AIOKafkaProducer
    ses: MotoSes
    twilio: TwilioFake

    async def request(self, kind: str, **customer: Any) -> dict[str, Any]:
        request = examples.load("notifications.v1", f"notification.requested.{kind}")
        request["data"]["customer"].update(customer)
        await self.send(json.dumps(request).encode())
        return request

    async def send(self, value: bytes) -> None:
        await self.producer.send_and_wait(
            self.settings.notifications_topic, value, key=b"ord-10045"
        )

    def emails(self, order_number: str = "10045") -> list[str]:
        """Subjects of the emails SES accepted for the order."""
        subjects = [str(sent.message["Subject"]) for sent in self.ses.sent()]
        return [subject for subject in subjects if order_number in subject]

    async def outcomes(self, count: int) -> list[tuple[str, str, str | None]]:
        async with asyncio.timeout(30):
            records = await read_records(
                self.settings.kafka_bootstrap_servers, self.settings.outcomes_topic, count
            )
        found = [json.loads(r.value) for r in records]
        return [(o["type"], o["data"]["channel"], o["data"].get("reason")) for o in found]


@pytest.fixture
async def notifier(
    kafka: str,
    ses: MotoSes,
    twilio: TwilioFake,
    shops_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Notifier]:
    for name, value in ses.env().items():
        monkeypatch.setenv(name, value)
    ses.reset()
    twilio.reset()
    unique = uuid.uuid4().hex[:8]
    settings = Settings(
        kafka_bootstrap_servers=kafka,
        group_id=f"notifier-{unique}",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'notifier.db'}",
        notifications_topic=f"notifications.{unique}",
        outcomes_topic=f"outcomes.{unique}",
        shops_file=shops_file,
        email_backend="ses",
        ses_region=ses.region,
        ses_endpoint_url=ses.endpoint_url,
        sms_backend="twilio",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_api_url=twilio.url,
        retry_attempts=3,
        retry_initial_seconds=0.01,
        retry_max_seconds=0.05,
        deferred_interval_seconds=0.05,
    )
    topics = [settings.notifications_topic, settings.outcomes_topic]
    await create_topics(kafka, [*topics, f"{settings.notifications_topic}.dlq"])
    clock = Clock()
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    try:
        async with TestApp(build_app(settings, now=lambda: clock.now)):
            yield Notifier(settings, clock, producer, ses, twilio)
    finally:
        await producer.stop()


async def eventually(check: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        assert asyncio.get_running_loop().time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_duplicated_and_redelivered_requests_send_each_channel_once(
    notifier: Notifier, kafka: str
) -> None:
    for _ in range(3):
        await notifier.request("order_dispatched")
    assert len(await notifier.outcomes(6)) == 6  # every handling tells the outcomes again

    # Kafka redelivers everything to a second group (a reset offset, a lost commit):
    again = notifier.settings.model_copy(update={"group_id": f"{notifier.settings.group_id}-2"})
    async with TestApp(build_app(again, now=lambda: notifier.clock.now)):
        outcomes = await notifier.outcomes(12)

    assert set(outcomes) == {
        ("notification.sent", "email", None),
        ("notification.sent", "sms", None),
    }
    assert notifier.emails() == ["Vaše objednávka č. 10045 je na cestě"]
    assert [m["Body"][:8] for m in notifier.twilio.messages] == ["Kvetinac"]


async def test_throttling_and_an_outage_are_retried_then_sent(notifier: Notifier) -> None:
    notifier.twilio.fail_next(429)
    notifier.twilio.fail_next(503)

    await notifier.request("out_for_delivery")

    assert await notifier.outcomes(1) == [("notification.sent", "sms", None)]
    assert len(notifier.twilio.messages) == 1


async def test_a_permanent_failure_is_told_and_the_email_goes_instead(notifier: Notifier) -> None:
    notifier.twilio.fail_next(400, code=21610)  # the customer unsubscribed at the carrier

    await notifier.request("out_for_delivery")

    assert await notifier.outcomes(2) == [
        ("notification.failed", "sms", "twilio 400 (code 21610)"),
        ("notification.sent", "email", None),
    ]
    assert notifier.twilio.messages == []
    assert notifier.emails() == ["Vaše objednávka č. 10045 dorazí dnes"]


async def test_a_text_in_quiet_hours_waits_for_the_morning(notifier: Notifier) -> None:
    notifier.clock.now = NOON + timedelta(hours=10, minutes=30)  # 22:30 in Prague

    await notifier.request("order_dispatched")

    assert await notifier.outcomes(1) == [("notification.sent", "email", None)]
    await asyncio.sleep(0.5)  # the deferred loop runs every 50 ms
    assert notifier.twilio.messages == []
    notifier.clock.now = NOON + timedelta(hours=20)  # 08:00 next morning in Prague
    await eventually(lambda: len(notifier.twilio.messages) == 1, "the morning text")
    assert (await notifier.outcomes(2))[1] == ("notification.sent", "sms", None)


async def test_errors_outlasting_the_retries_are_dead_lettered_and_replay_after_the_fix(
    notifier: Notifier, kafka: str
) -> None:
    notifier.twilio.fail_next(503, count=3)

    await notifier.request("order_dispatched")

    async with asyncio.timeout(30):
        [dead] = await read_records(kafka, f"{notifier.settings.notifications_topic}.dlq", 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers[dead_letters.REASON] == "retries exhausted: twilio 503 (code 20503)"
    assert await notifier.outcomes(1) == [("notification.sent", "email", None)]

    await notifier.send(dead.value)  # the provider is back: replay the dead letter
    await eventually(lambda: len(notifier.twilio.messages) == 1, "the replayed text")
    assert notifier.emails() == ["Vaše objednávka č. 10045 je na cestě"]  # not sent twice
