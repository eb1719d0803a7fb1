"""Delivery state in SQL: claimed before sending, finished after, deferred rows kept durably.

A claim names its owner, a notifier process that says every few seconds that it is alive
(`notifier_owners`): a process that dies mid-send leaves its rows pending, and as soon as it has
been silent for the owner timeout, whoever reads those requests again takes them over, sending
again only what was under way at the death. A claim is also a lease, for claims without a live
owner to vouch for them. Two live workers never send the same delivery.
Requests (personal data) are kept only while needed: deferred, or awaiting an SMS receipt that
may call for the email fallback. A kept request's customer email and phone sit beside it, so an
erasure finds it without reading every request; they go whenever the request goes.
"""

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from orderpulse_kit.database import among, dialect_insert
from orderpulse_kit.erasure import (
    Arriving,
    email_key,
    erased_since_sent,
    erasure_columns,
    remember_erasure,
)
from orderpulse_notifier.ports import (
    ERASED_REASON,
    Claimant,
    Delivery,
    DeliveryStatus,
    Due,
    Ends,
    Erased,
    Kept,
    Moot,
    Receipted,
    Target,
)
from orderpulse_schemas.outcomes import Channel

metadata = sa.MetaData()
"""The tables as the code expects them; `migrations/` creates and changes them."""

deliveries = sa.Table(
    "notifier_deliveries",
    metadata,
    sa.Column("delivery_id", sa.String(220), primary_key=True),
    sa.Column("notification_id", sa.String(200), nullable=False),
    sa.Column("channel", sa.String(8), nullable=False),
    sa.Column("shop_id", sa.String(100), nullable=False),
    sa.Column("order_id", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(32)),
    sa.Column("provider_message_id", sa.String(300)),
    sa.Column("reason", sa.String(1000)),
    sa.Column("lease_until", sa.DateTime(timezone=True)),
    sa.Column("due_at", sa.DateTime(timezone=True)),
    sa.Column("request", sa.Text),  # personal data, with the two columns below
    sa.Column("customer_email", sa.String(320)),
    sa.Column("customer_phone", sa.String(20)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("owner", sa.String(64)),  # the process that claimed it (`owners`)
    sa.Index("notifier_deliveries_order", "shop_id", "order_id"),
    sa.Index("notifier_deliveries_receipt", "provider", "provider_message_id"),
    sa.Index("notifier_deliveries_due", "status", "due_at"),
    sa.Index("notifier_deliveries_email", "shop_id", "customer_email"),
    sa.Index("notifier_deliveries_phone", "shop_id", "customer_phone"),
)

owners = sa.Table(
    "notifier_owners",
    metadata,
    sa.Column("owner", sa.String(64), primary_key=True),
    sa.Column("alive_until", sa.DateTime(timezone=True), nullable=False),
)
erasures = sa.Table("notifier_erasures", metadata, *erasure_columns())
"""The suppression list: hashes of whom erasures named, so requests sent before are not sent."""

FORGET_OWNERS_AFTER = timedelta(days=1)
"""An owner silent this long is forgotten (its claims are long taken over)."""

_FORGOTTEN: dict[str, str | None] = {
    "request": None,
    "customer_email": None,
    "customer_phone": None,
}
"""What forgetting a request clears."""
_UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value)
_ENDED = (
    "status",
    "provider",
    "provider_message_id",
    "reason",
    "lease_until",
    "due_at",
    "request",
    "customer_email",
    "customer_phone",
    "updated_at",
)
"""What finishing or deferring a delivery writes."""


