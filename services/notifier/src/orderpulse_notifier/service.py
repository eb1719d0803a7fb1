"""The notifier's use case: each channel of each notification is sent once, and its outcome told.

A channel is claimed before it is sent and finished after, so a redelivered request sends nothing
twice. Work goes in rounds (a poll of requests, the texts come due, a receipt): every channel of
the round is claimed in one transaction, the claimed ones are sent concurrently (an order's emails
one after another in the order decided, its texts likewise, also when polls overlap: a poll's
turn on an order comes after an earlier poll's; at most `in_flight` at once), and
their ends are written together: a poll's as they come, every `record_every` seconds. A message a
provider accepted that the process did not live to record is sent again after the restart: the
crash window is the sends under way and those ended since the last write. A process's claims
name it, and it says every few seconds that it is alive: the claims of one that died are taken
over once it has been silent for `owner_timeout`, not when their lease runs out.

Transient provider errors are retried with backoff; when they outlast the retries the channel is
handed back (`Handled.gave_up`) for the caller to dead-letter, or parked. Permanent errors fail
the channel, and a failed or undelivered SMS falls back to email where the shop allows it. Texts
that would arrive in quiet hours wait, durably, until the hours end. An erased customer's kept
requests are forgotten, and their waiting messages fail instead of going out.
"""

import asyncio
import contextlib
import functools
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, TypeVar

from aiolimiter import AsyncLimiter
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_exponential_jitter

from orderpulse_kit.erasure import Arriving
from orderpulse_kit.isolation import TRANSIENT, Transient, unhandled
from orderpulse_notifier.errors import PermanentDeliveryError, RetryableDeliveryError
from orderpulse_notifier.messages import EmailMessage, SmsMessage
from orderpulse_notifier.metrics import RETRIES
from orderpulse_notifier.policy import (
    ARRIVAL_KINDS,
    MOOT_ON_ARRIVAL,
    UnusableNumber,
    channels_for,
    customer_zone,
    quiet_until,
    reachable,
    sms_number,
)
from orderpulse_notifier.ports import (
    ERASED_REASON,
    Claimant,
    Delivery,
    DeliveryStatus,
    DeliveryStore,
    EmailSender,
    Ends,
    Kept,
    Moot,
    SmsSender,
    Target,
)
from orderpulse_notifier.receipts import Receipt, ReceiptStatus
from orderpulse_notifier.rendering import Renderer
from orderpulse_notifier.shops import Messaging, Shop, SmsDiacritics
from orderpulse_notifier.sms import SmsText, measure, transliterate
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.outcomes import (
    Channel,
    NotificationDelivered,
    NotificationFailed,
    NotificationOutcomeData,
    NotificationSent,
)
from orderpulse_schemas.privacy import ErasureRequested

log = logging.getLogger(__name__)

SOURCE = "/orderpulse/notifier"
_NAMESPACE = uuid.UUID("5d0c7f35-1f4b-4c3e-b7a8-9b1a4b7e6c21")

Outcome = NotificationSent | NotificationFailed | NotificationDelivered
_OUTCOME_TYPES: dict[DeliveryStatus, type[Outcome]] = {
    DeliveryStatus.SENT: NotificationSent,
    DeliveryStatus.FAILED: NotificationFailed,
    DeliveryStatus.DELIVERED: NotificationDelivered,
}
MOOT_REASON = "moot: the order arrived before the text's quiet hours ended"


@dataclass(frozen=True)
class Retry:
    """How hard to try a provider before handing a channel back."""

    attempts: int = 5
    initial_seconds: float = 0.5
    max_seconds: float = 10.0
    timeout_seconds: float = 20.0  # one attempt
    park_seconds: float = 300.0  # a deferred channel that gave up is tried again this much later


@dataclass(frozen=True)
class GaveUp:
    """A channel whose transient errors outlasted the retries; it is still pending, unsent."""

    target: Target
    reason: str
    request: NotificationRequested


class Stopping(Transient):
    """The notifier is stopping: channels not under way yet were given back, so the poll is not
    committed, and whoever reads it next sends them (and tells the rest again)."""


class _NotStarted(Exception):
    """A send that the stopping notifier did not start."""


