"""The returns service's use cases, per poll: hear arrivals and return steps once, say what they
cause, remind before the window closes, forget customers.

A poll is one read of its orders, pure decisions in the order the events came, its notification
requests handed to Kafka with their acknowledgements awaited together, and only THEN one write
transaction with every effect. There is no outbox: a crash between publishing and writing decides
the same events again from the same state, so the very same requests (same ids) go out again, and
the notifier sends each once. Writing first would lose the requests of a crash in between.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from datetime import datetime

from orderpulse_kit.batch import Received, Record
from orderpulse_kit.dead_letters import unknown_shop
from orderpulse_kit.erasure import Arriving
from orderpulse_returns.lifecycle import RECEIVED
from orderpulse_returns.poll import (
    Decided,
    Step,
    customer_of,
    decide_poll,
    decide_reminders,
    order_of,
)
from orderpulse_returns.shops import ReturnsPolicy
from orderpulse_returns.store import ConcurrentUpdate, EventKey, Loaded, OrderKey, SqlReturnsStore
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.returns import (
    ReturnLabelIssued,
    ReturnReceived,
    ReturnRefunded,
    ReturnRejected,
    ReturnRequested,
)
from orderpulse_schemas.status import OrderStatusChanged

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[NotificationRequested]], Awaitable[None]]
"""Produces the requests in order; returns once Kafka has them all."""
DeadLetter = Callable[[Record, str], Awaitable[None]]
"""Copies a record to its topic's dead-letter topic, with the reason."""
ReturnsInput = (
    OrderStatusChanged
    | ReturnRequested
    | ReturnLabelIssued
    | ReturnReceived
    | ReturnRefunded
    | ReturnRejected
    | ErasureRequested
)
_ATTEMPTS = 5
_REMINDERS_PER_POLL = 500


class NoReturnsPolicy(Exception):
    """A return event for a shop that has no `returns` section in the shops file."""


class Returns:
    """Starts each order's withdrawal period and carries the customer through their return."""

    def __init__(
        self,
        store: SqlReturnsStore,
        *,
        shops: Collection[str],
        policies: Mapping[str, ReturnsPolicy],
        publish: Publish,
        dead_letter: DeadLetter,
        now: Callable[[], datetime],
    ) -> None:
        """`shops` are every shop of the shops file, `policies` those that take returns."""
        self._store, self._shops, self._policies, self._now = store, shops, policies, now
        self._publish, self._dead_letter = publish, dead_letter
        # The consumer and the reminder loop take turns; Kafka keeps other processes off the
        # same order, and the primary keys catch what gets through (another replica's reminders).
        self._turn = asyncio.Lock()

    async def handle(self, received: Sequence[Received[ReturnsInput]]) -> None:
        """Hear a poll's arrivals and return steps once; an erasure request applies in its place.

        A return of a shop without a returns policy is dead-lettered, to replay once it has one;
        so is an arrival or a return step of a shop not in the shops file.
        """
        steps: list[Received[Step]] = []
        for item in received:
            event = item.event
            if isinstance(event, ErasureRequested):
                await self._hear(steps)
                steps = []
                erased = await self.erase(event)
                log.info(
                    "erasure request processed", extra={"event_id": event.id, "orders": erased}
                )
            else:
                steps.append(Received(item.record, event))
        await self._hear(steps)

    async def remind_due(self) -> int:
        """Send every reminder that is due; how many orders were due."""
        now = self._now()
        due = await self._store.due_reminders(now)
        for start in range(0, len(due), _REMINDERS_PER_POLL):
            keys = due[start : start + _REMINDERS_PER_POLL]
            await self._settle(
                keys, (), lambda loaded: decide_reminders(loaded, now, self._policies)
            )
        return len(due)

    async def erase(self, request: ErasureRequested) -> int:
        """Forget a customer's personal data, and what of it is still on its way; how many
        orders it touched."""
        data = request.data
        erased_at = max(request.time, self._now())
        async with self._turn:
            return await self._store.erase(
                request.shopid, data.email, data.phone, data.order_ids, erased_at
            )

    async def _hear(self, items: Sequence[Received[Step]]) -> None:
        events: list[Step] = []
        dead: list[tuple[Record, str]] = []
        for item in items:
            event = item.event
            if event.shopid not in self._shops:
                dead.append((item.record, unknown_shop(event.shopid)))
            elif isinstance(event, OrderStatusChanged):
                # Only an arrival starts a return period; the other changes (most of the
                # topic) are not worth a load: `decide_poll` would pass them.
                if event.data.status in RECEIVED and event.shopid in self._policies:
                    events.append(event)
            elif event.shopid in self._policies:
                events.append(event)
            else:
                dead.append((item.record, str(_no_policy(event.shopid))))
        await asyncio.gather(*(self._dead_letter(record, why) for record, why in dead))
        if events:
            keys = {order_of(event) for event in events}
            ids = {(event.shopid, event.id) for event in events}
            arriving = {
                (event.shopid, event.id): customer
                for event in events
                if (customer := customer_of(event)) is not None
            }
            await self._settle(
                keys, ids, lambda loaded: decide_poll(loaded, events, self._policies), arriving
            )

    async def _settle(
        self,
        keys: Collection[OrderKey],
        events: Collection[EventKey],
        decide: Callable[[Loaded], Decided],
        arriving: Mapping[EventKey, Arriving] | None = None,
    ) -> None:
        """Load, decide, publish, then write; again from a fresh load when another worker wrote
        one of the same events or orders meanwhile.

        Deciding again, not giving up: the other worker's events are then seen and its orders
        loaded, so they are skipped, while the rest of the poll still takes effect. Requests
        published in a lost attempt go out again with the same ids, and the notifier sends each
        once.
        """
        async with self._turn:
            for _ in range(_ATTEMPTS):
                decided = decide(await self._store.load(keys, events, arriving))
                await self._publish(decided.requests)
                try:
                    await self._store.apply(decided.effects)
                    return
                except ConcurrentUpdate as error:
                    log.info("handled meanwhile by another worker (%s); deciding again", error)
            raise ConcurrentUpdate(f"{len(keys)} order(s) kept changing")


def _no_policy(shop_id: str) -> NoReturnsPolicy:
    return NoReturnsPolicy(
        f"shop {shop_id} has no returns policy: no `returns` section for it in the shops file"
    )
