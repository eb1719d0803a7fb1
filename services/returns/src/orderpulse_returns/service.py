"""The returns service's use cases: hear arrivals and return steps once, say what they cause.

Each event is decided from the order as saved, its notification requests are published, and only
then is the outcome saved. A crash in between decides the event again from the same state, so the
very same requests (same ids) go out again, and the notifier sends them once.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from pydantic import TypeAdapter

from orderpulse_returns.lifecycle import RECEIVED, Decision, received, remind, returned
from orderpulse_returns.shops import ReturnsPolicy
from orderpulse_returns.store import AlreadySeen, SqlReturnsStore
from orderpulse_schemas.notifications import NotificationRequested
from orderpulse_schemas.privacy import ErasureRequested
from orderpulse_schemas.returns import ReturnEvent
from orderpulse_schemas.status import OrderStatusChanged

log = logging.getLogger(__name__)

Publish = Callable[[NotificationRequested], Awaitable[None]]
"""Hands a request to Kafka and returns once Kafka has it."""
_RETURN_EVENT: TypeAdapter[ReturnEvent] = TypeAdapter(ReturnEvent)


class NoReturnsPolicy(Exception):
    """A return event for a shop that has no `returns` section in the shops file."""


class Returns:
    """Starts each order's withdrawal period and carries the customer through their return."""

    def __init__(
        self,
        store: SqlReturnsStore,
        *,
        policies: Mapping[str, ReturnsPolicy],
        publish: Publish,
        now: Callable[[], datetime],
    ) -> None:
        self._store, self._policies, self._publish, self._now = store, policies, publish, now
        # The consumer and the reminder loop take turns on an order (striped: bounded memory).
        self._locks = [asyncio.Lock() for _ in range(64)]

    async def on_status(self, event: OrderStatusChanged) -> None:
        """An order delivered or picked up gets its return instructions; other statuses pass."""
        policy = self._policies.get(event.shopid)
        if event.data.status not in RECEIVED or policy is None:
            return
        shop_id, order_id = event.shopid, event.subject
        async with self._turn(shop_id, order_id):
            if await self._store.load(shop_id, order_id) is not None:
                return  # heard already: the period runs from the first arrival we were told of
            decision = received(event, policy)
            for early in await self._store.waiting_events(shop_id, order_id):
                decision = decision.then(
                    returned(decision.order, _RETURN_EVENT.validate_python(early), policy)
                )
            await self._settle(decision, event.id)

    async def on_return(self, event: ReturnEvent) -> None:
        """Announce the return's step; before the order's arrival, keep it until then."""
        policy = self._policies.get(event.shopid)
        if policy is None:
            raise NoReturnsPolicy(
                f"shop {event.shopid} has no returns policy: "
                "no `returns` section for it in the shops file"
            )
        shop_id, order_id = event.shopid, event.subject
        async with self._turn(shop_id, order_id):
            if await self._store.seen(shop_id, event.id):
                return
            order = await self._store.load(shop_id, order_id)
            if order is None:
                log.info("return event %s waits for its order's arrival", event.id)
                await self._idempotently(
                    self._store.keep_waiting(
                        shop_id, order_id, event.id, event.model_dump(mode="json")
                    )
                )
                return
            await self._settle(returned(order, event, policy), event.id)

    async def remind_due(self) -> int:
        """Send every reminder that is due; how many orders were due."""
        now = self._now()
        due = await self._store.due_reminders(now)
        for shop_id, order_id in due:
            policy = self._policies.get(shop_id)
            async with self._turn(shop_id, order_id):
                order = await self._store.load(shop_id, order_id)
                if order is not None and policy is not None:
                    await self._settle(remind(order, now, policy))
        return len(due)

    async def erase(self, request: ErasureRequested) -> int:
        """Forget a customer's personal data; how many orders it touched."""
        data = request.data
        return await self._store.erase(request.shopid, data.email, data.phone, data.order_ids)

    async def _settle(self, decision: Decision, event_id: str | None = None) -> None:
        for notification in decision.requests:
            await self._publish(notification)
        await self._idempotently(self._store.save(decision.order, event_id))

    @staticmethod
    async def _idempotently(saving: Awaitable[None]) -> None:
        try:
            await saving
        except AlreadySeen:
            log.info("handled meanwhile by another worker; keeping its result")

    def _turn(self, shop_id: str, order_id: str) -> asyncio.Lock:
        return self._locks[hash((shop_id, order_id)) % len(self._locks)]