class SqlDeliveryStore:
    """Deliveries in a database the notifier owns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim_all(
        self,
        targets: Sequence[Target],
        now: datetime,
        lease_until: datetime,
        by: Claimant,
        customers: Mapping[str, Arriving] | None = None,
    ) -> list[Delivery | None]:
        """For each target: None when `by` now holds it and must send it; else how it stands
        (`pending` while another live claimant's lease on it runs, `failed` when its customer
        was erased after the request was sent: `customers`, by notification id).

        One transaction: `by` said alive, the suppression list read, new deliveries inserted
        (an erased customer's as failed), claims whose lease ran out or whose owner fell silent
        taken over, the rest read.
        """
        if not targets:
            return []
        ids = {target.delivery_id for target in targets}
        async with self._engine.begin() as conn:
            await _say_alive(conn, by)
            erased = await erased_since_sent(conn, erasures, customers or {})
            suppressed = {t.delivery_id for t in targets if t.notification_id in erased}
            inserted = set(
                await conn.scalars(
                    dialect_insert(conn, deliveries)
                    .on_conflict_do_nothing()
                    .returning(deliveries.c.delivery_id),
                    # In one order everywhere: two workers claiming the same rows (a rebalance)
                    # wait for each other instead of deadlocking.
                    [
                        _claimed_row(target, now, lease_until, by.owner)
                        | (_ERASED_ROW if target.delivery_id in suppressed else {})
                        for target in sorted(set(targets), key=lambda target: target.delivery_id)
                    ],
                )
            )
            held = inserted - suppressed
            if others := sorted(ids - held - suppressed):
                owner_alive = sa.exists().where(
                    owners.c.owner == deliveries.c.owner, owners.c.alive_until > _utc(now)
                )
                held.update(
                    await conn.scalars(
                        deliveries.update()
                        .where(
                            deliveries.c.delivery_id.in_(others),
                            deliveries.c.status == DeliveryStatus.PENDING.value,
                            sa.or_(
                                deliveries.c.lease_until <= _utc(now),
                                sa.and_(deliveries.c.owner.is_not(None), ~owner_alive),
                            ),
                        )
                        .values(lease_until=_utc(lease_until), owner=by.owner, updated_at=_utc(now))
                        .returning(deliveries.c.delivery_id)
                    )
                )
            standing = sorted(ids - held)
            rows: Sequence[sa.Row[Any]] = []
            if standing:
                read = sa.select(deliveries).where(deliveries.c.delivery_id.in_(standing))
                rows = (await conn.execute(read)).all()
            recorded = {row.delivery_id: _delivery(row) for row in rows}
        return [recorded.get(target.delivery_id) for target in targets]

    async def keep_alive(self, claimant: Claimant, now: datetime) -> None:
        """Say that `claimant` is alive; forget owners silent for `FORGET_OWNERS_AFTER`."""
        async with self._engine.begin() as conn:
            await _say_alive(conn, claimant)
            silent = owners.c.alive_until < _utc(now - FORGET_OWNERS_AFTER)
            await conn.execute(owners.delete().where(silent))

    async def retire(self, owner: str) -> None:
        """`owner` stops: whoever reads its requests next need not wait for it."""
        async with self._engine.begin() as conn:
            await conn.execute(owners.delete().where(owners.c.owner == owner))

    async def settle(self, ends: Ends, now: datetime) -> list[Target]:
        """Write `ends` in one transaction; the deliveries the moot orders failed.

        The moot goes first, so a text deferred in this round (after the arrival) stays deferred.
        Only an unfinished delivery ends or waits: one an erasure failed meanwhile keeps nothing
        again.
        """
        changed = (
            deliveries.update()
            .where(
                deliveries.c.delivery_id == sa.bindparam("_id"),
                sa.or_(*(deliveries.c.status == status for status in _UNFINISHED)),  # executemany
            )
            .values({name: sa.bindparam(name) for name in _ENDED})
        )
        rows: list[dict[str, Any]] = [
            {
                "_id": target.delivery_id,
                "status": delivery.status.value,
                "provider": delivery.provider,
                "provider_message_id": delivery.provider_message_id,
                "reason": delivery.reason,
                "due_at": None,
                **_kept(keep),
            }
            for target, delivery, keep in ends.finished
        ] + [
            {
                "_id": target.delivery_id,
                "status": DeliveryStatus.DEFERRED.value,
                "provider": None,
                "provider_message_id": None,
                "reason": None,
                "due_at": _utc(due_at),
                **_kept(kept),
            }
            for target, due_at, kept in ends.deferred
        ]
        async with self._engine.begin() as conn:
            moot = await _make_moot(conn, ends.moot, now) if ends.moot else []
            if rows:
                await conn.execute(
                    changed, [row | {"lease_until": None, "updated_at": _utc(now)} for row in rows]
                )
            if ends.released:  # unsent: as if never claimed
                await conn.execute(
                    deliveries.delete().where(
                        deliveries.c.delivery_id.in_([t.delivery_id for t in ends.released]),
                        deliveries.c.status == DeliveryStatus.PENDING.value,
                    )
                )
        return moot

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Due]:
        """Deferred deliveries due by `now`, each taken by this caller alone until `lease_until`.

        Taking one pushes its `due_at` to the lease's end, so if this worker dies the delivery
        comes due again then, and another replica cannot take it meanwhile.
        """
        due_now = sa.and_(
            deliveries.c.status == DeliveryStatus.DEFERRED.value,
            deliveries.c.due_at <= _utc(now),
        )
        async with self._engine.begin() as conn:
            first = list(
                await conn.scalars(
                    sa.select(deliveries.c.delivery_id)
                    .where(due_now)
                    .order_by(deliveries.c.due_at, deliveries.c.delivery_id)
                    .limit(limit)
                )
            )
            taken: Sequence[sa.Row[Any]] = []
            if first:
                take = (
                    deliveries.update()
                    .where(deliveries.c.delivery_id.in_(first), due_now)
                    .values(due_at=_utc(lease_until), updated_at=_utc(now))
                    .returning(*deliveries.c)
                )
                taken = (await conn.execute(take)).all()
            by_id = {row.delivery_id: row for row in taken}
        return [Due(_target(row), row.request) for id_ in first if (row := by_id.get(id_))]

    async def record_receipt(
        self, provider: str, provider_message_id: str, delivery: Delivery
    ) -> Receipted | None:
        """Move a sent delivery on to `delivery`; None when unknown or already final.

        Receipts come late, twice or out of order: only `sent` moves, so each is told once.
        """
        sent = sa.and_(
            deliveries.c.provider == provider,
            deliveries.c.provider_message_id == provider_message_id,
            deliveries.c.status == DeliveryStatus.SENT.value,
        )
        async with self._engine.begin() as conn:
            row = (await conn.execute(sa.select(deliveries).where(sent))).first()
            if row is None:
                return None
            moved = await conn.execute(
                deliveries.update()
                .where(deliveries.c.delivery_id == row.delivery_id, sent)
                .values(
                    status=delivery.status.value,
                    reason=delivery.reason,
                    **_FORGOTTEN,
                    updated_at=datetime.now(UTC),
                )
            )
            if moved.rowcount != 1:
                return None
        return Receipted(
            _target(row),
            delivery._replace(provider=provider, provider_message_id=provider_message_id),
            row.request,
        )

    async def forget_requests(self, before: datetime) -> int:
        """Drop requests kept for receipts, last touched before `before`; how many."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.request.is_not(None),
                    deliveries.c.status != DeliveryStatus.DEFERRED.value,
                    deliveries.c.updated_at < _utc(before),
                )
                .values(**_FORGOTTEN)
            )
        return result.rowcount

    async def erase(
        self,
        shop_id: str,
        email: str | None,
        phone: str | None,
        order_ids: list[str],
        reason: str,
        erased_at: datetime,
    ) -> Erased:
        """Forget the shop's kept requests of this customer or these orders; fail deferred ones;
        remember the erasure, effective at `erased_at`, on the suppression list.

        A deferred delivery would render from its request, so without it it can never be sent:
        it fails with `reason`, for the caller to tell.
        """
        matching = sa.and_(
            deliveries.c.shop_id == shop_id,
            deliveries.c.request.is_not(None),
            sa.or_(
                deliveries.c.order_id.in_(order_ids),
                sa.and_(
                    sa.literal(email is not None), deliveries.c.customer_email == email_key(email)
                ),
                sa.and_(sa.literal(phone is not None), deliveries.c.customer_phone == phone),
            ),
        )
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            await remember_erasure(conn, erasures, shop_id, email, phone, order_ids, erased_at)
            failed = (
                await conn.execute(
                    deliveries.update()
                    .where(matching, deliveries.c.status == DeliveryStatus.DEFERRED.value)
                    .values(
                        status=DeliveryStatus.FAILED.value,
                        reason=reason,
                        due_at=None,
                        **_FORGOTTEN,
                        updated_at=now,
                    )
                    .returning(*deliveries.c)
                )
            ).all()
            kept = await conn.scalars(
                deliveries.update()
                .where(matching)
                .values(**_FORGOTTEN, updated_at=now)
                .returning(deliveries.c.order_id)
            )
            orders = {*kept, *(row.order_id for row in failed)}
        targets = sorted((_target(row) for row in failed), key=lambda target: target.delivery_id)
        return Erased(len(orders), targets)