@dataclass
class Handled:
    """What handling produced: outcomes to publish, channels to retry later, requests that could
    not be handled (each with its error, for the caller to dead-letter)."""

    outcomes: list[Outcome] = field(default_factory=list)
    gave_up: list[GaveUp] = field(default_factory=list)
    unhandled: list[tuple[NotificationRequested, Exception]] = field(default_factory=list)


_Chain = tuple[str, str, Channel]
"""shop, order, channel: the messages that must leave one after another."""


def _chain(target: Target) -> _Chain:
    return target.shop_id, target.order_id, target.channel


class _Turn(NamedTuple):
    """A poll's turn on a chain: it starts when the earlier poll's turn is `done` (`after`)."""

    chain: _Chain
    after: "asyncio.Future[None] | None"
    done: "asyncio.Future[None]"


class _Job(NamedTuple):
    """One channel of one request to send, with what claiming it found (None: it is ours)."""

    request: NotificationRequested
    target: Target
    claim: Delivery | None


@dataclass
class _Round:
    """One round of sending (a poll, the due texts, a receipt): how each channel ended.

    `park`: a channel that gave up waits as deferred (True) or is handed back (`gave_up`).
    `moot`: requests whose texts, if quiet hours hold them, are moot (their order arrives later
    in the same poll). A claimed channel that neither ends nor waits is released at the end.
    `ends` holds what is not written yet; `ended`, the channels whose end was written.
    """

    park: bool
    moot: frozenset[str] = frozenset()
    cut_short: bool = False  # channels were left unsent because the notifier is stopping
    failed: set[str] = field(default_factory=set)  # requests that could not be handled
    handled: Handled = field(default_factory=Handled)
    ends: Ends = field(default_factory=Ends)
    ended: set[Target] = field(default_factory=set)
    claimed: list[Target] = field(default_factory=list)


