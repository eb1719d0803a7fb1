"""Polls a carrier that does not push (Packeta) about the parcels due, a round at a time.

A round takes the parcels due (one read, leased), asks the carrier about each (concurrently; the
carrier client keeps to its rate limit), hears every answer at once as a webhook is heard (one
publish, one save), and writes when to ask again (one write). A round cut short (a crash, a
shutdown) leaves its parcels leased: they are asked about again when the lease ends, and what
was published already is not published twice (its events have the same ids, and the parcel
remembers what it published).
"""

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import SecretStr

from orderpulse_couriers import metrics
from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.poll_queue import PollQueue
from orderpulse_couriers.polling import CarrierRefused, CarrierUnavailable, Schedule
from orderpulse_couriers.reports import Report
from orderpulse_couriers.service import Couriers

log = logging.getLogger(__name__)


class Tracking(Protocol):
    """A carrier's tracking API: what it says about one parcel, with one shop's credentials."""

    async def track(self, tracking_number: str, password: str) -> list[Report]:
        """Every status of the parcel; `CarrierUnavailable` or `CarrierRefused` when none."""
        ...


class Poller:
    """Asks `carrier` about the due parcels of the shops it has credentials for."""

    def __init__(
        self,
        carrier: str,
        tracking: Tracking,
        passwords: Mapping[str, SecretStr],
        *,
        queue: PollQueue,
        couriers: Couriers,
        schedule: Schedule,
        now: Callable[[], datetime],
        round_size: int = 100,
        lease: timedelta = timedelta(minutes=10),
    ) -> None:
        self._carrier, self._tracking, self._passwords = carrier, tracking, passwords
        self._queue, self._couriers, self._schedule, self._now = queue, couriers, schedule, now
        self._round_size, self._lease = round_size, lease

    async def poll_due(self) -> int:
        """One round: ask about the parcels due, publish what is new, schedule the next polls.
        Returns how many parcels were asked about."""
        now = self._now()
        due = await self._queue.due(
            self._carrier,
            list(self._passwords),
            now,
            limit=self._round_size,
            lease=now + self._lease,
        )
        if not due:
            return 0
        refused: Counter[tuple[str, str]] = Counter()
        unavailable: Counter[str] = Counter()

        async def ask(parcel: Followed) -> list[Report]:
            password = self._passwords[parcel.shop_id].get_secret_value()
            try:
                return await self._tracking.track(parcel.tracking_number, password)
            except CarrierRefused as error:
                refused[(parcel.shop_id, error.fault)] += 1
            except CarrierUnavailable as error:
                unavailable[str(error)] += 1
            return []

        answers = await asyncio.gather(*(ask(d.parcel) for d in due))
        heard = await self._couriers.hear([report for got in answers for report in got])
        asked = self._now()
        await self._queue.reschedule(
            [self._schedule.next(d, heard.news.get(d.parcel.key), asked) for d in due]
        )
        self._count(len(due), refused, unavailable)
        return len(due)

    def _count(
        self, asked: int, refused: Counter[tuple[str, str]], unavailable: Counter[str]
    ) -> None:
        """Metrics of a round, and one log line per kind of failure (not one per parcel)."""
        failed = sum(refused.values()) + sum(unavailable.values())
        metrics.POLLS.labels(self._carrier, "answered").inc(asked - failed)
        metrics.POLLS.labels(self._carrier, "refused").inc(sum(refused.values()))
        metrics.POLLS.labels(self._carrier, "unavailable").inc(sum(unavailable.values()))
        for (shop, fault), count in refused.items():
            log.warning(
                "%s refused %d poll(s) of shop %s's parcels: %s",
                self._carrier,
                count,
                shop,
                fault,
            )
        for reason, count in unavailable.items():
            log.warning(
                "%s did not answer %d poll(s): %s; asking again later",
                self._carrier,
                count,
                reason,
            )
