"""What the returns service keeps: received orders, their returns' steps, and events that wait,
read and written per poll: `load` reads what the poll's orders and events need in one go,
`apply` writes every effect of the poll in one transaction.

Personal data lives only in `returns_orders.customer*`, and is erased on request.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_kit.database import among
from orderpulse_kit.erasure import (
    Arriving,
    customer_columns,
    email_key,
    erased_since_sent,
    erasure_columns,
    forget_customer,
    remember_erasure,
)
from orderpulse_kit.isolation import Transient
from orderpulse_returns.lifecycle import ReturnsOrder
from orderpulse_schemas.values import STORED

metadata = sa.MetaData()
"""The tables as the code expects them; `migrations/` creates and changes them."""

orders = sa.Table(
    "returns_orders",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("state", sa.JSON, nullable=False),  # the order without its customer
    *customer_columns(),
    sa.Column("remind_at", sa.DateTime(timezone=True), index=True),
    sa.Column("review_at", sa.DateTime(timezone=True), index=True),
)

seen_events = sa.Table(
    "returns_seen_events",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(200), primary_key=True),
)

waiting = sa.Table(
    "returns_waiting_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("shop_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(100), nullable=False),
    sa.Column("event", sa.JSON, nullable=False),
    sa.Index("ix_returns_waiting_order", "shop_id", "order_id"),
)
"""Return events heard before the order's arrival: without it there is no one to tell yet."""

erasures = sa.Table("returns_erasures", metadata, *erasure_columns())
"""The suppression list: hashes of whom erasures named, so their data arriving late is not kept."""

OrderKey = tuple[str, str]
"""(shop id, order id)"""
EventKey = tuple[str, str]
"""(shop id, event id)"""


class ConcurrentUpdate(Transient):
    """Another worker handled one of the poll's events, or received one of its orders,
    meanwhile: nothing was written; load and decide again (its effects stand)."""


@dataclass(frozen=True)
class Loaded:
    """What a poll needs: its orders as saved, which of its events were handled before, and the
    return events waiting for its orders (row id, event), oldest first."""

    orders: dict[OrderKey, ReturnsOrder] = field(default_factory=dict)
    seen: set[EventKey] = field(default_factory=set)
    waiting: dict[OrderKey, list[tuple[int, Any]]] = field(default_factory=dict)
    erased: set[EventKey] = field(default_factory=set)
    """The poll's events whose customer was erased after they were sent."""


@dataclass
class Effects:
    """Everything one poll changes, written together."""

    seen: list[EventKey] = field(default_factory=list)
    received: list[ReturnsOrder] = field(default_factory=list)
    """Orders new to the store."""
    changed: list[ReturnsOrder] = field(default_factory=list)
    """Orders saved before, in their new state."""
    kept: list[tuple[OrderKey, Any]] = field(default_factory=list)
    """Return events to keep until their order arrives."""
    consumed: list[int] = field(default_factory=list)
    """Waiting events (row ids) their order's arrival has taken in."""


