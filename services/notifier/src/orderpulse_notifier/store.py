"""Delivery state in SQL: claimed before sending, finished after, deferred rows kept durably.

A claim is a lease: a worker that dies mid-send leaves its row pending until the lease runs out,
then a redelivery takes it over. Two live workers never send the same delivery.
Requests (personal data) are kept only while needed: deferred, or awaiting an SMS receipt that
may call for the email fallback. A kept request's customer email and phone sit beside it, so an
erasure finds it without reading every request; they go whenever the request goes.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_notifier.ports import (
    Delivery,
    DeliveryStatus,
    Due,
    Erased,
    Kept,
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
    sa.Index("notifier_deliveries_order", "shop_id", "order_id"),
    sa.Index("notifier_deliveries_receipt", "provider", "provider_message_id"),
    sa.Index("notifier_deliveries_due", "status", "due_at"),
    sa.Index("notifier_deliveries_email", "shop_id", "customer_email"),
    sa.Index("notifier_deliveries_phone", "shop_id", "customer_phone"),
)

_FORGOTTEN: dict[str, str | None] = {
    "request": None,
    "customer_email": None,
    "customer_phone": None,
}
"""What forgetting a request clears."""
_UNFINISHED = (DeliveryStatus.PENDING.value, DeliveryStatus.DEFERRED.value)


class SqlDeliveryStore:
    """Deliveries in a database the notifier owns."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def claim(self, target: Target, now: datetime, lease_until: datetime) -> Delivery | None:
        """None when the caller now holds the delivery and must send it; else how it stands."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    deliveries.insert().values(
                        delivery_id=target.delivery_id,
                        notification_id=target.notification_id,
                        channel=target.channel.value,
                        shop_id=target.shop_id,
                        order_id=target.order_id,
                        kind=target.kind,
                        status=DeliveryStatus.PENDING.value,
                        lease_until=_utc(lease_until),
                        updated_at=_utc(now),
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self._engine.begin() as conn:
            taken_over = await conn.execute(
                deliveries.update()
                .where(
                    deliveries.c.delivery_id == target.delivery_id,
                    deliveries.c.status == DeliveryStatus.PENDING.value,
                    deliveries.c.lease_until <= _utc(now),
                )
                .values(lease_until=_utc(lease_until), updated_at=_utc(now))
            )
            if taken_over.rowcount == 1:
                return None
            row = (
                await conn.execute(
                    sa.select(deliveries).where(deliveries.c.delivery_id == target.delivery_id)
                )
            ).one()
        return _delivery(row)

    async def finish(self, target: Target, delivery: Delivery, keep: Kept | None = None) -> None:
        """Record the end; `keep` holds the request while a receipt may still need a fallback.

        Only an unfinished delivery ends: one an erasure failed meanwhile keeps nothing again.
        """
        await self._update(
            target.delivery_id,
            deliveries.c.status.in_(_UNFINISHED),
            status=delivery.status.value,
            provider=delivery.provider,
            provider_message_id=delivery.provider_message_id,
            reason=delivery.reason,
            lease_until=None,
            due_at=None,
            **_kept(keep),
        )

    async def release(self, target: Target, now: datetime) -> None:
        """Give a claim back unsent, so a later redelivery may take it at once."""
        await self._update(target.delivery_id, lease_until=_utc(now))

    async def defer(self, target: Target, due_at: datetime, kept: Kept) -> None:
        """Keep a claimed delivery until `due_at`, with the request it renders from.

        Not one that an erasure failed while it was being sent: that one is never sent again.
        """
        await self._update(
            target.delivery_id,
            deliveries.c.status.in_(_UNFINISHED),
            status=DeliveryStatus.DEFERRED.value,
            lease_until=None,
            due_at=_utc(due_at),
            **_kept(kept),
        )

    async def take_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Due]:
        """Deferred deliveries due by `now`, each taken by this caller alone until `lease_until`.

        Taking one pushes its `due_at` to the lease's end, so if this worker dies the delivery
        comes due again then, and another replica cannot take it meanwhile.
        """
        due_now = sa.and_(
            deliveries.c.status == DeliveryStatus.DEFERRED.value,
            deliveries.c.due_at <= _utc(now),
        )
        async with self._engine.connect() as conn:
            rows = (
                await conn.execute(
                    sa.select(deliveries)
                    .where(due_now)
                    .order_by(deliveries.c.due_at, deliveries.c.delivery_id)
                    .limit(limit)
                )
            ).all()
        taken = []
        for row in rows:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    deliveries.update()
                    .where(deliveries.c.delivery_id == row.delivery_id, due_now)
                    .values(due_at=_utc(lease_until), updated_at=_utc(now))
                )
            if result.rowcount == 1:
                taken.append(Due(_target(row), row.request))
        return taken

    async def make_moot(
        self, shop_id: str, order_id: str, kinds: frozenset[str], reason: str
    ) -> list[Target]:
        """Fail the order's deferred deliveries of these kinds; the ones it failed."""
        async with self._engine.begin() as conn:
            rows = (
                await conn.execute(
                    deliveries.update()
                    .where(
                        deliveries.c.shop_id == shop_id,
                        deliveries.c.order_id == order_id,
                        deliveries.c.status == DeliveryStatus.DEFERRED.value,
                        deliveries.c.kind.in_(sorted(kinds)),
                    )
                    .values(
                        status=DeliveryStatus.FAILED.value,
                        reason=reason,
                        due_at=None,
                        **_FORGOTTEN,
                        updated_at=datetime.now(UTC),
                    )
                    .returning(*deliveries.c)
                )
            ).all()
        return sorted((_target(row) for row in rows), key=lambda target: target.delivery_id)

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
        self, shop_id: str, email: str | None, phone: str | None, order_ids: list[str], reason: str
    ) -> Erased:
        """Forget the shop's kept requests of this customer or these orders; fail deferred ones.

        A deferred delivery would render from its request, so without it it can never be sent:
        it fails with `reason`, for the caller to tell.
        """
        matching = sa.and_(
            deliveries.c.shop_id == shop_id,
            deliveries.c.request.is_not(None),
            sa.or_(
                deliveries.c.order_id.in_(order_ids),
                sa.and_(sa.literal(email is not None), deliveries.c.customer_email == email),
                sa.and_(sa.literal(phone is not None), deliveries.c.customer_phone == phone),
            ),
        )
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
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

    async def _update(
        self, delivery_id: str, *where: sa.ColumnElement[bool], **values: object
    ) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                deliveries.update()
                .where(deliveries.c.delivery_id == delivery_id, *where)
                .values(**values, updated_at=datetime.now(UTC))
            )


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


def _kept(kept: Kept | None) -> dict[str, str | None]:
    if kept is None:
        return _FORGOTTEN
    return {
        "request": kept.request,
        "customer_email": kept.email,
        "customer_phone": kept.phone,
    }


def _target(row: sa.Row[tuple[object, ...]]) -> Target:
    return Target(row.notification_id, Channel(row.channel), row.shop_id, row.order_id, row.kind)


def _delivery(row: sa.Row[tuple[object, ...]]) -> Delivery:
    return Delivery(DeliveryStatus(row.status), row.provider, row.provider_message_id, row.reason)
