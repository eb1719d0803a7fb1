"""The couriers service's use cases: follow the parcels shops dispatch (per poll), and publish
what the carriers report about them (per webhook).

Reports are decided from the parcels as loaded, their events handed to Kafka with the
acknowledgements awaited, and only THEN what was published is saved. There is no outbox: a crash
between publishing and saving decides the same reports again from the same state, so the very
same events (their ids derive from the status) go out again and consumers drop the repeat.
Saving first would lose the events of a crash in between.
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from orderpulse_couriers import metrics
from orderpulse_couriers.following import follow, ours, parcel_of, point_of
from orderpulse_couriers.parcels import Followed, Skip, decide
from orderpulse_couriers.reports import Report
from orderpulse_couriers.store import ConcurrentUpdate, ParcelKey, ParcelStore, Stored
from orderpulse_kit.batch import Received
from orderpulse_schemas.envelope import CloudEvent
from orderpulse_schemas.orders import OrderAccepted, OrderEvents
from orderpulse_schemas.shipments import ShipmentDispatched, ShipmentEvents

log = logging.getLogger(__name__)

Publish = Callable[[Sequence[CloudEvent]], Awaitable[None]]
"""Produces the events in order, keyed by order id; returns once Kafka has them all."""
CouriersInput = OrderEvents | ShipmentEvents
_ATTEMPTS = 5
_TOLD = frozenset({Skip.INCOMPLETE, Skip.INVALID, Skip.OUT_OF_ORDER})
"""Skips worth a log line: a carrier said something the service could not pass on."""


@dataclass(frozen=True, slots=True)
class Heard:
    """What one delivery of reports (a webhook, a round of polls) came to."""

    published: int = 0
    unfollowed: int = 0
    """Reports about parcels not followed."""
    news: Mapping[ParcelKey, Followed] = field(default_factory=dict)
    """The parcels something was published about, as saved."""


class Couriers:
    """Follows dispatched parcels and turns their carriers' reports into `shipments.v1` events."""

    def __init__(
        self, store: ParcelStore, *, publish: Publish, now: Callable[[], datetime]
    ) -> None:
        self._store, self._publish, self._now = store, publish, now
        # One webhook of a parcel at a time here; revisions catch other replicas.
        self._turn = asyncio.Lock()

    async def handle(self, received: Sequence[Received[CouriersInput]]) -> None:
        """Follow the parcels a poll dispatches and keep the pickup points its orders chose:
        one read, one write transaction (again from a fresh read if another worker wrote the
        same parcels meanwhile)."""
        events = [item.event for item in received if not ours(item.event)]
        dispatched = [e for e in events if isinstance(e, ShipmentDispatched)]
        keys = {key for e in dispatched if (key := parcel_of(e)) is not None}
        orders = {(e.shopid, e.subject) for e in dispatched if parcel_of(e) is not None}
        if not keys and not any(
            isinstance(e, OrderAccepted) and point_of(e) is not None for e in events
        ):
            return
        for _ in range(_ATTEMPTS):
            effects = follow(await self._store.load(keys, orders), events)
            try:
                await self._store.apply(effects, self._now())
                return
            except ConcurrentUpdate as error:
                log.info("followed meanwhile by another worker (%s); deciding again", error)
        raise ConcurrentUpdate(f"{len(keys)} parcel(s) kept changing")

    async def forget_old(self, keep: timedelta) -> None:
        """Forget the parcels followed and the points kept longer than `keep` ago: a parcel's
        story is over long before (a status replayed after it is counted as unfollowed and
        publishes nothing), and the tables would grow with every parcel ever sent."""
        parcels, points = await self._store.forget(self._now() - keep)
        if parcels or points:
            log.info("forgot %d parcel(s) and %d pickup point(s)", parcels, points)

    async def hear(self, reports: Sequence[Report]) -> Heard:
        """Publish what `reports` (of one carrier's webhook) say about followed parcels, then save
        it; unknown codes and unfollowed parcels are counted."""
        for report in reports:
            if report.milestone is None:
                metrics.UNKNOWN_CODES.labels(report.carrier).inc()
                log.warning("unknown %s status code %.60r", report.carrier, report.code)
        by_parcel: dict[ParcelKey, list[Report]] = {}
        for report in reports:
            by_parcel.setdefault((report.carrier, report.tracking_number), []).append(report)
        async with self._turn:
            for _ in range(_ATTEMPTS):
                loaded = await self._store.load(by_parcel)
                news = await self._publish_and_save(loaded.parcels, by_parcel)
                if news is not None:
                    break
            else:
                raise ConcurrentUpdate(f"{len(by_parcel)} parcel(s) kept changing")
        unfollowed = Counter(
            key[0] for key, found in by_parcel.items() for _ in found if key not in loaded.parcels
        )
        for carrier, count in unfollowed.items():
            metrics.UNFOLLOWED.labels(carrier).inc(count)
        published, saved = news
        return Heard(published, sum(unfollowed.values()), {p.key: p for p in saved})

    async def _publish_and_save(
        self, parcels: dict[ParcelKey, Stored], by_parcel: dict[ParcelKey, list[Report]]
    ) -> tuple[int, list[Followed]] | None:
        """How many events were published, and the parcels saved with them; None when a parcel
        was saved meanwhile."""
        now = self._now()
        events: list[CloudEvent] = []
        changed: list[Stored] = []
        for key, found in by_parcel.items():
            stored = parcels.get(key)
            if stored is None:
                continue
            decision = decide(stored.parcel, found, now)
            for skipped in decision.skipped:
                if skipped.reason in _TOLD:
                    log.info(
                        "%s status %.60r published nothing: %s %s",
                        key[0],
                        skipped.report.code,
                        skipped.reason.value,
                        ", ".join(skipped.fields),
                    )
            if decision.events:
                events += decision.events
                changed.append(Stored(decision.parcel, stored.revision))
        if not changed:
            return 0, []
        await self._publish(events)
        try:
            await self._store.save(changed)
        except ConcurrentUpdate as error:
            log.info("a parcel was saved meanwhile (%s); deciding again", error)
            return None
        return len(events), [stored.parcel for stored in changed]