class Notifier:
    """Renders, sends and records; safe to call again with the same request."""

    def __init__(
        self,
        *,
        shops: Mapping[str, Shop],
        renderer: Renderer,
        email: EmailSender,
        sms: SmsSender,
        store: DeliveryStore,
        now: Callable[[], datetime],
        retry: Retry | None = None,
        lease: timedelta = timedelta(minutes=5),
        owner_timeout: timedelta = timedelta(seconds=30),
        limits: Mapping[Channel, AsyncLimiter] | None = None,
        in_flight: int = 200,
        record_every: float = 0.1,
        sms_receipts: bool = False,
    ) -> None:
        """`in_flight` bounds the sends under way at once (sockets, threads, provider load);
        `owner_timeout`: how long this process may be silent before its claims are taken for
        a dead one's (it says it is alive as it claims, and by `keep_alive`); `record_every`:
        seconds between two writes of a poll's ends while it sends."""
        self._shops, self._renderer, self._store, self._now = shops, renderer, store, now
        self._email, self._sms = email, sms
        self._retry, self._lease = retry or Retry(), lease
        self._owner, self._owner_timeout = uuid.uuid4().hex, owner_timeout
        self._limits = dict(limits or {})
        self._in_flight = asyncio.Semaphore(in_flight)
        self._record_every = record_every
        self._sms_receipts = sms_receipts
        self._stopping = False
        self._turns: dict[_Chain, _Turn] = {}  # the last poll's turn on each chain under way
        self._claiming = asyncio.Lock()  # polls claim one after another, in the order read

    async def stop_sending(self) -> None:
        """Start no send from now on (the process is stopping): the sends under way finish and
        are recorded, the rest are given back for the next reader of the poll."""
        self._stopping = True

    async def handle(self, request: NotificationRequested) -> Handled:
        """One request: `handle_all` of a poll of one."""
        return await self.handle_all([request])

    async def handle_all(self, requests: Sequence[NotificationRequested]) -> Handled:
        """A poll: send what was not sent yet; every channel's outcome (again, if redelivered).

        Every channel of the poll is claimed in one transaction, the claimed ones are sent
        concurrently (an order's messages on one channel in the order requested), and their ends
        are written as they come, a transaction every `record_every` seconds. A request that
        fails is handed back in `unhandled` while the rest take effect; a transient failure (the
        database down) is raised once the rest is recorded.
        """
        distinct: dict[str, NotificationRequested] = {}
        for request in requests:
            distinct.setdefault(request.data.notification_id, request)
        targets = [
            _target(request, channel)
            for request in distinct.values()
            for channel in self._channels(request)
        ]
        # Each chain's turn is taken now, in the order the polls were read: polls may overlap.
        turns = self._take_turns({_chain(target) for target in targets})
        try:
            now = self._now()
            customers = {
                id: Arriving(
                    r.shopid, r.subject, r.data.customer.email, r.data.customer.phone, r.time
                )
                for id, r in distinct.items()
            }
            # Claimed in the order of the turns too: a poll finding its channel claimed by a
            # later poll would wait for it while that one waits for its turn.
            async with self._claiming:
                claims = await self._store.claim_all(
                    targets, now, now + self._lease, self._claimant(now), customers
                )
            chains: dict[_Chain, list[_Job]] = {}
            for target, claim in zip(targets, claims, strict=True):
                job = _Job(distinct[target.notification_id], target, claim)
                chains.setdefault(_chain(target), []).append(job)
            round = _Round(park=False, moot=_moot_before_arrival(list(distinct.values())))
            arrived = [
                (request.shopid, request.subject)
                for request in distinct.values()
                if request.data.notice.kind in ARRIVAL_KINDS
            ]
            if arrived:
                round.ends.moot = Moot(arrived, MOOT_ON_ARRIVAL, MOOT_REASON)
            async with self._recording(round):
                await asyncio.gather(
                    *(
                        self._after(
                            turns[chain],
                            functools.partial(self._in_turn, jobs, round, deferrable=True),
                        )
                        for chain, jobs in chains.items()
                    )
                )
        finally:
            self._end_turns(turns)
        handled = await self._settle(round)
        return _told_again(handled, requests)

    def _take_turns(self, chains: set[_Chain]) -> dict[_Chain, _Turn]:
        """A turn on each chain, after the turn an earlier poll still under way holds."""
        loop, turns = asyncio.get_running_loop(), {}
        for chain in chains:
            earlier = self._turns.get(chain)
            turn = _Turn(chain, None if earlier is None else earlier.done, loop.create_future())
            self._turns[chain] = turns[chain] = turn
        return turns

    def _end_turn(self, turn: _Turn) -> None:
        """The chain's messages of this poll have gone: the next poll's may go."""
        if not turn.done.done():
            turn.done.set_result(None)
        if self._turns.get(turn.chain) is turn:
            del self._turns[turn.chain]

    def _end_turns(self, turns: dict[_Chain, _Turn]) -> None:
        """Every turn of a poll over (those that never started: its claims failed)."""
        for turn in turns.values():
            self._end_turn(turn)

    async def _after(self, turn: _Turn, send: Callable[[], Awaitable[None]]) -> None:
        """`send()`, once the chain's messages of an earlier poll have gone."""
        try:
            if turn.after is not None:
                await asyncio.shield(turn.after)  # cancelled here, not the other poll's turn
            await send()
        finally:
            self._end_turn(turn)

    async def send_due(self, limit: int = 100) -> Handled:
        """Send deferred texts whose quiet hours are over; those that give up wait again."""
        now = self._now()
        chains: dict[_Chain, list[_Job]] = {}
        round = _Round(park=True)
        for due in await self._store.take_due(now, now + self._lease, limit):
            try:
                request = NotificationRequested.model_validate_json(due.request)
            except ValueError:
                log.exception("%s: its kept request cannot be read", due.target.delivery_id)
                continue
            chains.setdefault(_chain(due.target), []).append(_Job(request, due.target, None))
        await asyncio.gather(
            *(self._in_turn(jobs, round, deferrable=False) for jobs in chains.values())
        )
        return await self._settle(round)

    async def on_receipt(self, receipt: Receipt) -> Handled:
        """Tell what a provider reported; an undelivered text falls back to email."""
        round = _Round(park=True)
        if receipt.status is ReceiptStatus.DELIVERED:
            reported = Delivery(DeliveryStatus.DELIVERED)
        else:
            reported = Delivery(DeliveryStatus.FAILED, reason=_receipt_reason(receipt))
        receipted = await self._store.record_receipt(
            receipt.provider, receipt.provider_message_id, reported
        )
        if receipted is None:
            return round.handled  # unknown, or told already
        request = (
            None
            if receipted.request is None
            else NotificationRequested.model_validate_json(receipted.request)
        )
        round.handled.outcomes.append(self._outcome(receipted.target, receipted.delivery, request))
        if receipted.delivery.status is DeliveryStatus.FAILED and request is not None:
            await self._fall_back(request, self._shops.get(request.shopid), round)
        return await self._settle(round)

    async def erase(self, request: ErasureRequested) -> tuple[int, Handled]:
        """Forget a customer's kept requests; how many orders it touched, and what to tell.

        A deferred delivery cannot be sent without its request: it fails, and is told as failed.
        Requests sent before the erasure that are still on their way fail when they come.
        """
        data = request.data
        erased_at = max(request.time, self._now())
        erased = await self._store.erase(
            request.shopid, data.email, data.phone, data.order_ids, ERASED_REASON, erased_at
        )
        handled = Handled()
        for target in erased.failed:
            handled.outcomes.append(
                self._outcome(target, Delivery(DeliveryStatus.FAILED, reason=ERASED_REASON), None)
            )
        return erased.orders, handled

    async def keep_alive(self) -> None:
        """Say this process is alive, so its claims stand (call well within `owner_timeout`)."""
        now = self._now()
        await self._store.keep_alive(self._claimant(now), now)

    async def retire(self) -> None:
        """This process has stopped claiming: nobody need wait for it."""
        await self._store.retire(self._owner)

    def _claimant(self, now: datetime) -> Claimant:
        return Claimant(self._owner, now + self._owner_timeout)

    async def forget_kept_requests(self, older_than: timedelta) -> int:
        """Drop requests kept for receipts that never came: personal data is not kept for long."""
        return await self._store.forget_requests(self._now() - older_than)

    def _channels(self, request: NotificationRequested) -> list[Channel]:
        shop = self._shops.get(request.shopid)
        messaging = shop.messaging if shop else Messaging()  # an unknown shop fails each channel
        return channels_for(request.data.customer, request.data.notice.kind, messaging)

    async def _in_turn(self, jobs: list[_Job], round: _Round, *, deferrable: bool) -> None:
        """One order's messages on one channel, in the order decided (its email and its texts
        go side by side). A request that fails stops alone: the order's other requests still go;
        it is dead-lettered once, to be replayed (what it sent is not sent again)."""
        for request, target, claim in jobs:
            if request.id in round.failed:
                continue
            try:
                shop = self._shops.get(request.shopid)
                await self._channel(request, shop, target, claim, round, deferrable=deferrable)
            except Exception as error:
                log.warning("%s %s", target.delivery_id, unhandled(error))
                if request.id not in round.failed:
                    round.failed.add(request.id)
                    round.handled.unhandled.append((request, error))

    async def _channel(
        self,
        request: NotificationRequested,
        shop: Shop | None,
        target: Target,
        claim: Delivery | None,
        round: _Round,
        *,
        deferrable: bool,
    ) -> None:
        if claim is not None and claim.status is DeliveryStatus.PENDING:
            claim = await self._claim(target)  # in flight elsewhere: wait for it
        if claim is not None:
            if claim.status in _OUTCOME_TYPES:
                round.handled.outcomes.append(self._outcome(target, claim, request))
            return
        round.claimed.append(target)
        if deferrable and target.channel is Channel.SMS and shop is not None:
            zone = customer_zone(request.data.customer, shop.time_zone)
            due = quiet_until(self._now(), shop.messaging.quiet_hours, zone)
            if due is not None and request.id in round.moot:
                moot = Delivery(DeliveryStatus.FAILED, reason=MOOT_REASON)
                self._finish(round, target, moot, request)
            elif due is not None:
                round.ends.deferred.append((target, due, _kept(request)))
                log.info("%s deferred to %s (quiet hours)", target.delivery_id, due.isoformat())
            if due is not None:
                return
        await self._send_held(request, shop, target, round)

    async def _claim(self, target: Target) -> Delivery | None:
        """Claim the delivery, waiting while another live worker holds it."""
        while True:
            now = self._now()
            [recorded] = await self._store.claim_all(
                [target], now, now + self._lease, self._claimant(now)
            )
            if recorded is None or recorded.status is not DeliveryStatus.PENDING:
                return recorded
            await asyncio.sleep(0.2)  # in flight elsewhere: it finishes, or its owner dies

    async def _send_held(
        self, request: NotificationRequested, shop: Shop | None, target: Target, round: _Round
    ) -> None:
        """Send a claimed channel, note how it ended, fall back when a text fails."""
        try:
            delivery = await self._deliver(request, shop, target)
        except _NotStarted:
            if round.park:  # no poll to read again (a due text, a receipt's fallback): it waits
                round.ends.deferred.append((target, self._now(), _kept(request)))
            else:
                round.cut_short = True  # the claim is given back at the end of the round
            return
        except RetryableDeliveryError as error:
            log.warning("%s gave up after retries: %s", target.delivery_id, error)
            if round.park:
                later = self._now() + timedelta(seconds=self._retry.park_seconds)
                round.ends.deferred.append((target, later, _kept(request)))
            else:
                round.handled.gave_up.append(GaveUp(target, str(error), request))
            return
        keep = self._kept_for_receipt(request, shop, target)
        self._finish(round, target, delivery, request, keep)
        if delivery.status is DeliveryStatus.FAILED and target.channel is Channel.SMS:
            await self._fall_back(request, shop, round)

    def _finish(
        self,
        round: _Round,
        target: Target,
        delivery: Delivery,
        request: NotificationRequested,
        keep: Kept | None = None,
    ) -> None:
        round.ends.finished.append((target, delivery, keep))
        round.handled.outcomes.append(self._outcome(target, delivery, request))

    @contextlib.asynccontextmanager
    async def _recording(self, round: _Round) -> AsyncIterator[None]:
        """While the round sends, write its ends every `record_every` seconds, so that a crash
        repeats only the sends under way and those ended since, not the whole round."""
        done = asyncio.Event()

        async def record() -> None:
            while not done.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(done.wait(), self._record_every)
                if not done.is_set() and (round.ends.finished or round.ends.deferred):
                    await self._write_ends(round)

        recorder = asyncio.create_task(record())
        try:
            yield
        finally:
            done.set()
            try:
                await recorder
            except Exception as error:  # what it held is back in the round, for its end
                log.warning("a poll's ends could not be written as they came: %r", error)

    async def _write_ends(self, round: _Round) -> None:
        """Write the ends noted so far (a moot before all else); tell what the moot failed."""
        ends, round.ends = round.ends, Ends()
        try:
            moot = await self._store.settle(ends, self._now())
        except BaseException:
            round.ends = _joined(ends, round.ends)
            raise
        round.ended.update(target for target, *_ in ends.finished + ends.deferred)
        for target in moot:
            round.handled.outcomes.append(
                self._outcome(target, Delivery(DeliveryStatus.FAILED, reason=MOOT_REASON), None)
            )

    async def _settle(self, round: _Round) -> Handled:
        """Write how the round ended (claims that did not end are released); what to tell."""
        ended = round.ended | {target for target, *_ in round.ends.finished + round.ends.deferred}
        round.ends.released = [target for target in round.claimed if target not in ended]
        await self._write_ends(round)
        transient = [error for _, error in round.handled.unhandled if isinstance(error, TRANSIENT)]
        if transient:
            raise transient[0]  # the poll is read again; what was recorded is not repeated
        if round.cut_short:
            raise Stopping("stopping: the channels not sent yet were given back")
        return round.handled

    async def _fall_back(
        self, request: NotificationRequested, shop: Shop | None, round: _Round
    ) -> None:
        """Email what a text could not carry, if the shop allows it and the customer has email.

        Not when this kind goes by email anyway: that email is (or will be) sent on its own.
        """
        if shop is None or not shop.messaging.sms_fallback_to_email:
            return
        customer, kind = request.data.customer, request.data.notice.kind
        if Channel.EMAIL in channels_for(customer, kind, shop.messaging):
            return
        if reachable(customer, Channel.EMAIL):
            target = _target(request, Channel.EMAIL)
            claim = await self._claim(target)
            await self._channel(request, shop, target, claim, round, deferrable=False)

    def _kept_for_receipt(
        self, request: NotificationRequested, shop: Shop | None, target: Target
    ) -> Kept | None:
        """The request, kept only while a text's receipt may still call for the email fallback."""
        if target.channel is not Channel.SMS or not self._sms_receipts or shop is None:
            return None
        customer, messaging = request.data.customer, shop.messaging
        if not messaging.sms_fallback_to_email or not reachable(customer, Channel.EMAIL):
            return None
        emailed = Channel.EMAIL in channels_for(customer, target.kind, messaging)
        return None if emailed else _kept(request)

    async def _deliver(
        self, request: NotificationRequested, shop: Shop | None, target: Target
    ) -> Delivery:
        sender: EmailSender | SmsSender = (
            self._email if target.channel is Channel.EMAIL else self._sms
        )
        try:
            if shop is None:
                raise PermanentDeliveryError(f"unknown shop {request.shopid!r}")
            known = shop
            # Built when its send may start (in flight), once for every attempt: a poll renders
            # while its first sends wait for their answers, not all of it before any of them.
            if target.channel is Channel.EMAIL:
                email = _once(lambda: self._email_for(request, known, target.delivery_id))
                reference = await self._attempts(target, lambda: self._email.send_email(email()))
            else:
                sms = _once(lambda: self._sms_of(request, known, target.delivery_id))
                reference = await self._attempts(target, lambda: self._sms.send_sms(sms()))
        except PermanentDeliveryError as error:
            log.warning("%s failed: %s", target.delivery_id, error)
            return Delivery(DeliveryStatus.FAILED, sender.name, reason=str(error))
        return Delivery(DeliveryStatus.SENT, sender.name, reference)

    async def _attempts(self, target: Target, send: Callable[[], Awaitable[str]]) -> str:
        """Send, retrying transient errors with exponential backoff and jitter.

        Most sends succeed at once: only one that failed pays for tenacity's machinery (a tenth
        of the notifier's CPU when every send went through it).
        """
        try:
            return await self._attempt(target.channel, send)
        except RetryableDeliveryError as error:
            if self._retry.attempts < 2:
                raise
            _retrying(target, 1, error)
        initial = self._retry.initial_seconds
        await asyncio.sleep(min(initial + random.uniform(0, initial), self._retry.max_seconds))
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._retry.attempts - 1),
            wait=wait_exponential_jitter(
                multiplier=2 * initial, max=self._retry.max_seconds, jitter=initial
            ),
            retry=retry_if_exception_type(RetryableDeliveryError),
            before_sleep=lambda state: _retrying(
                target,
                state.attempt_number + 1,
                state.outcome.exception() if state.outcome else None,
            ),
            reraise=True,
        )
        return await retrying(self._attempt, target.channel, send)

    async def _attempt(self, channel: Channel, send: Callable[[], Awaitable[str]]) -> str:
        limiter = self._limits.get(channel)
        if limiter is not None:
            await limiter.acquire()  # the provider's rate, shared by every concurrent send
        try:
            async with self._in_flight:
                if self._stopping:
                    raise _NotStarted
                async with asyncio.timeout(self._retry.timeout_seconds):
                    return await send()
        except TimeoutError as error:
            raise RetryableDeliveryError(
                f"no answer within {self._retry.timeout_seconds:g} s"
            ) from error

    def _email_for(
        self, request: NotificationRequested, shop: Shop, delivery_id: str
    ) -> EmailMessage:
        """The email as the email provider takes it (without its parts if it reads the bytes)."""
        email = self._email_of(request, shop, delivery_id)
        return email if self._email.reads_html else email.as_raw()

    def _email_of(
        self, request: NotificationRequested, shop: Shop, delivery_id: str
    ) -> EmailMessage:
        rendered = self._renderer.email(request, shop)
        customer = request.data.customer
        assert customer.email is not None  # channels_for chose email only with an address
        # A reply reaches the shop's support, a human, unless the sender's address is that already.
        support = shop.contact.email
        return EmailMessage(
            delivery_id=delivery_id,
            sender=f"{shop.sender.name} <{shop.sender.email}>",
            to=f"{customer.first_name} {customer.last_name} <{customer.email}>",
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            label=_label(request),
            images=rendered.images,
            reply_to=(
                None
                if support.casefold() == shop.sender.email.casefold()
                else f"{shop.brand or shop.sender.name} <{support}>"
            ),
            list_unsubscribe=self._renderer.stop_url(request),
        )

    def _sms_of(self, request: NotificationRequested, shop: Shop, delivery_id: str) -> SmsMessage:
        customer = request.data.customer
        assert customer.phone is not None  # channels_for chose SMS only with a number
        try:
            phone = sms_number(customer.phone, customer.locale)
        except UnusableNumber as problem:
            raise PermanentDeliveryError(str(problem)) from None
        text = render_sms(self._renderer, request, shop)
        if text.segments > shop.messaging.sms_max_segments:
            raise PermanentDeliveryError(
                f"the text needs {text.segments} segments ({text.encoding}); "
                f"the shop allows {shop.messaging.sms_max_segments}"
            )
        return SmsMessage(
            delivery_id=delivery_id,
            sender=shop.sms_sender,
            to=phone,
            body=text.body,
            encoding=text.encoding,
            segments=text.segments,
            label=_label(request),
        )

    def _outcome(
        self, target: Target, delivery: Delivery, request: NotificationRequested | None
    ) -> Outcome:
        """The outcome event; it names the request and its cause when the request is at hand (a
        moot or erased text's, or a receipt's for a request not kept, is not)."""
        data = NotificationOutcomeData(
            notification_id=target.notification_id,
            request_id=None if request is None else request.id,
            cause_id=None if request is None else request.data.cause_id,
            channel=target.channel,
            provider=delivery.provider or "none",
            provider_message_id=delivery.provider_message_id,
            reason=delivery.reason,
        )
        return _OUTCOME_TYPES[delivery.status](
            id=str(uuid.uuid5(_NAMESPACE, f"{target.delivery_id}:{delivery.status.value}")),
            source=SOURCE,
            time=self._now(),
            subject=target.order_id,
            shopid=target.shop_id,
            data=data,
        )


