"""The tracker's state in SQL (SQLite by default, PostgreSQL in production), read and written
per poll: `load` reads what the poll's orders and events need in one go, `apply` writes every
effect of the poll in one transaction.

A poll's effects are the orders' new states, the events' ids (so a redelivery changes nothing),
timers where they changed, facts kept until their order arrives, and the messages to publish (a
transactional outbox, forgotten once they are on Kafka). Orders carry a version: two writers of
one order (a consumer and another replica's timer loop) cannot overwrite each other; the loser's
whole transaction rolls back and it decides again.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_kit.database import among, dialect_insert
from orderpulse_kit.erasure import (
    Arriving,
    email_key,
    erased_since_sent,
    forget_customer,
    remember_erasure,
)
from orderpulse_kit.isolation import Transient
from orderpulse_schemas.values import STORED
from orderpulse_status_tracker.facts import Outcome, TimerFired, TimerKind
from orderpulse_status_tracker.messages import Outgoing
from orderpulse_status_tracker.state import TrackedOrder
from orderpulse_status_tracker.tables import (
    erasures,
    history,
    notifications,
    orders,
    outbox,
    outcomes,
    pending,
    processed,
    timers,
)

_STATE = TypeAdapter(TrackedOrder)
OrderKey = tuple[str, str]
"""(shop id, order id)"""


class ConcurrentUpdate(Transient):
    """An order changed since it was loaded: load the poll again and redo the decisions."""


@dataclass
class Stored:
    """One order as saved: its state (None: only early facts so far), version, timers, and the
    facts that came before it (row id, event), oldest first."""

    order: TrackedOrder | None = None
    version: int = 0
    timers: dict[TimerKind, datetime] = field(default_factory=dict)
    early: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


@dataclass(frozen=True)
class Loaded:
    """What a poll needs: its orders as saved, and which of its events were processed before."""

    orders: dict[OrderKey, Stored]
    processed: set[tuple[str, str]]
    """(shop id, event id)"""
    erased: set[tuple[str, str]] = field(default_factory=set)
    """(shop id, event id) of the poll's events whose customer was erased after they were sent."""


@dataclass
class Effects:
    """Everything one poll changes, written together."""

    processed: list[tuple[str, str]] = field(default_factory=list)
    orders: dict[OrderKey, tuple[int, TrackedOrder | None]] = field(default_factory=dict)
    """The new state of each changed order, with the version it was loaded at."""
    timers_set: dict[tuple[str, str, TimerKind], datetime] = field(default_factory=dict)
    timers_dropped: list[tuple[str, str, TimerKind]] = field(default_factory=list)
    kept_early: list[tuple[OrderKey, dict[str, Any]]] = field(default_factory=list)
    consumed_early: list[int] = field(default_factory=list)
    outgoing: list[Outgoing] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)