class SqlReturnsStore:
    """Orders and events, in a database the returns service owns (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(
        self,
        keys: Collection[OrderKey],
        events: Collection[EventKey],
        arriving: Mapping[EventKey, Arriving] | None = None,
    ) -> Loaded:
        """The orders `keys` as saved with what waits for them, which of `events` were seen, and
        which of the customers `arriving` with events were erased since."""
        loaded = Loaded()
        async with self._engine.connect() as conn:
            loaded.erased.update(await erased_since_sent(conn, erasures, arriving or {}))
            if events:
                rows = await conn.execute(
                    sa.select(seen_events).where(
                        among(conn, seen_events.c.shop_id, seen_events.c.event_id, events)
                    )
                )
                loaded.seen.update({(row.shop_id, row.event_id) for row in rows} & set(events))
            if keys:
                keys = set(keys)
                for row in await conn.execute(sa.select(orders).where(_among(conn, orders, keys))):
                    if (row.shop_id, row.order_id) in keys:
                        loaded.orders[(row.shop_id, row.order_id)] = _order(row)
                for row in await conn.execute(
                    sa.select(waiting).where(_among(conn, waiting, keys)).order_by(waiting.c.id)
                ):
                    if (row.shop_id, row.order_id) in keys:
                        loaded.waiting.setdefault((row.shop_id, row.order_id), []).append(
                            (row.id, row.event)
                        )
        return loaded

    async def apply(self, effects: Effects) -> None:
        """Write `effects` in one transaction, one statement per kind of effect.

        `ConcurrentUpdate` (nothing written) when another worker handled one of the events or
        received one of the orders meanwhile: the primary keys refuse the second insert.
        """
        try:
            async with self._engine.begin() as conn:
                if effects.seen:
                    await conn.execute(
                        seen_events.insert(),
                        [{"shop_id": s, "event_id": e} for s, e in effects.seen],
                    )
                if effects.received:
                    await conn.execute(orders.insert(), [_row(o) for o in effects.received])
                if effects.changed:
                    await conn.execute(_UPDATE, [_row(o, key="k_") for o in effects.changed])
                if effects.consumed:
                    await conn.execute(waiting.delete().where(waiting.c.id.in_(effects.consumed)))
                if effects.kept:
                    await conn.execute(
                        waiting.insert(),
                        [{"shop_id": s, "order_id": o, "event": e} for (s, o), e in effects.kept],
                    )
        except IntegrityError as error:
            raise ConcurrentUpdate(str(error.orig)) from error

    async def due_reminders(self, now: datetime) -> list[OrderKey]:
        """Orders whose reminder or review request is due, earliest first."""
        due: dict[OrderKey, datetime] = {}
        async with self._engine.connect() as conn:
            for column in (orders.c.remind_at, orders.c.review_at):
                rows = await conn.execute(
                    sa.select(orders.c.shop_id, orders.c.order_id, column.label("at")).where(
                        column <= _utc(now)
                    )
                )
                for row in rows:
                    key, at = (row.shop_id, row.order_id), _aware(row.at)
                    due[key] = min(at, due.get(key, at))
        return sorted(due, key=due.__getitem__)

    async def erase(
        self,
        shop_id: str,
        email: str | None,
        phone: str | None,
        order_ids: list[str],
        erased_at: datetime,
    ) -> int:
        """Forget a customer on the matching orders (and what waits for them), and suppress what
        was sent before `erased_at` and is still on its way; how many orders."""
        async with self._engine.begin() as conn:
            await remember_erasure(conn, erasures, shop_id, email, phone, order_ids, erased_at)
            found = await forget_customer(
                conn, orders, shop_id, email, phone, order_ids, remind_at=None, review_at=None
            )
            gone = waiting.delete().where(
                waiting.c.shop_id == shop_id, waiting.c.order_id.in_([*found, *order_ids])
            )
            await conn.execute(gone)
        return len(found)


_STATE_COLUMNS = (
    "state",
    "customer",
    "customer_email",
    "customer_phone",
    "remind_at",
    "review_at",
)
_UPDATE = (
    orders.update()
    .where(orders.c.shop_id == sa.bindparam("k_shop_id"))
    .where(orders.c.order_id == sa.bindparam("k_order_id"))
    .values({c: sa.bindparam(c, type_=orders.c[c].type) for c in _STATE_COLUMNS})
)
"""Every changed order in one executemany: its key as `k_*` (SET takes the plain names)."""


def _among(
    conn: AsyncConnection, table: sa.Table, keys: Iterable[OrderKey]
) -> sa.ColumnElement[bool]:
    return among(conn, table.c.shop_id, table.c.order_id, keys)


def _order(row: Any) -> ReturnsOrder:
    remind_at = row.remind_at and _aware(row.remind_at)
    review_at = row.review_at and _aware(row.review_at)
    return ReturnsOrder.model_validate(
        {**row.state, "customer": row.customer, "remind_at": remind_at, "review_at": review_at},
        context={STORED: True},
    )


def _row(order: ReturnsOrder, key: str = "") -> dict[str, Any]:
    customer = order.customer
    return {
        f"{key}shop_id": order.shop_id,
        f"{key}order_id": order.order_id,
        "state": order.model_dump(mode="json", exclude={"customer", "remind_at", "review_at"}),
        "customer": customer.model_dump(mode="json") if customer else None,
        "customer_email": email_key(customer.email) if customer else None,
        "customer_phone": customer.phone if customer else None,
        "remind_at": order.remind_at and _utc(order.remind_at),
        "review_at": order.review_at and _utc(order.review_at),
    }


def _utc(moment: datetime) -> datetime:
    """Times are compared in UTC: SQLite keeps no offset."""
    return moment.astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
