"""Which parcels a polled carrier is to be asked about, behind a port: the poller takes the
parcels due (`due`, leased so that another replica skips them) and writes when to ask again
(`reschedule`). The schedule is three columns of the parcel, the poller's alone: it changes no
revision, so a webhook's save and a poll never hold each other up.
"""

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers.polling import Due, Next
from orderpulse_couriers.store import stored_of, utc
from orderpulse_couriers.tables import parcels


class PollQueue(Protocol):
    """When each followed parcel is to be polled."""

    async def due(
        self, carrier: str, shops: Collection[str], now: datetime, *, limit: int, lease: datetime
    ) -> list[Due]:
        """Up to `limit` of `carrier`'s parcels of `shops` due by `now`, most overdue first,
        each due again at `lease` (a poll that never finishes is retried then)."""
        ...

    async def reschedule(self, schedule: Sequence[Next]) -> None:
        """When to poll each parcel next, in one transaction."""


class SqlPollQueue:
    """The schedule in the couriers service's database (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def due(
        self, carrier: str, shops: Collection[str], now: datetime, *, limit: int, lease: datetime
    ) -> list[Due]:
        """Up to `limit` of `carrier`'s parcels of `shops` due by `now`, leased until `lease`;
        on PostgreSQL rows another replica is taking are skipped, not waited for."""
        if not shops:
            return []
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    sa.select(parcels)
                    .where(
                        parcels.c.carrier == carrier,
                        parcels.c.shop_id.in_(shops),
                        parcels.c.next_poll_at <= now.astimezone(UTC),
                    )
                    .order_by(parcels.c.next_poll_at)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if rows:
                await conn.execute(
                    _LEASE,
                    [
                        {
                            "k_carrier": row.carrier,
                            "k_tracking_number": row.tracking_number,
                            "next_poll_at": lease.astimezone(UTC),
                        }
                        for row in rows
                    ],
                )
        return [
            Due(stored_of(row).parcel, row.unchanged_polls, utc(row.followed_at)) for row in rows
        ]

    async def reschedule(self, schedule: Sequence[Next]) -> None:
        """When to poll each parcel next, in one transaction."""
        if not schedule:
            return
        async with self._engine.begin() as conn:
            await conn.execute(
                _RESCHEDULE,
                [
                    {
                        "k_carrier": item.key[0],
                        "k_tracking_number": item.key[1],
                        "next_poll_at": item.poll_at and item.poll_at.astimezone(UTC),
                        "unchanged_polls": item.unchanged_polls,
                    }
                    for item in schedule
                ],
            )


_LEASE = (
    parcels.update()
    .where(parcels.c.carrier == sa.bindparam("k_carrier"))
    .where(parcels.c.tracking_number == sa.bindparam("k_tracking_number"))
    .values(next_poll_at=sa.bindparam("next_poll_at"))
)
_RESCHEDULE = _LEASE.values(unchanged_polls=sa.bindparam("unchanged_polls"))
"""Every row in one executemany: its key as `k_*` (SET takes the plain names)."""