def _retrying(target: Target, attempt: int, error: BaseException | None) -> None:
    """Count and log a transient failure about to be retried (the reason has no personal data)."""
    RETRIES.labels(target.channel.value).inc()
    log.info("%s attempt %d: %s", target.delivery_id, attempt, error)


def render_sms(renderer: Renderer, request: NotificationRequested, shop: Shop) -> SmsText:
    """The SMS as sent: rendered, without diacritics when the shop says so, and measured."""
    body = renderer.sms(request, shop)
    if shop.sms_diacritics is SmsDiacritics.TRANSLITERATE:
        body = transliterate(body)
    return measure(body)


def _joined(first: Ends, then: Ends) -> Ends:
    """Ends noted in two goes, as one (the moot, if any, still first)."""
    return Ends(
        first.finished + then.finished,
        first.deferred + then.deferred,
        first.released + then.released,
        first.moot or then.moot,
    )


def _told_again(handled: Handled, requests: Sequence[NotificationRequested]) -> Handled:
    """`handled`, with a request that came twice in the poll told twice, as if redelivered
    (it was sent once)."""
    told: dict[str, list[Outcome]] = {}
    for outcome in handled.outcomes:
        told.setdefault(outcome.data.notification_id, []).append(outcome)
    seen: set[str] = set()
    for request in requests:
        notification_id = request.data.notification_id
        if notification_id in seen:
            handled.outcomes += told.get(notification_id, [])
        seen.add(notification_id)
    return handled


