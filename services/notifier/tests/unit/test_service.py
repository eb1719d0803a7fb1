"""The delivery logic with a scripted provider, a controlled clock and a real (SQLite) store."""

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
import sqlalchemy as sa
from aiolimiter import AsyncLimiter
from sqlalchemy.exc import OperationalError

from orderpulse_notifier.errors import PermanentDeliveryError, RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage
from orderpulse_notifier.migrate import MIGRATIONS
from orderpulse_notifier.ports import Claimant, Target
from orderpulse_notifier.receipts import Receipt, ReceiptStatus
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.service import (
    ERASED_REASON,
    MOOT_REASON,
    Handled,
    Notifier,
    Retry,
    Stopping,
)
from orderpulse_notifier.shops import Messaging, QuietHours, Shop, SmsDiacritics
from orderpulse_notifier.store import SqlDeliveryStore, deliveries
from orderpulse_schemas.outcomes import Channel

from ..conftest import PETR, about, erasure, notification

PRAGUE = timedelta(hours=1)  # November: CET


def prague(hour: int, minute: int = 0, day: int = 25) -> datetime:
    """A moment given as Prague wall time (CET), in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - PRAGUE


@dataclass
class ScriptedProvider:
    """Accepts messages, or raises the scripted errors first, in order."""

    name: str = "scripted"
    reads_html: bool = True
    errors: list[Exception] = field(default_factory=list)
    sent: list[EmailMessage | SmsMessage] = field(default_factory=list)
    attempts: int = 0

    async def send_email(self, message: EmailMessage) -> str:
        return self._accept(message)

    async def send_sms(self, message: SmsMessage) -> str:
        return self._accept(message)

    def _accept(self, message: EmailMessage | SmsMessage) -> str:
        self.attempts += 1
        if self.errors:
            raise self.errors.pop(0)
        self.sent.append(message)
        return f"msg-{len(self.sent)}"

    def channels(self) -> list[str]:
        return ["email" if isinstance(m, EmailMessage) else "sms" for m in self.sent]


@dataclass
class Clock:
    now: datetime = field(default_factory=lambda: prague(12))


@dataclass
class World:
    notifier: Notifier
    provider: ScriptedProvider
    clock: Clock
    store: SqlDeliveryStore


async def world(
    engine: Any,
    shop: Shop,
    *,
    sms_receipts: bool = False,
    limits: dict[Channel, AsyncLimiter] | None = None,
    **messaging: Any,
) -> World:
    store = SqlDeliveryStore(engine)
    await MIGRATIONS.upgrade(engine)
    if messaging:
        shop = shop.model_copy(update={"messaging": shop.messaging.model_copy(update=messaging)})
    provider, clock = ScriptedProvider(), Clock()
    notifier = Notifier(
        shops={"kvetinac-cz": shop},
        renderer=Renderer(),
        email=provider,
        sms=provider,
        store=store,
        now=lambda: clock.now,
        retry=Retry(attempts=3, initial_seconds=0.001, max_seconds=0.002, park_seconds=600),
        lease=timedelta(minutes=5),
        sms_receipts=sms_receipts,
        limits=limits,
    )
    return World(notifier, provider, clock, store)


def told(handled: Handled) -> list[tuple[str, str, str | None]]:
    return [(o.type, o.data.channel.value, o.data.reason) for o in handled.outcomes]


async def test_a_redelivered_request_sends_nothing_twice_and_tells_the_same_outcomes(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    request = notification("order_dispatched")

    first, again = await w.notifier.handle(request), await w.notifier.handle(request)

    assert w.provider.channels() == ["email", "sms"]
    assert told(first) == [("notification.sent", "email", None), ("notification.sent", "sms", None)]
    assert [o.id for o in again.outcomes] == [o.id for o in first.outcomes]


async def test_a_provider_that_sends_the_bytes_is_handed_the_email_without_its_parts(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.provider.reads_html = False
    w.provider.errors = [RetryableDeliveryError("smtp 451")]  # a retry is handed the same

    await w.notifier.handle(notification("order_accepted"))

    [email] = w.provider.sent
    assert w.provider.attempts == 2
    assert isinstance(email, EmailMessage) and (email.html, email.text) == ("", "")
    parsed = message_from_bytes(email.raw.data, policy=policy.default)
    html = parsed.get_body(("html",))
    assert html is not None and "10045" in html.get_content()


async def test_the_shop_chooses_the_channels_of_each_kind(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)  # order_accepted: [email]

    await w.notifier.handle(notification("order_accepted"))

    assert w.provider.channels() == ["email"]


async def test_no_text_without_consent(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)

    await w.notifier.handle(notification("order_dispatched", consent={"email": True, "sms": False}))

    assert w.provider.channels() == ["email"]


async def test_an_invalid_number_fails_the_text_with_its_reason_while_the_email_goes(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)

    handled = await w.notifier.handle(notification("order_dispatched", phone="+420000000000"))

    assert w.provider.channels() == ["email"]
    assert told(handled) == [
        ("notification.sent", "email", None),
        ("notification.failed", "sms", "the phone number is not a valid number (E.164 check)"),
    ]


async def test_a_number_as_the_shop_stored_it_is_texted_and_one_without_a_country_is_not(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    czech = notification("order_dispatched", phone="601 123 456")
    english = about(notification("order_dispatched", phone="601 123 456", locale="en"), "20001")

    texted, untexted = await w.notifier.handle(czech), await w.notifier.handle(english)

    assert [m.to for m in w.provider.sent if isinstance(m, SmsMessage)] == ["+420601123456"]
    assert told(texted)[1] == ("notification.sent", "sms", None)
    assert told(untexted) == [
        ("notification.sent", "email", None),
        (
            "notification.failed",
            "sms",
            "the phone number cannot be read (not a number, or no country code)",
        ),
    ]


async def test_a_failed_text_falls_back_to_email_when_the_kind_is_text_only(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop, channels={"out_for_delivery": [Channel.SMS]})

    handled = await w.notifier.handle(notification("out_for_delivery", phone="+420000000000"))

    assert w.provider.channels() == ["email"]
    assert [(t, c) for t, c, _ in told(handled)] == [
        ("notification.failed", "sms"),
        ("notification.sent", "email"),
    ]


async def test_a_text_longer_than_the_shop_allows_fails_and_falls_back(
    engine: Any, shop: Shop
) -> None:
    keep = shop.model_copy(update={"sms_diacritics": SmsDiacritics.KEEP})  # UCS-2: 70 a segment
    w = await world(engine, keep, channels={"at_pickup_point": [Channel.SMS]}, sms_max_segments=1)

    handled = await w.notifier.handle(notification("at_pickup_point"))

    reason = told(handled)[0][2]
    assert reason is not None and reason.endswith("(UCS-2); the shop allows 1")
    assert w.provider.channels() == ["email"]


async def test_throttling_and_outages_are_retried_then_sent_once(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)
    w.provider.errors = [RetryableDeliveryError("429"), RetryableDeliveryError("503")]

    handled = await w.notifier.handle(notification("order_accepted"))

    assert w.provider.attempts == 3
    assert told(handled) == [("notification.sent", "email", None)]


async def test_sends_keep_to_the_providers_rate(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop, limits={Channel.EMAIL: AsyncLimiter(2, 0.5)})  # 4 a second
    example = notification("order_accepted")
    requests = [
        example.model_copy(
            update={"data": example.data.model_copy(update={"notification_id": f"rate-{n}"})}
        )
        for n in range(8)
    ]

    started = asyncio.get_running_loop().time()
    await asyncio.gather(*(w.notifier.handle(request) for request in requests))

    assert len(w.provider.sent) == 8
    assert asyncio.get_running_loop().time() - started >= 1.2  # 2 at once, then 2 every 0.5 s


async def test_errors_outlasting_the_retries_hand_the_channel_back_unsent(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.provider.errors = [RetryableDeliveryError("503")] * 3
    request = notification("order_accepted")

    handled = await w.notifier.handle(request)

    assert handled.outcomes == []
    assert [(g.target.channel, g.reason) for g in handled.gave_up] == [(Channel.EMAIL, "503")]
    assert w.provider.sent == []
    replayed = await w.notifier.handle(request)  # e.g. from the dead-letter topic, after a fix
    assert told(replayed) == [("notification.sent", "email", None)]


async def test_a_permanent_error_is_a_failed_outcome_with_the_reason(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.provider.errors = [PermanentDeliveryError("ses MessageRejected")]

    handled = await w.notifier.handle(notification("order_accepted"))

    assert w.provider.attempts == 1
    assert told(handled) == [("notification.failed", "email", "ses MessageRejected")]


async def test_a_text_in_quiet_hours_waits_for_the_morning_and_the_email_goes_now(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.clock.now = prague(22, 30)
    request = notification("order_dispatched")

    handled = await w.notifier.handle(request)
    await w.notifier.handle(request)  # redelivered while it waits: still one text to come

    assert told(handled) == [("notification.sent", "email", None)]
    w.clock.now = prague(7, 59, day=26)
    assert (await w.notifier.send_due()).outcomes == []
    w.clock.now = prague(8, 0, day=26)
    morning = await w.notifier.send_due()
    assert told(morning) == [("notification.sent", "sms", None)]
    assert w.provider.channels() == ["email", "sms"]
    assert (await w.notifier.send_due()).outcomes == []


async def test_quiet_hours_follow_the_customers_time_zone(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)
    w.clock.now = prague(22, 30)  # 16:30 in New York

    await w.notifier.handle(notification("order_dispatched", phone="+12025550123"))

    assert w.provider.channels() == ["email", "sms"]


async def test_an_arrival_makes_a_waiting_on_its_way_text_moot(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop, channels={"out_for_delivery": [Channel.SMS]})
    w.clock.now = prague(22, 30)
    await w.notifier.handle(notification("out_for_delivery"))

    arrived = await w.notifier.handle(notification("delivered"))

    assert ("notification.failed", "sms", MOOT_REASON) in told(arrived)
    w.clock.now = prague(8, 0, day=26)
    morning = await w.notifier.send_due()
    assert told(morning) == [("notification.sent", "sms", None)]  # "delivered" waited too
    assert [m.label for m in w.provider.sent if isinstance(m, SmsMessage)] == [
        "kvetinac-cz/10045/delivered"
    ]


async def test_an_undelivered_text_falls_back_to_email_once(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop, sms_receipts=True, channels={"out_for_delivery": [Channel.SMS]})
    await w.notifier.handle(notification("out_for_delivery"))
    undelivered = Receipt("scripted", "msg-1", ReceiptStatus.UNDELIVERED, "twilio error 30003")

    handled = await w.notifier.on_receipt(undelivered)
    again = await w.notifier.on_receipt(undelivered)

    assert told(handled) == [
        ("notification.failed", "sms", "undelivered (twilio error 30003)"),
        ("notification.sent", "email", None),
    ]
    assert again.outcomes == []
    assert w.provider.channels() == ["sms", "email"]


@pytest.mark.parametrize(
    "who",
    [{"email": PETR["email"]}, {"phone": PETR["phone"]}, {"order_ids": ["ord-10045"]}],
    ids=["email", "phone", "order id"],
)
async def test_an_erased_customer_s_waiting_text_fails_and_is_never_sent(
    engine: Any, shop: Shop, who: dict[str, Any]
) -> None:
    w = await world(engine, shop)
    w.clock.now = prague(22, 30)
    jana = notification("order_dispatched", email="jana@example.cz", phone="+420602987654")
    for request in (notification("order_dispatched"), about(jana, "20001")):
        await w.notifier.handle(request)

    orders, handled = await w.notifier.erase(erasure(**who))
    again = await w.notifier.erase(erasure(**who))

    assert orders == 1
    assert told(handled) == [("notification.failed", "sms", ERASED_REASON)]
    assert [o.subject for o in handled.outcomes] == ["ord-10045"]
    assert (again[0], again[1].outcomes) == (0, [])
    w.clock.now = prague(8, 0, day=26)
    morning = await w.notifier.send_due()
    assert [(o.type, o.subject) for o in morning.outcomes] == [("notification.sent", "ord-20001")]
    assert [m.to for m in w.provider.sent if isinstance(m, SmsMessage)] == ["+420602987654"]


async def test_a_request_sent_before_its_customer_s_erasure_fails_when_it_comes_after(
    engine: Any, shop: Shop
) -> None:
    """The erasure overtook the request (a backlog on the notifications topic): nothing is sent
    and each channel is told as failed, again the same if redelivered. A request sent after the
    erasure is for an order the customer placed anew, and goes."""
    w = await world(engine, shop)
    erased_at = w.clock.now = prague(10, 0)
    await w.notifier.erase(
        erasure(email="PETR.novak@example.cz").model_copy(update={"time": erased_at})
    )
    late = notification("order_dispatched").model_copy(update={"time": erased_at})
    anew = about(notification("order_dispatched"), "20001").model_copy(
        update={"time": erased_at + timedelta(seconds=1)}
    )

    handled, again = await w.notifier.handle(late), await w.notifier.handle(late)
    sent = await w.notifier.handle(anew)

    erased = [("notification.failed", c, ERASED_REASON) for c in ("email", "sms")]
    assert (told(handled), told(again)) == (erased, erased)
    assert [o.subject for o in sent.outcomes] == ["ord-20001", "ord-20001"]
    assert w.provider.channels() == ["email", "sms"]


async def test_an_erased_customer_s_request_kept_for_a_receipt_is_gone(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop, sms_receipts=True, channels={"out_for_delivery": [Channel.SMS]})
    await w.notifier.handle(notification("out_for_delivery"))

    orders, handled = await w.notifier.erase(erasure(email=PETR["email"]))

    assert (orders, handled.outcomes) == (1, [])
    undelivered = Receipt("scripted", "msg-1", ReceiptStatus.UNDELIVERED, "twilio error 30003")
    assert told(await w.notifier.on_receipt(undelivered)) == [
        ("notification.failed", "sms", "undelivered (twilio error 30003)")
    ]
    assert w.provider.channels() == ["sms"]  # no email fallback: nothing left to write it from


async def test_a_delivered_receipt_is_told_once(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)
    await w.notifier.handle(notification("order_accepted"))
    delivered = Receipt("scripted", "msg-1", ReceiptStatus.DELIVERED, None)

    assert told(await w.notifier.on_receipt(delivered)) == [
        ("notification.delivered", "email", None)
    ]
    assert (await w.notifier.on_receipt(delivered)).outcomes == []


async def test_a_claim_held_by_a_dead_worker_is_taken_over_when_its_lease_runs_out(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    request = notification("order_accepted")
    target = Target(request.data.notification_id, Channel.EMAIL, "kvetinac-cz", "ord-10045", "x")
    now, lease = w.clock.now, w.clock.now + timedelta(minutes=5)
    vouched_for = Claimant("older-worker", now + timedelta(minutes=10))  # a claim from before
    assert await w.store.claim_all([target], now, lease, vouched_for) == [None]  # owners: lease

    handling = asyncio.create_task(w.notifier.handle(request))
    await asyncio.sleep(0.5)
    assert not handling.done() and w.provider.sent == []  # the other worker may still send it
    w.clock.now += timedelta(minutes=5)

    handled = await asyncio.wait_for(handling, 5)
    assert told(handled) == [("notification.sent", "email", None)]
    assert w.provider.channels() == ["email"]


async def test_a_claim_of_a_worker_that_fell_silent_is_taken_over_without_waiting_for_its_lease(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    request = notification("order_accepted")
    target = Target(request.data.notification_id, Channel.EMAIL, "kvetinac-cz", "ord-10045", "x")
    now = w.clock.now
    killed = Claimant("killed-worker", now + timedelta(seconds=30))  # its last word
    assert await w.store.claim_all([target], now, now + timedelta(minutes=5), killed) == [None]

    handling = asyncio.create_task(w.notifier.handle(request))
    await asyncio.sleep(0.5)
    assert not handling.done() and w.provider.sent == []  # it may be alive: wait
    w.clock.now += timedelta(seconds=31)  # silent for longer than it promised to live

    handled = await asyncio.wait_for(handling, 5)
    assert told(handled) == [("notification.sent", "email", None)]


def test_quiet_hours_may_span_midnight() -> None:
    quiet = QuietHours.model_validate({"start": "21:00", "end": "08:00"})
    assert [
        quiet.contains(t) for t in map(_time, ["20:59", "21:00", "03:00", "07:59", "08:00"])
    ] == [
        False,
        True,
        True,
        True,
        False,
    ]
    day = QuietHours.model_validate({"start": "12:00", "end": "13:00"})
    assert [day.contains(t) for t in map(_time, ["11:59", "12:30", "13:00"])] == [
        False,
        True,
        False,
    ]


def test_messaging_defaults_to_both_channels_for_unlisted_kinds() -> None:
    assert Messaging().channels_for("anything") == [Channel.EMAIL, Channel.SMS]


def _time(text: str) -> Any:
    return datetime.strptime(text, "%H:%M").time()


def orders(kind: str, count: int, **customer: object) -> list[Any]:
    """`count` requests of `kind`, each about an order of its own."""
    return [about(notification(kind, **customer), f"2{n:04d}") for n in range(count)]


async def test_a_poll_is_two_write_transactions_and_sends_every_channel_once(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    poll = orders("order_dispatched", 50)
    committed: list[object] = []

    def count(connection: object) -> None:
        committed.append(connection)

    sa.event.listen(engine.sync_engine, "commit", count)
    try:
        handled = await w.notifier.handle_all(poll + poll[:10])  # ten redelivered in the poll
    finally:
        sa.event.remove(engine.sync_engine, "commit", count)

    assert len(committed) == 2  # the claims, then every end
    assert len(w.provider.sent) == 100
    assert len(handled.outcomes) == 120  # a request twice in the poll is told twice, sent once
    assert {o.type for o in handled.outcomes} == {"notification.sent"}
    again = await w.notifier.handle_all(poll)
    assert len(w.provider.sent) == 100 and len(again.outcomes) == 100  # told again, not re-sent


@dataclass
class SlowProvider(ScriptedProvider):
    """Takes 20 ms per message and remembers how many it had at once."""

    at_once: int = 0
    most_at_once: int = 0

    async def send_email(self, message: EmailMessage) -> str:
        return await self._slowly(message)

    async def send_sms(self, message: SmsMessage) -> str:
        return await self._slowly(message)

    async def _slowly(self, message: EmailMessage | SmsMessage) -> str:
        self.at_once += 1
        self.most_at_once = max(self.most_at_once, self.at_once)
        await asyncio.sleep(0.02)
        self.at_once -= 1
        return self._accept(message)


def sending_through(
    provider: ScriptedProvider, w: World, shop: Shop, in_flight: int, record_every: float = 0.1
) -> Notifier:
    """Another notifier on `w`'s store and clock, sending through `provider`."""
    return Notifier(
        shops={"kvetinac-cz": shop},
        renderer=Renderer(),
        email=provider,
        sms=provider,
        store=w.store,
        now=lambda: w.clock.now,
        in_flight=in_flight,
        record_every=record_every,
    )


