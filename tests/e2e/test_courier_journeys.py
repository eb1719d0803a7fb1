"""Pickup-point journeys told by the carriers themselves, through couriers → status-tracker →
notifier, each service its own process on a real Kafka broker (issue 17's "done when").

The shop publishes only `order.accepted` (delivery to a pickup point) and `shipment.dispatched`,
with a plain Kafka client as an integrator would. Everything after comes from the carrier in its
own format: InPost's ShipX webhooks, POSTed to the couriers service, and Packeta's tracking API,
which the couriers service polls (here a fake speaking Packeta's XML). The customer's messages
are read in the notifier's outbox: each once, the pickup notice naming the point and the last day.

The services run on their own topics and consumer groups (a uuid suffix), so they share the
session's broker with the other e2e modules without seeing their traffic.
"""

import asyncio
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from babel.dates import format_date

from orderpulse_devkit.groups import committed_past
from orderpulse_devkit.journeys import event, upcoming
from orderpulse_devkit.kafka import create_topics
from orderpulse_devkit.peers import TEST_API_PASSWORD, PacketaFake
from orderpulse_devkit.records import RecordWatch
from orderpulse_devkit.services import (
    BRIDGES,
    MODULES,
    REPO,
    ServiceProcess,
    announce_everything,
    service_settings,
)
from orderpulse_devkit.waiting import answers, eventually
from orderpulse_schemas import examples

pytestmark = pytest.mark.kafka

SHOP = "kvetinac-cz"
PRAGUE = ZoneInfo("Europe/Prague")  # the shop's time zone: the messages' times are its
WARSAW = ZoneInfo("Europe/Warsaw")  # ShipX's clock
INPOST_WEBHOOK = REPO / "services/couriers/tests/fixtures/inpost/webhook_delivered.json"
"""ShipX's documented example of a `shipment_status_changed` webhook."""
PACZKOMAT = {
    "id": "KRA010M",
    "name": "Paczkomat KRA010M",
    "address": {
        "street": "Pawia 5",
        "city": "Kraków",
        "postal_code": "31-154",
        "country": "PL",
    },
    "kind": "locker",
    "latitude": 50.06869,
    "longitude": 19.94678,
}
PACKETA_POINT = examples.load("shipments.v1", "shipment.at_pickup_point")["data"]["point"]
"""Packeta's point of the examples: branch 12873, a counter open mo-fr 8-19 and sa 9-12."""
USES = {
    "couriers": ("ORDERS", "SHIPMENTS"),
    "status-tracker": (
        "ORDERS",
        "SHIPMENTS",
        "ERASURE",
        "NOTIFICATIONS",
        "OUTCOMES",
        "ORDER_STATUS",
    ),
    "notifier": ("NOTIFICATIONS", "OUTCOMES", "ERASURE"),
}
"""The services of the journey and the topics each is told (`<PREFIX><NAME>_TOPIC`)."""
PICKUP = "at_pickup_point"
SUBJECT_ENDS = {"picked_up": "byla vyzvednuta", "returned_to_sender": "se vrací k nám"}
"""How the subject of the journey's last message ends."""
QUIET = 1.5
"""Seconds to wait after a journey's last message: a duplicate would show up by then."""


@pytest.fixture(scope="module")
async def topics(kafka: str) -> dict[str, str]:
    suffix = uuid.uuid4().hex[:8]
    names = {name: f"{name.lower()}.couriers-{suffix}" for name in set().union(*USES.values())}
    await create_topics(kafka, list(names.values()))
    return names


@pytest.fixture(scope="module")
def packeta() -> Iterator[PacketaFake]:
    with PacketaFake() as fake:
        yield fake


