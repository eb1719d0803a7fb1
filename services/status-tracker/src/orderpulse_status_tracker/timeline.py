"""For support staff: one order's states, and what the customer was told, with outcomes."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from orderpulse_status_tracker.tables import history, notifications, orders, outcomes


class Timeline:
    """Reads an order's history, with the notifier's outcomes for it."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def of(self, shop_id: str, order_id: str) -> dict[str, Any] | None:
        """The order's timeline as JSON-ready data, or None when the order is unknown."""
        where = (orders.c.shop_id == shop_id, orders.c.order_id == order_id)
        async with self._engine.connect() as conn:
            state = await conn.scalar(sa.select(orders.c.state).where(*where))
            if state is None:  # unknown, or only early courier facts so far
                return None
            states = await conn.execute(
                sa.select(history.c.status, history.c.at, history.c.cause_id)
                .where(history.c.shop_id == shop_id, history.c.order_id == order_id)
                .order_by(history.c.id)
            )
            requested = (
                await conn.execute(
                    sa.select(
                        notifications,
                        outcomes.c.channel,
                        outcomes.c.outcome,
                        outcomes.c.reason,
                        outcomes.c.at,
                    )
                    .outerjoin(
                        outcomes, outcomes.c.notification_id == notifications.c.notification_id
                    )
                    .where(notifications.c.shop_id == shop_id, notifications.c.order_id == order_id)
                    .order_by(notifications.c.requested_at, outcomes.c.at)
                )
            ).all()
        told: dict[str, dict[str, Any]] = {}
        for row in requested:
            entry = told.setdefault(
                row.notification_id,
                {
                    "notification_id": row.notification_id,
                    "kind": row.kind,
                    "requested_at": _iso(row.requested_at),
                    "outcomes": [],
                },
            )
            if row.outcome is not None:
                entry["outcomes"].append(
                    {
                        "channel": row.channel,
                        "outcome": row.outcome,
                        "reason": row.reason,
                        "at": _iso(row.at),
                    }
                )
        return {
            "shop_id": shop_id,
            "order_id": order_id,
            "order_number": state["order_number"],
            "status": state["status"],
            "states": [
                {"status": r.status, "at": _iso(r.at), "cause_id": r.cause_id} for r in states
            ],
            "notifications": list(told.values()),
        }


def _iso(moment: datetime) -> str:
    return moment.isoformat() if moment.tzinfo else moment.isoformat() + "Z"
