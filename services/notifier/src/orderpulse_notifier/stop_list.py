"""Who stopped review requests: salted hashes per shop, never an address.

A request to review, for a customer of a shop on the list, reaches the notifier's send loop
with the customer's consent to reviews withdrawn, so no channel is chosen for it and nothing is
sent: the same as for a customer who never consented. The list outlives an erasure on purpose:
it holds no address, and forgetting it would start the requests again.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_kit.database import among, dialect_insert
from orderpulse_notifier.policy import REVIEW_REQUEST
from orderpulse_notifier.stop_links import StopLinks
from orderpulse_notifier.store import metadata
from orderpulse_schemas.notifications import NotificationRequested

log = logging.getLogger(__name__)

review_stops = sa.Table(
    "notifier_review_stops",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("customer_key", sa.String(64), primary_key=True),  # `StopLinks.customer_key`
    sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=False),
)


class SqlStopList:
    """The stop list, in the notifier's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def stop(self, shop_id: str, customer_key: str, at: datetime) -> bool:
        """Record the stop; whether it is new (a second click changes nothing)."""
        async with self._engine.begin() as conn:
            insert = dialect_insert(conn, review_stops).on_conflict_do_nothing()
            row = {
                "shop_id": shop_id,
                "customer_key": customer_key,
                "stopped_at": at.astimezone(UTC),
            }
            result = await conn.execute(insert, [row])
            return bool(result.rowcount)

    async def stopped(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of the (shop id, customer key) pairs stopped review requests."""
        if not keys:
            return set()
        async with self._engine.connect() as conn:
            match = among(conn, review_stops.c.shop_id, review_stops.c.customer_key, set(keys))
            rows = await conn.execute(
                sa.select(review_stops.c.shop_id, review_stops.c.customer_key).where(match)
            )
            return {(row.shop_id, row.customer_key) for row in rows} & set(keys)


async def withhold_stopped(
    requests: Sequence[NotificationRequested], stops: SqlStopList, links: StopLinks | None
) -> list[NotificationRequested]:
    """The requests, each review request of a customer who stopped them without their consent
    to it (one read for the poll); the rest as they are. Without stop links (not configured),
    no review request keeps it: none goes without its stop link."""
    if links is None:
        return [
            _without_consent(r) if r.data.notice.kind == REVIEW_REQUEST else r for r in requests
        ]
    keyed = {
        request.id: (request.shopid, links.customer_key(request.shopid, email))
        for request in requests
        if request.data.notice.kind == REVIEW_REQUEST
        and (email := request.data.customer.email) is not None
    }
    stopped = await stops.stopped(list(keyed.values()))
    if not stopped:
        return list(requests)
    kept = []
    for request in requests:
        if keyed.get(request.id) in stopped:
            log.info("%s: the customer stopped review requests", request.data.notification_id)
            request = _without_consent(request)
        kept.append(request)
    return kept


def _without_consent(request: NotificationRequested) -> NotificationRequested:
    customer = request.data.customer
    consent = customer.consent.model_copy(update={"reviews": False})
    data = request.data.model_copy(
        update={"customer": customer.model_copy(update={"consent": consent})}
    )
    return request.model_copy(update={"data": data})
