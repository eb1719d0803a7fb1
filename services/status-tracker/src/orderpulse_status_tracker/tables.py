"""The tracker's tables. Personal data lives only in `tracker_orders.customer*` (erasable)."""

import sqlalchemy as sa

from orderpulse_kit.erasure import customer_columns, erasure_columns

metadata = sa.MetaData()


def _order() -> tuple["sa.Column[str]", "sa.Column[str]"]:
    """The columns that say which order a row belongs to."""
    return (
        sa.Column("shop_id", sa.String(64), nullable=False),
        sa.Column("order_id", sa.String(100), nullable=False),
    )


orders = sa.Table(
    "tracker_orders",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.JSON),  # None: only facts that came before the order are known
    *customer_columns(),
)

processed = sa.Table(
    "tracker_processed_events",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("event_id", sa.String(300), primary_key=True),
)

pending = sa.Table(
    "tracker_pending_events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_order(),
    sa.Column("event", sa.JSON, nullable=False),
    sa.Index("ix_tracker_pending_order", "shop_id", "order_id"),
)

outbox = sa.Table(
    "tracker_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_order(),
    sa.Column("topic", sa.String(200), nullable=False),
    sa.Column("message", sa.JSON, nullable=False),
    sa.Index("ix_tracker_outbox_order", "shop_id", "order_id"),
)

timers = sa.Table(
    "tracker_timers",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("kind", sa.String(32), primary_key=True),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, index=True),
)

history = sa.Table(
    "tracker_status_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    *_order(),
    sa.Column("status", sa.String(32), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("cause_id", sa.String(300), nullable=False),
    sa.Index("ix_tracker_history_order", "shop_id", "order_id"),
)

notifications = sa.Table(
    "tracker_notifications",
    metadata,
    sa.Column("notification_id", sa.String(100), primary_key=True),
    *_order(),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_tracker_notifications_order", "shop_id", "order_id"),
)

outcomes = sa.Table(
    "tracker_notification_outcomes",
    metadata,
    sa.Column("notification_id", sa.String(100), primary_key=True),
    sa.Column("channel", sa.String(10), primary_key=True),
    sa.Column("outcome", sa.String(40), primary_key=True),
    sa.Column("provider", sa.String(32)),
    sa.Column("reason", sa.String(1000)),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)

erasures = sa.Table("tracker_erasures", metadata, *erasure_columns())
"""The suppression list: hashes of whom erasures named, so their data arriving late is not kept."""
