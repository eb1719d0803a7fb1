"""What the couriers service keeps, behind a port: the parcels it follows and the pickup points
orders chose. The consumer reads a poll's parcels and points in one go (`load`) and writes the
poll's effects in one transaction (`apply`); a webhook saves what it published (`save`), guarded
by each parcel's revision so that two webhooks of one parcel never lose each other's statuses.
Old parcels and points are forgotten (`forget`). When to poll a parcel is `poll_queue`'s.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_couriers.parcels import Followed
from orderpulse_couriers.reports import Milestone
from orderpulse_couriers.tables import parcels, points
from orderpulse_kit.database import among, dialect_insert
from orderpulse_kit.isolation import Transient
from orderpulse_schemas.values import PickupPoint

ParcelKey = tuple[str, str]
"""(carrier, tracking number)"""
OrderKey = tuple[str, str]
"""(shop id, order id)"""


class ConcurrentUpdate(Transient):
    """Another worker followed one of the parcels, or saved what it heard, meanwhile: nothing was
    written; load and decide again."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A followed parcel as saved, with the revision its save must still find."""

    parcel: Followed
    revision: int = 0


@dataclass(frozen=True)
class Loaded:
    """The parcels and the orders' pickup points a poll or a webhook needs."""

    parcels: dict[ParcelKey, Stored] = field(default_factory=dict)
    points: dict[OrderKey, PickupPoint] = field(default_factory=dict)


@dataclass
class Effects:
    """Everything one poll changes, written together."""

    followed: list[Followed] = field(default_factory=list)
    """Parcels new to the store."""
    retracked: list[tuple[ParcelKey, str]] = field(default_factory=list)
    """Followed parcels with a new tracking page."""
    points: list[tuple[OrderKey, PickupPoint]] = field(default_factory=list)
    """Orders' pickup points: kept, and given to the order's parcels followed already."""


class ParcelStore(Protocol):
    """Where the followed parcels are kept."""

    async def load(self, keys: Collection[ParcelKey], orders: Collection[OrderKey] = ()) -> Loaded:
        """The parcels `keys` as saved and the pickup points of `orders`."""
        ...

    async def apply(self, effects: Effects, now: datetime) -> None:
        """Write a poll's effects in one transaction (`ConcurrentUpdate`: nothing written); a
        new parcel is followed from `now`, and due to be polled from then."""

    async def forget(self, before: datetime) -> tuple[int, int]:
        """Delete the parcels followed and the points kept `before`; how many of each."""
        ...

    async def save(self, heard: Sequence[Stored]) -> None:
        """Save what was published of each parcel, in one transaction; `ConcurrentUpdate`
        (nothing written) when one was saved since it was loaded at its revision."""