@pytest.fixture(scope="module")
async def services(
    kafka: str,
    topics: dict[str, str],
    packeta: PacketaFake,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[dict[str, ServiceProcess]]:
    workdir = tmp_path_factory.mktemp("courier-journeys")
    shops = announce_everything(workdir)
    running = {}
    for name, uses in USES.items():
        _, prefix = {**MODULES, **BRIDGES}[name]
        env = service_settings(name, kafka, workdir, shops_file=shops)
        env |= {f"{prefix}{topic}_TOPIC": topics[topic] for topic in uses}
        env[f"{prefix}GROUP_ID"] = f"{name}-{topics['ORDERS']}"
        running[name] = ServiceProcess(name, env, workdir)
    running["notifier"].env["NOTIFIER_ERASURE_GROUP_ID"] = f"notifier-erasure-{topics['ORDERS']}"
    running["couriers"].env |= {
        "COURIERS_INPOST_TRUST_ANY_SENDER": "true",  # the webhooks come from 127.0.0.1
        "COURIERS_PACKETA_API_URL": packeta.api_url,
        "COURIERS_PACKETA_API_PASSWORDS": json.dumps({SHOP: TEST_API_PASSWORD}),
        "COURIERS_PACKETA_POLL_SECONDS": "0.2",
        "COURIERS_PACKETA_REQUESTS_PER_SECOND": "50",
    }
    for service in running.values():
        service.start()
    try:
        for service in running.values():
            await answers(service, "/readyz", 200)  # its database and the broker
        yield running
    finally:
        exits = {name: service.stop() for name, service in running.items()}  # stop all, then judge
    for name, code in exits.items():
        assert code == 0, f"{name} did not shut down cleanly:\n{running[name].log()}"
    unfit = {name: unfit_log_lines(service.log_path) for name, service in running.items()}
    assert unfit == {name: [] for name in running}, f"not JSON, personal or errors: {unfit}"


@pytest.fixture(scope="module")
async def statuses(kafka: str, topics: dict[str, str]) -> AsyncIterator[RecordWatch]:
    """The tracker's `order.status_changed` events: a transit scan shows there, and nowhere
    else."""
    async with RecordWatch(kafka, topics["ORDER_STATUS"]) as watch:
        yield watch


@pytest.fixture
async def producer(kafka: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.mark.parametrize("collected", [True, False], ids=["picked-up", "never-collected"])
async def test_an_inpost_paczkomat_parcel_told_by_shipx_webhooks(
    collected: bool,
    kafka: str,
    topics: dict[str, str],
    services: dict[str, ServiceProcess],
    statuses: RecordWatch,
    producer: AIOKafkaProducer,
) -> None:
    """Taken by the courier → ready to pick up → delivered (from a point the order chose: picked
    up), or → returned to sender. ShipX's webhook has no pickup code and no deadline: the notice
    says InPost sends the code, and the last day is the 48 hours a Paczkomat keeps a parcel."""
    number = "70001" if collected else "70002"
    order, parcel = f"ord-{number}", f"6026774393316303376{number}"
    webhooks = Webhooks(services["couriers"])
    await shop_publishes(kafka, topics, services, producer, order, PACZKOMAT, "inpost", parcel)
    outbox = Outbox(services, number)
    await outbox.wait_for("order_accepted", "order_dispatched")

    assert await webhooks.inpost("taken_by_courier", parcel) == {"published": 1, "unfollowed": 0}
    await eventually(lambda: "in_transit" in status_of(statuses, order), services)
    placed = datetime.now(WARSAW).replace(microsecond=0)
    assert await webhooks.inpost("ready_to_pickup", parcel, placed) == {
        "published": 1,
        "unfollowed": 0,
    }
    await outbox.wait_for("at_pickup_point")
    last = "delivered" if collected else "returned_to_sender"
    assert await webhooks.inpost(last, parcel) == {"published": 1, "unfollowed": 0}
    told = "picked_up" if collected else "returned_to_sender"
    await outbox.wait_for(told)
    # ShipX retrying a webhook it sent before changes nothing.
    assert await webhooks.inpost("ready_to_pickup", parcel, placed) == {
        "published": 0,
        "unfollowed": 0,
    }
    await asyncio.sleep(QUIET)

    assert_told_once(outbox, number, told)
    assert status_of(statuses, order) == ["accepted", "dispatched", "in_transit", PICKUP, told]
    notice = outbox.text("at_pickup_point")
    assert "Výdejní místo: Paczkomat KRA010M, Pawia 5, 31-154 Kraków" in notice
    assert "Dopravce: InPost (Paczkomat)" in notice
    assert "Kód pro vyzvednutí vám pošle InPost" in notice
    assert last_day_line(notice) == f"Vyzvedněte do: {moment(placed + timedelta(hours=48))}"
    sms = outbox.sms("at_pickup_point")
    assert "je k vyzvednuti: Paczkomat KRA010M do " in sms
    assert f" {sms_day(placed + timedelta(hours=48))}. Kod vam posle InPost." in sms


@pytest.mark.parametrize("collected", [True, False], ids=["picked-up", "never-collected"])
async def test_a_packeta_point_parcel_told_by_its_tracking_api(
    collected: bool,
    kafka: str,
    topics: dict[str, str],
    services: dict[str, ServiceProcess],
    statuses: RecordWatch,
    producer: AIOKafkaProducer,
    packeta: PacketaFake,
) -> None:
    """Arrived (2) → ready for pickup (5, stored until a day) → delivered (7: picked up), or →
    posted back (9) and returned (10): the couriers service polls Packeta for each step."""
    number = "70003" if collected else "70004"
    order, packet = f"ord-{number}", f"20457{number}"
    packeta.add_packet(packet)  # the shop registered it with Packeta before the dispatch
    await shop_publishes(
        kafka, topics, services, producer, order, PACKETA_POINT, "zasilkovna", f"Z{packet}"
    )
    outbox = Outbox(services, number)
    await outbox.wait_for("order_accepted", "order_dispatched")

    packeta.add_status(packet, 2, datetime.now(UTC))
    await eventually(lambda: "in_transit" in status_of(statuses, order), services)
    stored_until = a_wednesday_a_week_ahead()
    branch = PACKETA_POINT["id"]
    packeta.add_status(packet, 5, datetime.now(UTC), branch_id=branch, stored_until=stored_until)
    await outbox.wait_for("at_pickup_point")
    if collected:
        packeta.add_status(packet, 7, datetime.now(UTC), branch_id=branch)
        await outbox.wait_for("picked_up")
    else:
        packeta.add_status(packet, 9, datetime.now(UTC), branch_id=branch)
        await outbox.wait_for("returned_to_sender")
        packeta.add_status(packet, 10, datetime.now(UTC) + timedelta(seconds=1), branch_id=branch)
    told = "picked_up" if collected else "returned_to_sender"
    await asyncio.sleep(QUIET / 2)
    polls = asked_about(packeta, packet)
    await asyncio.sleep(QUIET / 2)
    assert asked_about(packeta, packet) == polls, "Packeta was polled after the final status"

    assert_told_once(outbox, number, told)
    assert status_of(statuses, order) == ["accepted", "dispatched", "in_transit", PICKUP, told]
    notice = outbox.text("at_pickup_point")
    assert (
        "Výdejní místo: Praha 2, Vinohradská 48 (Papírnictví U Muzea), Vinohradská 1511/48, "
        "120 00 Praha 2" in notice
    )
    assert "Kód pro vyzvednutí vám pošle Zásilkovna" in notice
    # Stored through the day, at a point that closes at 19:00 on weekdays.
    closes = datetime.combine(stored_until, datetime.min.time().replace(hour=19), PRAGUE)
    assert last_day_line(notice) == f"Vyzvedněte do: {moment(closes)}"
    sms = outbox.sms("at_pickup_point")
    assert "je k vyzvednuti: Praha 2, Vinohradska 48 (Papirnictvi U Muzea)" in sms
    assert f" {sms_day(closes)}. Kod vam posle Zasilkovna." in sms


def asked_about(packeta: PacketaFake, packet: str) -> int:
    """How many requests about `packet` Packeta had (any method)."""
    return sum(1 for _, packet_id in packeta.requests if packet_id == packet)


def assert_told_once(outbox: "Outbox", number: str, told: str) -> None:
    """The customer got each of the journey's messages once, by email and by SMS, each email's
    subject naming the order; `told` is the last one (picked up, or on its way back)."""
    assert outbox.sent() == each_by_email_and_sms(
        "order_accepted", "order_dispatched", PICKUP, told
    )
    assert outbox.subjects() == {
        "order_accepted": f"Přijali jsme vaši objednávku č. {number}",
        "order_dispatched": f"Vaše objednávka č. {number} je na cestě",
        PICKUP: f"Vaše objednávka č. {number} čeká na výdejním místě",
        told: f"Vaše objednávka č. {number} {SUBJECT_ENDS[told]}",
    }


async def shop_publishes(
    kafka: str,
    topics: dict[str, str],
    services: dict[str, ServiceProcess],
    producer: AIOKafkaProducer,
    order: str,
    point: dict[str, Any],
    carrier: str,
    tracking_number: str,
) -> None:
    """The shop's part: the order to a pickup point, then its parcel dispatched. Returns once
    the couriers service follows the parcel (its group committed the dispatch)."""
    number = order.removeprefix("ord-")
    now = datetime.now(UTC)
    accepted = upcoming(
        event(
            "order.accepted",
            id=f"evt-{order}-accepted",
            subject=order,
            time=(now - timedelta(minutes=10)).isoformat(),
            data={
                "order_number": number,
                "delivery": {"method": "pickup_point", "point": point},
                "carrier": carrier,
            },
        )
    )
    dispatched = event(
        "shipment.dispatched",
        id=f"evt-{order}-dispatched",
        source=f"/shops/{SHOP}/backend",
        subject=order,
        time=(now - timedelta(minutes=5)).isoformat(),
        data={
            "carrier": carrier,
            "tracking_number": tracking_number,
            "tracking_url": f"https://sledovani.example.cz/{carrier}/{tracking_number}",
            "expected_delivery": accepted["data"]["promised_delivery"],
        },
    )
    await producer.send_and_wait(topics["ORDERS"], json.dumps(accepted).encode(), order.encode())
    sent = await producer.send_and_wait(
        topics["SHIPMENTS"], json.dumps(dispatched).encode(), order.encode()
    )
    following = committed_past(
        kafka,
        services["couriers"].env["COURIERS_GROUP_ID"],
        {TopicPartition(sent.topic, sent.partition): sent.offset + 1},
    )
    await within(following, services)


class Webhooks:
    """POSTs ShipX's webhooks to the couriers service, as InPost does."""

    def __init__(self, couriers: ServiceProcess) -> None:
        self._url = f"http://127.0.0.1:{couriers.env['COURIERS_HTTP_PORT']}/webhooks/inpost"

    async def inpost(
        self, status: str, tracking_number: str, at: datetime | None = None
    ) -> dict[str, int]:
        """The answer to a `shipment_status_changed` webhook of `status`, dated `at` (now)."""
        body = json.loads(INPOST_WEBHOOK.read_text(encoding="utf-8"))
        when = at or datetime.now(WARSAW)
        body["event_ts"] = when.astimezone(WARSAW).strftime("%Y-%m-%d %H:%M:%S %z")
        body["payload"].update(status=status, tracking_number=tracking_number)
        async with (
            aiohttp.ClientSession() as session,
            session.post(self._url, json=body) as response,
        ):
            assert response.status == 200, await response.text()
            answer: dict[str, int] = await response.json()
            return answer


class Outbox:
    """The notifier's outbox of one order: `<workdir>/outbox/<shop>/<number>/<kind>/…`, an email
    as `email-….eml` (and its `.html`), a text as `sms-….txt`."""

    def __init__(self, services: dict[str, ServiceProcess], number: str) -> None:
        self._services = services
        self._folder = services["notifier"].workdir / "outbox" / SHOP / number

    def files(self, suffix: str) -> list[Path]:
        return sorted(self._folder.rglob(f"*{suffix}"))

    def sent(self) -> Counter[str]:
        """`<kind> email` and `<kind> sms`, each as often as it was written."""
        channel = {".eml": "email", ".txt": "sms"}
        return Counter(
            f"{path.parent.name} {channel[path.suffix]}"
            for suffix in channel
            for path in self.files(suffix)
        )

    async def wait_for(self, *kinds: str) -> None:
        """Until each of `kinds` is in the outbox by email and by SMS."""
        wanted = each_by_email_and_sms(*kinds)
        await eventually(lambda: wanted.keys() <= self.sent().keys(), self._services)

    def emails(self) -> dict[str, EmailMessage]:
        return {
            path.parent.name: message_from_bytes(path.read_bytes(), policy=policy.default)
            for path in self.files(".eml")
        }

    def subjects(self) -> dict[str, str]:
        return {kind: str(email["Subject"]) for kind, email in self.emails().items()}

    def text(self, kind: str) -> str:
        """The plain-text part of the `kind` email."""
        body = self.emails()[kind].get_body(("plain",))
        assert body is not None
        return str(body.get_content())

    def sms(self, kind: str) -> str:
        (path,) = (p for p in self.files(".txt") if p.parent.name == kind)
        return path.read_text(encoding="utf-8")


def each_by_email_and_sms(*kinds: str) -> Counter[str]:
    return Counter(f"{kind} {channel}" for kind in kinds for channel in ("email", "sms"))


def status_of(statuses: RecordWatch, order: str) -> list[str]:
    """The order's statuses, as the tracker announced them on `order-status.v1`."""
    return [
        json.loads(record.value)["data"]["status"]
        for record in statuses.records
        if record.key == order.encode()
    ]


def last_day_line(text: str) -> str:
    (line,) = (line for line in text.splitlines() if line.startswith("Vyzvedněte do:"))
    return line.strip()


def moment(when: datetime) -> str:
    """`2. prosince 2026 19:00`: as the Czech emails write a day and time (Prague's)."""
    local = when.astimezone(PRAGUE)
    return f"{format_date(local.date(), 'long', locale='cs')} {local.hour}:{local.minute:02d}"


def sms_day(when: datetime) -> str:
    """`2. 12. 19:00`: a day and time in a Czech text, after the day's weekday."""
    local = when.astimezone(PRAGUE)
    return f"{local.day}. {local.month}. {local.hour}:{local.minute:02d}"


def a_wednesday_a_week_ahead() -> date:
    """A weekday at least a week ahead: the pickup reminder (a day before) stays far off, and
    the point is open that day (till 19:00)."""
    day = datetime.now(PRAGUE).date() + timedelta(days=7)
    return day + timedelta(days=(2 - day.weekday()) % 7)


async def within(awaitable: Any, services: dict[str, ServiceProcess]) -> None:
    """`awaitable`, for 30 s at most, with the logs if it takes longer."""
    try:
        async with asyncio.timeout(30):
            await awaitable
    except TimeoutError:
        logs = "\n".join(f"== {name}\n{s.log(30)}" for name, s in services.items())
        raise AssertionError(f"timed out; logs:\n{logs}") from None


def unfit_log_lines(log: Path) -> list[str]:
    """Lines of a service's log that are not JSON objects, that hold the customer's contacts, or
    that report an error (journeys that go right log none)."""
    customer = examples.load("orders.v1", "order.accepted")["data"]["customer"]
    personal = [customer["email"], customer["email"].split("@")[0], customer["phone"]]
    return [
        line
        for line in log.read_text(encoding="utf-8").splitlines()
        if _level(line) not in LEVELS_FINE or any(value in line for value in personal)
    ]


LEVELS_FINE = {"DEBUG", "INFO", "WARNING"}


def _level(line: str) -> str | None:
    """The level of a JSON log line; None for a line that is not a JSON object."""
    try:
        fields = json.loads(line)
    except ValueError:
        return None
    return fields.get("level") if isinstance(fields, dict) else None