class SqlTrackerStore:
    """Orders, processed events, early facts, timers, outcomes and the outbox, in one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load(
        self,
        keys: Collection[OrderKey],
        events: Collection[tuple[str, str]],
        arriving: Mapping[tuple[str, str], Arriving] | None = None,
    ) -> Loaded:
        """The orders `keys` as saved, which of `events` (shop id, event id) were processed, and
        which of the customers `arriving` with events were erased since."""
        found: dict[OrderKey, Stored] = {}
        keys, events = set(keys), set(events)
        async with self._engine.connect() as conn:
            done = await _processed(conn, events)
            erased = await erased_since_sent(conn, erasures, arriving or {})
            if keys:
                for row in await conn.execute(sa.select(orders).where(_among(conn, orders, keys))):
                    if (row.shop_id, row.order_id) not in keys:
                        continue
                    order = None
                    if row.state is not None:
                        order = _STATE.validate_python(
                            {**row.state, "customer": row.customer}, context={STORED: True}
                        )
                    found[(row.shop_id, row.order_id)] = Stored(order, row.version)
                for row in await conn.execute(sa.select(timers).where(_among(conn, timers, keys))):
                    if stored := found.get((row.shop_id, row.order_id)):
                        stored.timers[row.kind] = _aware(row.due_at)
                for row in await conn.execute(
                    sa.select(pending).where(_among(conn, pending, keys)).order_by(pending.c.id)
                ):
                    if stored := found.get((row.shop_id, row.order_id)):
                        stored.early.append((row.id, row.event))
        return Loaded(found, done, erased)

    async def apply(self, effects: Effects) -> list[int]:
        """Write `effects` in one transaction; the ids of the outbox rows of `effects.outgoing`.

        `ConcurrentUpdate` (nothing written) when another writer changed one of the orders or
        processed one of the events meanwhile.
        """
        try:
            async with self._engine.begin() as conn:
                if effects.processed:
                    await conn.execute(
                        processed.insert(),
                        [{"shop_id": s, "event_id": e} for s, e in effects.processed],
                    )
                await _write_orders(conn, effects.orders)
                await _write_timers(conn, effects)
                if effects.consumed_early:
                    await conn.execute(
                        pending.delete().where(pending.c.id.in_(effects.consumed_early))
                    )
                if effects.kept_early:
                    await conn.execute(
                        pending.insert(),
                        [
                            {"shop_id": s, "order_id": o, "event": e}
                            for (s, o), e in effects.kept_early
                        ],
                    )
                await _write_outcomes(conn, effects.outcomes)
                return await _write_outgoing(conn, effects.outgoing)
        except IntegrityError as error:  # an event processed by another writer meanwhile
            raise ConcurrentUpdate(str(error.orig)) from error

    async def outbox(self) -> list[tuple[int, Outgoing]]:
        """Messages not yet published (after a crash), in the order they were decided."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(
                    outbox.c.id, outbox.c.order_id, outbox.c.topic, outbox.c.message
                ).order_by(outbox.c.id)
            )
        return [(row.id, Outgoing(row.topic, row.order_id, row.message)) for row in rows]

    async def published(self, ids: Sequence[int]) -> None:
        """Forget messages that are safely on Kafka."""
        if ids:
            async with self._engine.begin() as conn:
                await conn.execute(outbox.delete().where(outbox.c.id.in_(ids)))

    async def due_timers(self, now: datetime, limit: int = 500) -> list[TimerFired]:
        """Timers due at `now`, earliest first."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(timers)
                .where(timers.c.due_at <= utc(now))
                .order_by(timers.c.due_at)
                .limit(limit)
            )
        return [TimerFired(r.shop_id, r.order_id, r.kind, _aware(r.due_at)) for r in rows]

    async def erase(
        self,
        shop_id: str,
        email: str | None,
        phone: str | None,
        order_ids: list[str],
        erased_at: datetime,
    ) -> int:
        """Remove the customer's personal data from matching orders, and suppress what was sent
        before `erased_at` and is still on its way; how many orders matched."""
        async with self._engine.begin() as conn:
            await remember_erasure(conn, erasures, shop_id, email, phone, order_ids, erased_at)
            found = await forget_customer(conn, orders, shop_id, email, phone, order_ids)
            if found:
                await conn.execute(
                    outbox.delete().where(outbox.c.shop_id == shop_id, outbox.c.order_id.in_(found))
                )
                await conn.execute(
                    timers.delete().where(timers.c.shop_id == shop_id, timers.c.order_id.in_(found))
                )
        return len(found)


def _among(
    conn: AsyncConnection, table: sa.Table, keys: Collection[OrderKey]
) -> sa.ColumnElement[bool]:
    return among(conn, table.c.shop_id, table.c.order_id, keys)


async def _processed(
    conn: AsyncConnection, events: Collection[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Which of `events` (shop id, event id) were processed before."""
    if not events:
        return set()
    rows = await conn.execute(
        sa.select(processed.c.shop_id, processed.c.event_id).where(
            among(conn, processed.c.shop_id, processed.c.event_id, events)
        )
    )
    return {(row.shop_id, row.event_id) for row in rows} & set(events)


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime | str) -> datetime:
    """Times are stored in UTC: SQLite keeps no offset, and comparisons must agree."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed.astimezone(UTC)


async def _write_orders(
    conn: AsyncConnection, changed: dict[OrderKey, tuple[int, TrackedOrder | None]]
) -> None:
    """Insert or update every changed order in one statement, each only if still at its version.

    An order another writer created or changed meanwhile is left alone and not returned: then
    the whole transaction rolls back with `ConcurrentUpdate`.
    """
    if not changed:
        return
    rows = []
    for (shop_id, order_id), (version, order) in changed.items():
        customer = order.customer if order else None
        rows.append(
            {
                "shop_id": shop_id,
                "order_id": order_id,
                "version": version + 1,
                "state": _STATE.dump_python(replace(order, customer=None), mode="json")
                if order
                else None,
                "customer": customer.model_dump(mode="json") if customer else None,
                "customer_email": email_key(customer.email) if customer else None,
                "customer_phone": customer.phone if customer else None,
            }
        )
    insert = dialect_insert(conn, orders)
    new = insert.excluded
    upsert = insert.on_conflict_do_update(
        index_elements=[orders.c.shop_id, orders.c.order_id],
        set_={
            c: new[c] for c in ("version", "state", "customer", "customer_email", "customer_phone")
        },
        where=orders.c.version == new.version - 1,
    ).returning(orders.c.order_id)
    written = (await conn.execute(upsert, rows)).all()
    if len(written) != len(rows):
        raise ConcurrentUpdate(f"{len(rows) - len(written)} order(s) changed meanwhile")


async def _write_timers(conn: AsyncConnection, effects: Effects) -> None:
    if effects.timers_dropped:
        await conn.execute(
            timers.delete().where(
                timers.c.shop_id == sa.bindparam("s"),
                timers.c.order_id == sa.bindparam("o"),
                timers.c.kind == sa.bindparam("k"),
            ),
            [{"s": s, "o": o, "k": k} for s, o, k in effects.timers_dropped],
        )
    if effects.timers_set:
        insert = dialect_insert(conn, timers)
        await conn.execute(
            insert.on_conflict_do_update(
                index_elements=[timers.c.shop_id, timers.c.order_id, timers.c.kind],
                set_={"due_at": insert.excluded.due_at},
            ),
            [
                {"shop_id": s, "order_id": o, "kind": k, "due_at": utc(due)}
                for (s, o, k), due in effects.timers_set.items()
            ],
        )


async def _write_early(conn: AsyncConnection, effects: Effects) -> None:
    """Facts kept until their order arrives, and those its arrival took in."""
    if effects.consumed_early:
        await conn.execute(pending.delete().where(pending.c.id.in_(effects.consumed_early)))
    if effects.kept_early:
        await conn.execute(
            pending.insert(),
            [{"shop_id": s, "order_id": o, "event": e} for (s, o), e in effects.kept_early],
        )


async def _write_outcomes(conn: AsyncConnection, heard: list[Outcome]) -> None:
    """Remember sent, failed and delivered outcomes, each once (a redelivery adds nothing)."""
    if heard:
        await conn.execute(
            dialect_insert(conn, outcomes).on_conflict_do_nothing(),
            [
                {
                    "notification_id": o.data.notification_id,
                    "channel": o.data.channel.value,
                    "outcome": o.type,
                    "provider": o.data.provider,
                    "reason": o.data.reason,
                    "at": utc(o.time),
                }
                for o in heard
            ],
        )


async def _write_outgoing(conn: AsyncConnection, outgoing: list[Outgoing]) -> list[int]:
    """The outbox rows (their ids), the status history and the requests' index."""
    if not outgoing:
        return []
    rows = await conn.execute(
        outbox.insert().returning(outbox.c.id),  # in any order: they are only forgotten by id
        [
            {"shop_id": m.value["shopid"], "order_id": m.key, "topic": m.topic, "message": m.value}
            for m in outgoing
        ],
    )
    ids = [row.id for row in rows]
    changes, requests = [], []
    for m in outgoing:
        data, key = m.value["data"], {"shop_id": m.value["shopid"], "order_id": m.key}
        at = utc(m.value["time"])
        if m.value["type"] == "order.status_changed":
            changes.append(
                {**key, "status": data["status"], "at": at, "cause_id": data["cause_id"]}
            )
        else:
            requests.append(
                {
                    **key,
                    "notification_id": data["notification_id"],
                    "kind": data["notice"]["kind"],
                    "requested_at": at,
                }
            )
    if changes:
        await conn.execute(history.insert(), changes)
    if requests:
        await conn.execute(notifications.insert(), requests)
    return ids
