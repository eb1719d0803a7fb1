"""The tracker's use cases, per poll: apply facts exactly once, publish what they cause, fire due
timers, forget customers.

A poll is one read of its orders, pure decisions, one write transaction with every effect (the
outbox included), then its messages produced from memory with their acknowledgements awaited
together, and the outbox rows forgotten. A crash anywhere loses nothing: before the write,
Kafka redelivers the poll; after it, the start-up flush publishes what the outbox still holds.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from orderpulse_kit.batch import Received, Record
from orderpulse_kit.dead_letters import unknown_shop
from orderpulse_kit.isolation import unhandled
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_status_tracker.clock import Clock
from orderpulse_status_tracker.facts import EventFacts, Fact, Outcome
from orderpulse_status_tracker.messages import Outgoing, Topics
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.poll import customer_of, decide_poll, order_of
from orderpulse_status_tracker.store import ConcurrentUpdate, SqlTrackerStore

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[Outgoing]], Awaitable[None]]
"""Produces messages in order; returns once Kafka has them all."""
DeadLetter = Callable[[Record, str], Awaitable[None]]
"""Copies a record to its topic's dead-letter topic, with the reason."""
SetAside = Callable[[EventFacts, str], Awaitable[None]]
"""Dead-letters a fact kept after its record was committed, with the reason."""
TrackerEvent = EventFacts | ErasureRequested | Outcome
_ATTEMPTS = 5


class Tracker:
    """Keeps every order's lifecycle and says what the customer must hear."""

    def __init__(
        self,
        store: SqlTrackerStore,
        *,
        topics: Topics,
        policies: Mapping[str, ShopPolicy],
        publish: Publish,
        dead_letter: DeadLetter,
        set_aside: SetAside,
        clock: Clock,
    ) -> None:
        """`policies` has every shop of the shops file: a fact of another shop is dead-lettered."""
        self._store, self._topics, self._policies = store, topics, policies
        self._publish, self._dead_letter, self._clock = publish, dead_letter, clock
        self._set_aside = set_aside
        # The consumer, the timer loop and the start-up flush take turns; Kafka keeps other
        # processes off the same order, and order versions catch what gets through (another
        # replica's timer loop).
        self._turn = asyncio.Lock()
        self._outbox_left = False
        """A publish failed: the outbox holds messages that a redelivery will not decide again."""

    async def handle(self, received: Sequence[Received[TrackerEvent]]) -> None:
        """Apply a poll's facts and outcomes once; an erasure request applies in its place.

        A fact of a shop not in the shops file is dead-lettered, to replay once it is there:
        nobody could be told of it (the notifier would fail every message of it).
        """
        facts: list[Fact] = []
        heard: list[Outcome] = []
        unknown = [
            (item.record, item.event.shopid)
            for item in received
            if isinstance(item.event, EventFacts) and item.event.shopid not in self._policies
        ]
        await asyncio.gather(
            *(self._dead_letter(record, unknown_shop(shop)) for record, shop in unknown)
        )
        for item in received:
            event = item.event
            if isinstance(event, ErasureRequested):
                await self._apply(facts, heard)
                facts, heard = [], []
                erased = await self.erase(event)
                log.info(
                    "erasure request processed", extra={"event_id": event.id, "orders": erased}
                )
            elif isinstance(event, Outcome):
                heard.append(event)
            elif event.shopid in self._policies:
                facts.append(event)
        await self._apply(facts, heard)

    async def fire_due_timers(self) -> int:
        """Handle every timer due now; how many fired."""
        due = await self._store.due_timers(self._clock.now())
        await self._apply(list(due), [])
        return len(due)

    async def flush_all(self) -> None:
        """Publish what a crash left in the outbox."""
        async with self._turn:
            await self._flush()

    async def _flush(self) -> None:
        waiting = await self._store.outbox()
        await self._publish_in_order([m for _, m in waiting], [row for row, _ in waiting])

    async def erase(self, request: ErasureRequested) -> int:
        """Forget a customer's personal data, and what of it is still on its way; how many
        orders it touched."""
        data = request.data
        erased_at = max(request.time, self._clock.now())
        async with self._turn:
            return await self._store.erase(
                request.shopid, data.email, data.phone, data.order_ids, erased_at
            )

    async def _apply(self, facts: list[Fact], heard: list[Outcome]) -> None:
        if not facts and not heard:
            return
        keys = {order_of(fact) for fact in facts}
        events = {(order_of(fact)[0], fact.id) for fact in facts}
        arriving = {
            (fact.shopid, fact.id): customer_of(fact)
            for fact in facts
            if isinstance(fact, OrderAccepted)
        }
        async with self._turn:
            if self._outbox_left:
                await self._flush()
            for _ in range(_ATTEMPTS):
                loaded = await self._store.load(keys, events, arriving)
                aside: list[tuple[EventFacts, Exception]] = []
                effects = decide_poll(loaded, facts, heard, self._policies, self._topics, aside)
                # Before the write that forgets them: a crash in between sets them aside again.
                await asyncio.gather(*(self._set_aside(f, unhandled(e)) for f, e in aside))
                try:
                    rows = await self._store.apply(effects)
                    break
                except ConcurrentUpdate as error:
                    log.info("orders changed meanwhile (%s); deciding again", error)
            else:
                raise ConcurrentUpdate(f"{len(keys)} order(s) kept changing")
            await self._publish_in_order(effects.outgoing, rows)

    async def _publish_in_order(self, messages: list[Outgoing], rows: list[int]) -> None:
        """Produce the messages, then forget their outbox rows.

        One order's messages stay in order: same key, same partition, idempotent producer.
        """
        self._outbox_left = True
        await self._publish(messages)
        await self._store.published(rows)
        self._outbox_left = False
