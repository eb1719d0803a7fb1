"""The tracker's state in SQL (SQLite by default, PostgreSQL in production).

An event's effects are saved in one transaction: the order's new state, the event's id (so a
redelivery changes nothing), the order's timers and the messages to publish (a transactional
outbox, emptied once they are on Kafka). Orders carry a version: two writers of one order (a
consumer and another replica's timer loop) cannot overwrite each other.
"""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_status_tracker.facts import TimerFired, TimerKind
from orderpulse_status_tracker.messages import Outgoing
from orderpulse_status_tracker.state import TrackedOrder
from orderpulse_status_tracker.tables import (
    history,
    notifications,
    orders,
    outbox,
    pending,
    processed,
    timers,
)

_STATE = TypeAdapter(TrackedOrder)


class ConcurrentUpdate(Exception):
    """The order changed since it was loaded: load it again and redo the decision."""


@dataclass(frozen=True)
class Change:
    """Everything one fact changes, saved together."""

    shop_id: str
    order_id: str
    event_id: str
    version: int
    order: TrackedOrder
    outgoing: list[Outgoing]
    timers: dict[TimerKind, datetime]
    consumed: list[int] = field(default_factory=list)
    """Ids of kept early facts applied by this change."""


class SqlTrackerStore:
    """Orders, processed events, early facts, timers and the outbox, in one database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def load_unless_processed(
        self, shop_id: str, order_id: str, event_id: str
    ) -> tuple[TrackedOrder | None, int] | None:
        """The order and its version, or None when this event's effects are saved already."""
        async with self._engine.connect() as conn:
            if await _processed(conn, shop_id, event_id):
                return None
            return await _load(conn, shop_id, order_id)

    async def early_facts(self, shop_id: str, order_id: str) -> list[tuple[int, dict[str, Any]]]:
        """Facts that came before the order itself, oldest first, with their ids."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(pending.c.id, pending.c.event)
                .where(*_is(pending, shop_id, order_id))
                .order_by(pending.c.id)
            )
        return [(row.id, row.event) for row in rows]

    async def keep_early(
        self, shop_id: str, order_id: str, version: int, event: dict[str, Any]
    ) -> None:
        """Keep a fact about an order not seen yet; it is applied when the order arrives.

        The order's row is created (or its version bumped) even before the order is known, so a
        replica saving the order meanwhile and this fact cannot both succeed unseen by the other.
        """
        async with self._engine.begin() as conn:
            if not await _claim(conn, shop_id, event["id"]):
                return  # kept already
            await _bump(conn, shop_id, order_id, version, {"version": version + 1})
            await conn.execute(
                pending.insert().values(shop_id=shop_id, order_id=order_id, event=event)
            )

    async def save(self, change: Change) -> bool:
        """Save a change atomically; False when its event was saved before."""
        async with self._engine.begin() as conn:
            if not await _claim(conn, change.shop_id, change.event_id):
                return False
            await _write_order(conn, change)
            await _write_effects(conn, change)
        return True

    async def outbox_of(self, shop_id: str, order_id: str) -> list[tuple[int, Outgoing]]:
        """Messages of an order not yet published, in the order they were decided."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                sa.select(outbox.c.id, outbox.c.topic, outbox.c.message)
                .where(*_is(outbox, shop_id, order_id))
                .order_by(outbox.c.id)
            )
        return [(row.id, Outgoing(row.topic, order_id, row.message)) for row in rows]

    async def orders_with_outbox(self) -> list[tuple[str, str]]:
        """Orders with messages still to publish (after a crash)."""
        async with self._engine.connect() as conn:
            rows = await conn.execute(sa.select(outbox.c.shop_id, outbox.c.order_id).distinct())
        return [(row.shop_id, row.order_id) for row in rows]

    async def published(self, ids: list[int]) -> None:
        """Forget messages that are safely on Kafka."""
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
        self, shop_id: str, email: str | None, phone: str | None, order_ids: list[str]
    ) -> int:
        """Remove the customer's personal data from matching orders; how many orders matched."""
        match = sa.or_(
            orders.c.order_id.in_(order_ids),
            sa.and_(sa.literal(email is not None), orders.c.customer_email == email),
            sa.and_(sa.literal(phone is not None), orders.c.customer_phone == phone),
        )
        async with self._engine.begin() as conn:
            found = [
                row.order_id
                for row in await conn.execute(
                    sa.select(orders.c.order_id).where(orders.c.shop_id == shop_id, match)
                )
            ]
            if found:
                where = (orders.c.shop_id == shop_id, orders.c.order_id.in_(found))
                await conn.execute(
                    orders.update()
                    .where(*where)
                    .values(customer=None, customer_email=None, customer_phone=None)
                )
                await conn.execute(
                    outbox.delete().where(outbox.c.shop_id == shop_id, outbox.c.order_id.in_(found))
                )
                await conn.execute(
                    timers.delete().where(timers.c.shop_id == shop_id, timers.c.order_id.in_(found))
                )
        return len(found)


