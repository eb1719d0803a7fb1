"""The tracker's use cases: apply facts exactly once, publish what they cause, fire due timers."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping

from pydantic import TypeAdapter

from orderpulse_schemas.orders import OrderAccepted
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_status_tracker.clock import Clock
from orderpulse_status_tracker.facts import EventFact, Fact, TimerFired
from orderpulse_status_tracker.lifecycle import Decision, decide
from orderpulse_status_tracker.messages import Outgoing, Topics
from orderpulse_status_tracker.policy import ShopPolicy
from orderpulse_status_tracker.store import Change, ConcurrentUpdate, SqlTrackerStore
from orderpulse_status_tracker.timers import timers_for

log = logging.getLogger(__name__)

Publish = Callable[[Outgoing], Awaitable[Awaitable[object]]]
"""Hands a message to the producer; the awaitable it returns completes when Kafka has it."""
_EARLY: TypeAdapter[Fact] = TypeAdapter(EventFact)
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
        clock: Clock,
    ) -> None:
        self._store, self._topics, self._policies = store, topics, policies
        self._publish, self._clock = publish, clock
        self._locks = [asyncio.Lock() for _ in range(64)]

    async def handle(self, fact: Fact) -> None:
        """Apply `fact` once (a redelivery changes nothing), then publish what it caused."""
        shop_id, order_id = _order_of(fact)
        async with self._turn(shop_id, order_id):
            await self._apply_until_settled(shop_id, order_id, fact)
            await self._flush(shop_id, order_id)

    async def _apply_until_settled(self, shop_id: str, order_id: str, fact: Fact) -> None:
        for _ in range(_ATTEMPTS):
            try:
                await self._apply(shop_id, order_id, fact)
                break
            except ConcurrentUpdate:
                log.info("order %s/%s changed meanwhile; deciding again", shop_id, order_id)
        else:
            raise ConcurrentUpdate(f"{shop_id}/{order_id} kept changing")

    async def fire_due_timers(self) -> int:
        """Handle every timer due now; how many fired."""
        due = await self._store.due_timers(self._clock.now())
        for timer in due:
            await self.handle(timer)
        return len(due)

    async def flush_all(self) -> None:
        """Publish what a crash left in the outbox."""
        for shop_id, order_id in await self._store.orders_with_outbox():
            async with self._turn(shop_id, order_id):
                await self._flush(shop_id, order_id)

    def _turn(self, shop_id: str, order_id: str) -> asyncio.Lock:
        """The consumer, the timer loop and the start-up flush take turns on an order.

        Striped locks keep memory bounded; Kafka keeps other processes off the same order, and
        order versions catch what gets through (another replica's timer loop).
        """
        return self._locks[hash((shop_id, order_id)) % len(self._locks)]

    async def _flush(self, shop_id: str, order_id: str) -> None:
        """Publish the order's outbox in order, then forget it."""
        waiting = await self._store.outbox_of(shop_id, order_id)
        # Handed to the producer one by one, so one order's messages stay in order (same key,
        # same partition, idempotent producer); their acknowledgements are awaited together.
        acknowledgements = [await self._publish(message) for _, message in waiting]
        await asyncio.gather(*acknowledgements)
        if waiting:
            await self._store.published([row_id for row_id, _ in waiting])

    async def erase(self, request: ErasureRequested) -> int:
        """Forget a customer's personal data; how many orders it touched."""
        data = request.data
        return await self._store.erase(request.shopid, data.email, data.phone, data.order_ids)

    async def _apply(self, shop_id: str, order_id: str, fact: Fact) -> None:
        loaded = await self._store.load_unless_processed(shop_id, order_id, fact.id)
        if loaded is None:
            return  # a redelivery: its effects are saved, its messages flushed below
        order, version = loaded
        if order is None and not isinstance(fact, OrderAccepted):
            assert not isinstance(fact, TimerFired)  # timers exist only for known orders
            await self._store.keep_early(shop_id, order_id, version, fact.model_dump(mode="json"))
            return
        policy = self._policies.get(shop_id, ShopPolicy())
        decision = decide(order, fact, policy, self._topics)
        consumed = []
        if order is None:  # the order arrived: apply what came before it
            for row_id, early in await self._store.early_facts(shop_id, order_id):
                decision = _then(
                    decision,
                    decide(decision.order, _EARLY.validate_python(early), policy, self._topics),
                )
                consumed.append(row_id)
        assert decision.order is not None
        await self._store.save(
            Change(
                shop_id=shop_id,
                order_id=order_id,
                event_id=fact.id,
                version=version,
                order=decision.order,
                outgoing=decision.outgoing,
                timers=timers_for(decision.order, policy),
                consumed=consumed,
            )
        )


def _then(first: Decision, second: Decision) -> Decision:
    return Decision(second.order, first.outgoing + second.outgoing)


def _order_of(fact: Fact) -> tuple[str, str]:
    if isinstance(fact, TimerFired):
        return fact.shop_id, fact.order_id
    return fact.shopid, fact.subject