async def _make_moot(conn: AsyncConnection, moot: Moot, now: datetime) -> list[Target]:
    """Fail the moot orders' deferred texts of its kinds; the ones it failed."""
    rows = (
        await conn.execute(
            deliveries.update()
            .where(
                deliveries.c.status == DeliveryStatus.DEFERRED.value,
                among(conn, deliveries.c.shop_id, deliveries.c.order_id, moot.orders, exact=True),
                deliveries.c.kind.in_(sorted(moot.kinds)),
            )
            .values(
                status=DeliveryStatus.FAILED.value,
                reason=moot.reason,
                due_at=None,
                **_FORGOTTEN,
                updated_at=_utc(now),
            )
            .returning(*deliveries.c)
        )
    ).all()
    return sorted((_target(row) for row in rows), key=lambda target: target.delivery_id)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _kept(kept: Kept | None) -> dict[str, str | None]:
    if kept is None:
        return _FORGOTTEN
    return {
        "request": kept.request,
        "customer_email": email_key(kept.email),
        "customer_phone": kept.phone,
    }


async def _say_alive(conn: AsyncConnection, claimant: Claimant) -> None:
    alive_until = _utc(claimant.alive_until)
    await conn.execute(
        dialect_insert(conn, owners)
        .values(owner=claimant.owner, alive_until=alive_until)
        .on_conflict_do_update(index_elements=[owners.c.owner], set_={"alive_until": alive_until})
    )


_ERASED_ROW: dict[str, object] = {
    "status": DeliveryStatus.FAILED.value,
    "reason": ERASED_REASON,
    "lease_until": None,
    "owner": None,
}
"""What a new delivery of an erased customer's request is, instead of a claim."""


def _claimed_row(
    target: Target, now: datetime, lease_until: datetime, owner: str
) -> dict[str, object]:
    return {
        "delivery_id": target.delivery_id,
        "notification_id": target.notification_id,
        "channel": target.channel.value,
        "shop_id": target.shop_id,
        "order_id": target.order_id,
        "kind": target.kind,
        "status": DeliveryStatus.PENDING.value,
        "lease_until": _utc(lease_until),
        "owner": owner,
        "updated_at": _utc(now),
    }


def _target(row: sa.Row[tuple[object, ...]]) -> Target:
    return Target(row.notification_id, Channel(row.channel), row.shop_id, row.order_id, row.kind)


def _delivery(row: sa.Row[tuple[object, ...]]) -> Delivery:
    return Delivery(DeliveryStatus(row.status), row.provider, row.provider_message_id, row.reason)
