"""The notifier as a process: stopped (SIGTERM) or killed (SIGKILL) mid-stream and restarted;
receipts over HTTP.

Email goes to a local SMTP server and texts to a local Twilio, each answering in 20 ms, so many
sends are in flight when the process dies. The window that remains is the one between a
provider accepting a message and the notifier recording it: a delivery killed inside it is
sent again after the restart (at-least-once; none of these providers takes an idempotency key).
The test proves that nothing is lost, that every repeat was such an in-flight delivery, and that
the restarted process takes over the dead one's claims once it has been silent for the owner
timeout, without waiting for their lease.
"""

import asyncio
import json
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

import pytest
import yaml
from aiokafka import AIOKafkaProducer
from twilio.request_validator import RequestValidator

from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.peers import TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, SmtpCatcher, TwilioFake
from orderpulse_devkit.records import read_records
from orderpulse_devkit.services import ServiceProcess, announce_everything, service_settings
from orderpulse_schemas import examples

pytestmark = pytest.mark.kafka

REQUESTS = 300


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpCatcher]:
    with SmtpCatcher(latency=0.02) as server:
        yield server


@pytest.fixture(scope="module")
def twilio() -> Iterator[TwilioFake]:
    with TwilioFake(latency=0.02) as server:
        yield server


def notifier_process(
    kafka: str, workdir: Path, smtp: SmtpCatcher, twilio: TwilioFake, shops: Path
) -> ServiceProcess:
    suffix = uuid.uuid4().hex[:8]
    env = service_settings("notifier", kafka, workdir, shops_file=shops)
    env.update(
        {
            "NOTIFIER_NOTIFICATIONS_TOPIC": f"notifications.{suffix}",
            "NOTIFIER_OUTCOMES_TOPIC": f"outcomes.{suffix}",
            "NOTIFIER_GROUP_ID": f"notifier-{suffix}",
            "NOTIFIER_EMAIL_BACKEND": "smtp",
            "NOTIFIER_SMTP_HOST": smtp.host,
            "NOTIFIER_SMTP_PORT": str(smtp.port),
            "NOTIFIER_SMTP_STARTTLS": "false",
            "NOTIFIER_SMS_BACKEND": "twilio",
            "NOTIFIER_TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID,
            "NOTIFIER_TWILIO_AUTH_TOKEN": TEST_AUTH_TOKEN,
            "NOTIFIER_TWILIO_API_URL": twilio.url,
            "NOTIFIER_TWILIO_MAX_SEND_RATE": "1000",
            # The lease stays 5 min: a killed process's claims are taken over because it fell
            # silent, well before (the test waits at most 60 s).
            "NOTIFIER_OWNER_TIMEOUT_SECONDS": "3",
        }
    )
    env["NOTIFIER_PUBLIC_URL"] = f"http://127.0.0.1:{env['NOTIFIER_HTTP_PORT']}"
    return ServiceProcess("notifier", env, workdir)


def request(number: int, kind: str = "order_dispatched") -> dict[str, Any]:
    message = examples.load("notifications.v1", f"notification.requested.{kind}")
    message["id"] = f"crash-{number}"
    message["subject"] = f"ord-{number}"
    message["data"]["notification_id"] = f"crash-{number}/{kind}"
    message["data"]["order_number"] = str(number)
    return message