class SqlParcelStore:
    """Parcels and points in a database the couriers service owns (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(self, keys: Collection[ParcelKey], orders: Collection[OrderKey] = ()) -> Loaded:
        """The parcels `keys` as saved and the pickup points of `orders`."""
        loaded = Loaded()
        async with self._engine.connect() as conn:
            if keys:
                wanted = set(keys)
                where = among(conn, parcels.c.carrier, parcels.c.tracking_number, wanted)
                for row in await conn.execute(sa.select(parcels).where(where)):
                    if (row.carrier, row.tracking_number) in wanted:
                        loaded.parcels[(row.carrier, row.tracking_number)] = stored_of(row)
            if orders:
                asked = set(orders)
                where = among(conn, points.c.shop_id, points.c.order_id, asked)
                for row in await conn.execute(sa.select(points).where(where)):
                    if (row.shop_id, row.order_id) in asked:
                        loaded.points[(row.shop_id, row.order_id)] = _point(row.point)
        return loaded

    async def apply(self, effects: Effects, now: datetime) -> None:
        """Write `effects` in one transaction: new parcels first, so that a point heard in the
        same poll reaches them too."""
        try:
            async with self._engine.begin() as conn:
                if effects.followed:
                    rows = [_row(p, now.astimezone(UTC)) for p in effects.followed]
                    await conn.execute(parcels.insert(), rows)
                if effects.retracked:
                    await conn.execute(
                        _RETRACK,
                        [
                            {"k_carrier": c, "k_tracking_number": t, "tracking_url": url}
                            for (c, t), url in effects.retracked
                        ],
                    )
                if effects.points:
                    chosen = {key: point.model_dump(mode="json") for key, point in effects.points}
                    insert = dialect_insert(conn, points)
                    await conn.execute(
                        insert.on_conflict_do_update(
                            index_elements=[points.c.shop_id, points.c.order_id],
                            set_={
                                "point": insert.excluded.point,
                                "kept_at": insert.excluded.kept_at,
                            },
                        ),
                        [
                            {
                                "shop_id": s,
                                "order_id": o,
                                "point": p,
                                "kept_at": now.astimezone(UTC),
                            }
                            for (s, o), p in chosen.items()
                        ],
                    )
                    await conn.execute(
                        _REPOINT,
                        [
                            {"k_shop_id": s, "k_order_id": o, "point": p}
                            for (s, o), p in chosen.items()
                        ],
                    )
        except IntegrityError as error:
            raise ConcurrentUpdate(str(error.orig)) from error

    async def forget(self, before: datetime) -> tuple[int, int]:
        """Delete the parcels followed and the points kept `before`, in one transaction."""
        cutoff = before.astimezone(UTC)
        async with self._engine.begin() as conn:
            gone = await conn.execute(parcels.delete().where(parcels.c.followed_at < cutoff))
            dropped = await conn.execute(points.delete().where(points.c.kept_at < cutoff))
        return gone.rowcount, dropped.rowcount

    async def save(self, heard: Sequence[Stored]) -> None:
        """Save what was published of each parcel, each only at the revision it was loaded at."""
        async with self._engine.begin() as conn:
            for stored in heard:
                parcel = stored.parcel
                result = await conn.execute(
                    parcels.update()
                    .where(
                        parcels.c.carrier == parcel.carrier,
                        parcels.c.tracking_number == parcel.tracking_number,
                        parcels.c.revision == stored.revision,
                    )
                    .values(
                        heard=sorted(parcel.heard),
                        last=parcel.last and parcel.last.value,
                        last_time=parcel.last_time and parcel.last_time.astimezone(UTC),
                        revision=stored.revision + 1,
                    )
                )
                if result.rowcount != 1:
                    raise ConcurrentUpdate(f"{parcel.carrier} parcel saved meanwhile")


_RETRACK = (
    parcels.update()
    .where(parcels.c.carrier == sa.bindparam("k_carrier"))
    .where(parcels.c.tracking_number == sa.bindparam("k_tracking_number"))
    .values(tracking_url=sa.bindparam("tracking_url"))
)
_REPOINT = (
    parcels.update()
    .where(parcels.c.shop_id == sa.bindparam("k_shop_id"))
    .where(parcels.c.order_id == sa.bindparam("k_order_id"))
    .values(point=sa.bindparam("point", type_=parcels.c.point.type))
)
"""Every changed row in one executemany: its key as `k_*` (SET takes the plain names)."""


def _row(parcel: Followed, now: datetime) -> dict[str, Any]:
    return {
        "carrier": parcel.carrier,
        "tracking_number": parcel.tracking_number,
        "shop_id": parcel.shop_id,
        "order_id": parcel.order_id,
        "tracking_url": parcel.tracking_url,
        "point": parcel.point and parcel.point.model_dump(mode="json"),
        "heard": sorted(parcel.heard),
        "last": parcel.last and parcel.last.value,
        "last_time": parcel.last_time and parcel.last_time.astimezone(UTC),
        "revision": 0,
        "followed_at": now,
        "next_poll_at": now,  # the first poll at once: a status may already be there
    }


def utc(moment: datetime) -> datetime:
    """A time read back: SQLite keeps no offset, and everything is written in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def stored_of(row: Any) -> Stored:
    """A parcels row as the parcel it saves."""
    last_time: datetime | None = row.last_time and utc(row.last_time)
    parcel = Followed(
        shop_id=row.shop_id,
        order_id=row.order_id,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        tracking_url=row.tracking_url,
        point=row.point and _point(row.point),
        last=row.last and Milestone(row.last),
        last_time=last_time,
        heard=frozenset(row.heard),
    )
    return Stored(parcel, row.revision)


def _point(value: Any) -> PickupPoint:
    return PickupPoint.model_validate(value)
