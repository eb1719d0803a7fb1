"""The couriers service's tables; `migrations/` creates and changes them.

No personal data: a parcel is its shop, order, carrier, tracking number and tracking page, the
public pickup point the customer chose, and which of its statuses were published.
"""

import sqlalchemy as sa

metadata = sa.MetaData()
"""The tables as the code expects them."""

parcels = sa.Table(
    "couriers_parcels",
    metadata,
    sa.Column("carrier", sa.String(20), primary_key=True),  # our code, as a carrier's `CARRIER`
    sa.Column("tracking_number", sa.String(60), primary_key=True),
    sa.Column("shop_id", sa.String(64), nullable=False),
    sa.Column("order_id", sa.String(100), nullable=False),
    # As long as the contract lets it be: `AnyHttpUrl` sets no limit (the record's size does),
    # and percent-encodes what is not ASCII (an accented path grows six-fold).
    sa.Column("tracking_url", sa.Text),
    sa.Column("point", sa.JSON),  # the chosen pickup point, as `orders.v1` gave it
    sa.Column("heard", sa.JSON, nullable=False),  # the published statuses' keys
    sa.Column("last", sa.String(30)),  # the last milestone published
    sa.Column("last_time", sa.DateTime(timezone=True)),
    sa.Column("revision", sa.Integer, nullable=False),  # bumped by every save of what was heard
    # When the poller asks the carrier next (null: not any more), how many polls in a row learnt
    # nothing (its backoff), and since when the parcel is followed (its poller gives up after a
    # while). A carrier that pushes (InPost) is never polled: its parcels' times are not read.
    sa.Column("next_poll_at", sa.DateTime(timezone=True)),
    sa.Column("unchanged_polls", sa.Integer, nullable=False, server_default="0"),
    sa.Column(
        "followed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Index("ix_couriers_parcels_order", "shop_id", "order_id"),
    sa.Index("ix_couriers_parcels_due", "carrier", "next_poll_at"),
    sa.Index("ix_couriers_parcels_followed_at", "followed_at"),
)
"""The parcels followed, by (carrier, tracking number)."""

points = sa.Table(
    "couriers_pickup_points",
    metadata,
    sa.Column("shop_id", sa.String(64), primary_key=True),
    sa.Column("order_id", sa.String(100), primary_key=True),
    sa.Column("point", sa.JSON, nullable=False),
    sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Index("ix_couriers_pickup_points_kept_at", "kept_at"),
)
"""The pickup point each order's customer chose, for parcels dispatched after the order.

Both tables are forgotten after a while (`COURIERS_FORGET_AFTER_DAYS`): a parcel from when it was
followed, a point from when it was kept."""