async def publish(kafka: str, topic: str, messages: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    try:
        sending = [
            await producer.send(topic, json.dumps(m).encode(), key=m["subject"].encode())
            for m in messages
        ]
        await asyncio.gather(*sending)
    finally:
        await producer.stop()


async def until(check: Callable[[], bool], notifier: ServiceProcess, what: str) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert notifier.running, f"the notifier died:\n{notifier.log()}"
        assert time.monotonic() < deadline, f"timed out: {what}\n{notifier.log(30)}"
        await asyncio.sleep(0.01)


def sms_orders(twilio: TwilioFake) -> Counter[str]:
    """Texts received per order number (each text names its order)."""
    return Counter(word for m in twilio.messages for word in m["Body"].split() if word.isdigit())


def in_flight(database: Path) -> set[str]:
    """Deliveries claimed but not finished: what the killed process was sending."""
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT delivery_id FROM notifier_deliveries WHERE status = 'pending'")
        return {row[0] for row in rows}


def ready(notifier: ServiceProcess) -> bool:
    url = f"http://127.0.0.1:{notifier.env['NOTIFIER_HTTP_PORT']}/readyz"
    try:
        with urlopen(url, timeout=1) as response:
            return int(response.status) == 200
    except (OSError, HTTPError):
        return False


def owners(database: Path) -> int:
    """Notifier processes that claim to be alive (or have not said they stopped)."""
    with sqlite3.connect(database) as db:
        return int(db.execute("SELECT count(*) FROM notifier_owners").fetchone()[0])


async def busy_notifier(
    kafka: str, smtp: SmtpCatcher, twilio: TwilioFake, workdir: Path, first: int
) -> ServiceProcess:
    """A notifier working through REQUESTS requests (orders `first`…), a third of them sent."""
    notifier = notifier_process(kafka, workdir, smtp, twilio, announce_everything(workdir))
    topic = notifier.env["NOTIFIER_NOTIFICATIONS_TOPIC"]
    await create_topics(kafka, [topic, notifier.env["NOTIFIER_OUTCOMES_TOPIC"]], partitions=3)
    smtp.reset()
    twilio.reset()
    await publish(kafka, topic, [request(first + i) for i in range(REQUESTS)])
    notifier.start()
    await until(lambda: len(smtp.messages) >= REQUESTS // 3, notifier, "a third of the emails")
    return notifier


async def finished(
    notifier: ServiceProcess, smtp: SmtpCatcher, twilio: TwilioFake
) -> tuple[Counter[str], Counter[str]]:
    """Restart, wait until every order has its email and text, stop: (emails, texts) by order.

    It is stopped only once it is up: a SIGTERM before it could act on it (while Python starts)
    ends it as killed, and the sends may all be done before it is up."""
    notifier.start()
    await until(lambda: ready(notifier), notifier, "ready")
    await until(
        lambda: (
            len({m.message["Message-ID"] for m in smtp.messages}) == REQUESTS
            and len(sms_orders(twilio)) == REQUESTS
        ),
        notifier,
        "every email and every text",
    )
    await asyncio.sleep(1)  # anything extra shows up now
    assert notifier.stop() == 0, notifier.log()
    emails = Counter(str(m.message["Subject"]).split("č. ")[1].split()[0] for m in smtp.messages)
    return emails, sms_orders(twilio)


async def test_a_killed_notifier_loses_nothing_and_repeats_only_what_was_in_flight(
    kafka: str,
    smtp: SmtpCatcher,
    twilio: TwilioFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("notifier-crash")
    notifier = await busy_notifier(kafka, smtp, twilio, workdir, first=20000)
    notifier.kill()
    pending = in_flight(workdir / "notifier.db")
    restarted = time.monotonic()
    emails, texts = await finished(notifier, smtp, twilio)
    recovered_in = time.monotonic() - restarted

    assert set(emails) == set(texts) == {str(20000 + i) for i in range(REQUESTS)}  # none lost
    repeated = {f"crash-{n}/order_dispatched:email" for n, c in emails.items() if c > 1}
    repeated |= {f"crash-{n}/order_dispatched:sms" for n, c in texts.items() if c > 1}
    assert repeated <= pending, f"repeated though not in flight: {sorted(repeated - pending)}"
    print(
        f"\nkilled with {len(pending)} sends in flight; {len(repeated)} were sent again; "
        f"all sent {recovered_in:.1f} s after the restart"
    )


async def test_a_notifier_stopped_with_sigterm_finishes_what_it_started_and_sends_nothing_twice(
    kafka: str,
    smtp: SmtpCatcher,
    twilio: TwilioFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("notifier-sigterm")
    notifier = await busy_notifier(kafka, smtp, twilio, workdir, first=30000)
    started = time.monotonic()
    assert notifier.stop() == 0, notifier.log()  # as Kubernetes stops a pod
    stopped_in = time.monotonic() - started
    assert in_flight(workdir / "notifier.db") == set()  # every claimed send was finished
    assert owners(workdir / "notifier.db") == 0  # it retired: nobody waits for it
    emails, texts = await finished(notifier, smtp, twilio)

    assert set(emails) == set(texts) == {str(30000 + i) for i in range(REQUESTS)}  # none lost
    assert max(emails.values()) == max(texts.values()) == 1  # none twice
    print(f"\nstopped with SIGTERM in {stopped_in:.1f} s")


def post(url: str, form: dict[str, str], signature: str) -> int:
    data = urlencode(form).encode()
    headers = {"X-Twilio-Signature": signature}
    try:
        with urlopen(Request(url, data=data, headers=headers, method="POST"), timeout=10) as r:
            return int(r.status)
    except HTTPError as error:
        return error.code


async def test_a_signed_undelivered_receipt_falls_back_to_email_and_a_forged_one_is_refused(
    kafka: str,
    smtp: SmtpCatcher,
    twilio: TwilioFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    workdir = tmp_path_factory.mktemp("notifier-receipts")
    shops_file = announce_everything(workdir)
    shops = yaml.safe_load(shops_file.read_text(encoding="utf-8"))
    shops["shops"]["kvetinac-cz"]["messaging"]["channels"] = {"out_for_delivery": ["sms"]}
    shops_file.write_text(yaml.safe_dump(shops, allow_unicode=True), encoding="utf-8")
    notifier = notifier_process(kafka, workdir, smtp, twilio, shops_file)
    topic, outcomes = (notifier.env[f"NOTIFIER_{n}_TOPIC"] for n in ("NOTIFICATIONS", "OUTCOMES"))
    await create_topics(kafka, [topic, outcomes])
    smtp.reset()
    twilio.reset()
    notifier.start()
    await publish(kafka, topic, [request(30001, "out_for_delivery")])
    await until(lambda: len(twilio.messages) == 1, notifier, "the text")
    # A provider reports on a message after the notifier recorded it as sent (a receipt for a
    # message not recorded yet is not recognised): wait for that, told by its outcome.
    async with asyncio.timeout(30):
        await read_records(kafka, outcomes, 1)
    [text] = twilio.messages
    callback = text["StatusCallback"]
    assert callback == f"{notifier.env['NOTIFIER_PUBLIC_URL']}/receipts/twilio"
    form = {
        "MessageSid": text["Sid"],
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
        "AccountSid": TEST_ACCOUNT_SID,
    }

    forged = RequestValidator("not-the-token").compute_signature(callback, form)
    assert post(callback, form, forged) == 403
    signed = RequestValidator(TEST_AUTH_TOKEN).compute_signature(callback, form)
    assert post(callback, form, signed) == 204
    assert post(callback, form, signed) == 204  # Twilio repeats itself; nothing happens twice

    await until(lambda: len(smtp.messages) == 1, notifier, "the fallback email")
    async with asyncio.timeout(30):
        records = await read_records(kafka, outcomes, 3)
    told = [(json.loads(r.value)["type"], json.loads(r.value)["data"]["channel"]) for r in records]
    assert told == [
        ("notification.sent", "sms"),
        ("notification.failed", "sms"),
        ("notification.sent", "email"),
    ]
    assert json.loads(records[1].value)["data"]["reason"] == "undelivered (twilio error 30003)"
    assert notifier.stop() == 0, notifier.log()