async def _processed(conn: AsyncConnection, shop_id: str, event_id: str) -> bool:
    found = await conn.scalar(
        sa.select(sa.literal(1)).where(
            processed.c.shop_id == shop_id, processed.c.event_id == event_id
        )
    )
    return found is not None


async def _load(
    conn: AsyncConnection, shop_id: str, order_id: str
) -> tuple[TrackedOrder | None, int]:
    row = (await conn.execute(sa.select(orders).where(*_is(orders, shop_id, order_id)))).first()
    if row is None:
        return None, 0
    if row.state is None:
        return None, row.version  # facts came before the order
    order = _STATE.validate_python({**row.state, "customer": row.customer})
    return order, row.version


def _is(table: sa.Table, shop_id: str, order_id: str) -> tuple[sa.ColumnElement[bool], ...]:
    return table.c.shop_id == shop_id, table.c.order_id == order_id


def _aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes; every stored time is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def utc(moment: datetime | str) -> datetime:
    """Times are stored in UTC: SQLite keeps no offset, and comparisons must agree."""
    parsed = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return parsed.astimezone(UTC)


async def _claim(conn: AsyncConnection, shop_id: str, event_id: str) -> bool:
    """Record the event as processed; False when it was already."""
    try:
        async with conn.begin_nested():
            await conn.execute(processed.insert().values(shop_id=shop_id, event_id=event_id))
    except IntegrityError:
        return False
    return True


async def _write_order(conn: AsyncConnection, change: Change) -> None:
    customer = change.order.customer
    await _bump(
        conn,
        change.shop_id,
        change.order_id,
        change.version,
        {
            "version": change.version + 1,
            "state": _STATE.dump_python(replace(change.order, customer=None), mode="json"),
            "customer": customer.model_dump(mode="json") if customer else None,
            "customer_email": customer.email if customer else None,
            "customer_phone": customer.phone if customer else None,
        },
    )


async def _bump(
    conn: AsyncConnection, shop_id: str, order_id: str, version: int, values: dict[str, Any]
) -> None:
    """Write the order's row if it is still at `version` (0: absent), else ConcurrentUpdate."""
    if version == 0:
        try:
            async with conn.begin_nested():
                await conn.execute(
                    orders.insert().values(shop_id=shop_id, order_id=order_id, **values)
                )
        except IntegrityError as error:  # another writer created the row meanwhile
            raise ConcurrentUpdate(f"{shop_id}/{order_id}") from error
        return
    updated = await conn.execute(
        orders.update()
        .where(*_is(orders, shop_id, order_id), orders.c.version == version)
        .values(**values)
    )
    if updated.rowcount != 1:
        raise ConcurrentUpdate(f"{shop_id}/{order_id}")


async def _write_effects(conn: AsyncConnection, change: Change) -> None:
    key = {"shop_id": change.shop_id, "order_id": change.order_id}
    await conn.execute(timers.delete().where(*_is(timers, change.shop_id, change.order_id)))
    if change.timers:
        await conn.execute(
            timers.insert(),
            [{**key, "kind": k, "due_at": utc(due)} for k, due in change.timers.items()],
        )
    if change.consumed:
        await conn.execute(pending.delete().where(pending.c.id.in_(change.consumed)))
    for message in change.outgoing:
        await conn.execute(
            outbox.insert().values(**key, topic=message.topic, message=message.value)
        )
        data = message.value["data"]
        if message.value["type"] == "order.status_changed":
            await conn.execute(
                history.insert().values(
                    **key,
                    status=data["status"],
                    at=utc(message.value["time"]),
                    cause_id=data["cause_id"],
                )
            )
        else:
            await conn.execute(
                notifications.insert().values(
                    **key,
                    notification_id=data["notification_id"],
                    kind=data["notice"]["kind"],
                    requested_at=utc(message.value["time"]),
                )
            )
