"""The tracker's use case: record what an event changes, then say what must be published."""

from typing import Protocol

from orderpulse_schemas.orders import OrderEvent
from orderpulse_status_tracker.lifecycle import Decision, Topics, TrackedOrder, decide
from orderpulse_status_tracker.messages import Outgoing


class TrackerStore(Protocol):
    """Persistence the tracker needs (see `store.SqlTrackerStore`)."""

    async def outgoing_of(self, shop_id: str, event_id: str) -> list[Outgoing] | None: ...
    async def order(self, shop_id: str, order_id: str) -> TrackedOrder | None: ...
    async def record(self, shop_id: str, event_id: str, decision: Decision) -> bool: ...


class Tracker:
    """Applies order events exactly once and returns the messages they cause."""

    def __init__(self, store: TrackerStore, topics: Topics) -> None:
        self._store = store
        self._topics = topics

    async def handle(self, event: OrderEvent) -> list[Outgoing]:
        """Messages to publish for `event`; the same ones again when it is redelivered."""
        done = await self._store.outgoing_of(event.shopid, event.id)
        if done is not None:
            return done
        decision = decide(await self._store.order(event.shopid, event.subject), event, self._topics)
        if await self._store.record(event.shopid, event.id, decision):
            return decision.outgoing
        return await self._store.outgoing_of(event.shopid, event.id) or []