def _moot_before_arrival(requests: list[NotificationRequested]) -> frozenset[str]:
    """The requests (ids) about an order on its way that a later request of the list says has
    arrived: a text of theirs that would wait for quiet hours to end is moot at once."""
    last_arrival = {
        (request.shopid, request.subject): n
        for n, request in enumerate(requests)
        if request.data.notice.kind in ARRIVAL_KINDS
    }
    return frozenset(
        request.id
        for n, request in enumerate(requests)
        if request.data.notice.kind in MOOT_ON_ARRIVAL
        and n < last_arrival.get((request.shopid, request.subject), -1)
    )


def _target(request: NotificationRequested, channel: Channel) -> Target:
    data = request.data
    return Target(data.notification_id, channel, request.shopid, request.subject, data.notice.kind)


_T = TypeVar("_T")


def _once(build: Callable[[], _T]) -> Callable[[], _T]:
    """`build`, run on the first call only: every attempt sends the same message. (Cheaper
    than `functools.cache`, whose wrapper cost a notification more than this.)"""
    built: list[_T] = []

    def get() -> _T:
        if not built:
            built.append(build())
        return built[0]

    return get


def _kept(request: NotificationRequested) -> Kept:
    customer = request.data.customer
    return Kept(request.model_dump_json(), customer.email, customer.phone)


def _receipt_reason(receipt: Receipt) -> str:
    detail = f" ({receipt.detail})" if receipt.detail else ""
    return f"{receipt.status.value}{detail}"


def _label(request: NotificationRequested) -> str:
    return f"{request.shopid}/{request.data.order_number}/{request.data.notice.kind}"