async def test_a_poll_s_ends_are_written_as_they_come_not_only_at_its_end(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowProvider()
    notifier = sending_through(provider, w, shop, in_flight=2, record_every=0.01)
    handling = asyncio.create_task(notifier.handle_all(orders("order_accepted", 10)))
    statuses: Counter[str] = Counter()
    # The sends take 0.2 s at least (two at a time, 20 ms each, after the templates compile).
    for _ in range(200):
        async with engine.connect() as conn:
            statuses = Counter((await conn.scalars(sa.select(deliveries.c.status))).all())
        if statuses["sent"] >= 2 or handling.done():
            break
        await asyncio.sleep(0.005)
    assert not handling.done() and statuses["sent"] >= 2 and statuses["pending"] >= 2
    assert len((await handling).outcomes) == 10


async def test_orders_are_sent_concurrently_up_to_the_bound_and_each_order_in_order(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowProvider()
    notifier = sending_through(provider, w, shop, in_flight=4)
    one_order = [about(notification(kind), "30001") for kind in ("order_accepted", "delivered")]
    await notifier.handle_all(orders("order_accepted", 12) + one_order)

    assert provider.most_at_once == 4
    labels = dict.fromkeys(m.label for m in provider.sent if "/30001/" in m.label)
    assert list(labels) == ["kvetinac-cz/30001/order_accepted", "kvetinac-cz/30001/delivered"]


async def test_an_orders_email_and_text_go_side_by_side_each_channel_in_order(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowProvider()
    notifier = sending_through(provider, w, shop, in_flight=10)
    kinds = ("order_dispatched", "out_for_delivery", "delivered")
    await notifier.handle_all([about(notification(kind), "30002") for kind in kinds])

    assert provider.most_at_once == 2  # a text does not wait for the email before it
    for channel in (EmailMessage, SmsMessage):
        sent = [m.label.rpartition("/")[2] for m in provider.sent if isinstance(m, channel)]
        assert sent == list(kinds)


@dataclass
class SlowForDispatch(SlowProvider):
    """Takes its time over dispatch messages: what a later message could overtake."""

    async def _slowly(self, message: EmailMessage | SmsMessage) -> str:
        if message.label.endswith("/order_dispatched"):
            await asyncio.sleep(0.2)
        return await super()._slowly(message)


async def test_overlapping_polls_send_an_order_s_messages_in_the_order_the_polls_were_read(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowForDispatch()
    notifier = sending_through(provider, w, shop, in_flight=10)
    first = [*orders("order_accepted", 5), about(notification("order_dispatched"), "30003")]
    second = [about(notification(kind), "30003") for kind in ("out_for_delivery", "delivered")]
    await asyncio.gather(notifier.handle_all(first), notifier.handle_all(second))

    for channel in (EmailMessage, SmsMessage):
        sent = [
            m.label.rpartition("/")[2]
            for m in provider.sent
            if isinstance(m, channel) and "/30003/" in m.label
        ]
        assert sent == ["order_dispatched", "out_for_delivery", "delivered"]
    # and every other order's (order_accepted goes by email only here), once
    assert len({m.delivery_id for m in provider.sent}) == len(provider.sent) == 5 + 2 * 3


class FirstClaimSlow(SqlDeliveryStore):
    """The first poll's claim takes its time: a later poll's claim could get there first."""

    slowed = False

    async def claim_all(self, *args: Any, **kwargs: Any) -> Any:
        if not self.slowed:
            self.slowed = True
            await asyncio.sleep(0.2)
        return await super().claim_all(*args, **kwargs)


async def test_a_request_in_two_overlapping_polls_is_sent_once_and_neither_waits_forever(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowProvider()
    notifier = sending_through(provider, w, shop, in_flight=10)
    notifier._store = FirstClaimSlow(engine)  # the same database
    request = notification("order_dispatched")
    async with asyncio.timeout(10):
        first, again = await asyncio.gather(
            notifier.handle_all([request]), notifier.handle_all([request])
        )

    assert len(provider.sent) == 2  # its email and its text, once
    assert len(first.outcomes) == len(again.outcomes) == 2


async def test_a_request_failing_on_both_channels_is_handed_back_once(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.provider.errors = [ValueError("a bug"), ValueError("a bug")]

    handled = await w.notifier.handle_all([notification("order_dispatched")])

    assert len(handled.unhandled) == 1 and w.provider.sent == []


async def test_a_request_that_fails_stops_alone_and_its_claim_is_given_back(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    poll = orders("order_accepted", 3)
    w.provider.errors = [ValueError("a bug")]  # the first send of the poll meets it

    handled = await w.notifier.handle_all(poll)

    [(failed, error)] = handled.unhandled
    assert isinstance(error, ValueError)
    assert len(w.provider.sent) == len(handled.outcomes) == 2
    replayed = await w.notifier.handle(failed)  # from the dead-letter topic: not held by a lease
    assert told(replayed) == [("notification.sent", "email", None)]


async def test_a_transient_failure_is_raised_after_the_rest_is_recorded(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    poll = orders("order_accepted", 3)
    w.provider.errors = [OperationalError("SELECT 1", {}, Exception("database gone"))]

    with pytest.raises(OperationalError):
        await w.notifier.handle_all(poll)

    assert len(w.provider.sent) == 2
    again = await w.notifier.handle_all(poll)  # the poll read again
    assert len(w.provider.sent) == 3 and len(again.outcomes) == 3


async def test_an_arrival_later_in_the_poll_makes_a_text_held_for_quiet_hours_moot_at_once(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.clock.now = prague(22)
    on_its_way, arrived = notification("out_for_delivery"), notification("delivered")

    handled = await w.notifier.handle_all([on_its_way, arrived])

    assert ("notification.failed", "sms", MOOT_REASON) in told(handled)
    w.clock.now = prague(8, day=26)
    morning = await w.notifier.send_due()
    assert [o.data.notification_id for o in morning.outcomes] == [arrived.data.notification_id]


async def test_a_stopping_notifier_finishes_the_sends_under_way_and_gives_back_the_rest(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    provider = SlowProvider()
    poll = orders("order_accepted", 10)
    stopping = sending_through(provider, w, shop, in_flight=2)
    handling = asyncio.create_task(stopping.handle_all(poll))
    await asyncio.sleep(0.03)  # two sends done, two under way
    await stopping.stop_sending()
    with pytest.raises(Stopping):  # not committed: the poll is read again
        await handling
    sent_before = len(provider.sent)
    assert 2 <= sent_before < 10

    next_reader = sending_through(provider, w, shop, in_flight=2)
    again = await next_reader.handle_all(poll)  # at once: nothing is held by a lease

    assert len(provider.sent) == 10  # the rest, none twice
    assert len({m.delivery_id for m in provider.sent}) == 10
    assert len(again.outcomes) == 10


async def test_a_due_text_a_stopping_notifier_did_not_send_stays_due(
    engine: Any, shop: Shop
) -> None:
    w = await world(engine, shop)
    w.clock.now = prague(22)
    await w.notifier.handle(notification("order_dispatched"))  # the text waits for 08:00
    w.clock.now = prague(8, day=26)
    stopping = sending_through(w.provider, w, shop, in_flight=1)
    await stopping.stop_sending()

    assert (await stopping.send_due()).outcomes == []  # nothing to commit: no error either

    assert told(await w.notifier.send_due()) == [("notification.sent", "sms", None)]
    assert w.provider.channels() == ["email", "sms"]


async def test_a_reply_to_an_email_reaches_the_shop_s_support(engine: Any, shop: Shop) -> None:
    w = await world(engine, shop)

    await w.notifier.handle(notification("order_accepted"))

    [sent] = w.provider.sent
    assert isinstance(sent, EmailMessage)
    assert sent.reply_to == f"{shop.brand} <{shop.contact.email}>"
    assert sent.sender == f"{shop.sender.name} <{shop.sender.email}>"
    assert b"\r\nReply-To: =?utf-8?b?" in sent.raw.data


async def test_no_reply_to_when_the_sender_is_the_support_address(engine: Any, shop: Shop) -> None:
    contact = shop.contact.model_copy(update={"email": shop.sender.email.upper()})
    w = await world(engine, shop.model_copy(update={"contact": contact}))

    await w.notifier.handle(notification("order_accepted"))

    [sent] = w.provider.sent
    assert isinstance(sent, EmailMessage)
    assert sent.reply_to is None
    assert b"Reply-To" not in sent.raw.data
