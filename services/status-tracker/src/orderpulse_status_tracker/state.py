"""What the tracker knows of one order, and how far along each of its parcels is."""

from dataclasses import dataclass, field
from datetime import date, datetime

from orderpulse_schemas.shipments import ShipmentAtPickupPointData
from orderpulse_schemas.status import OrderStatus
from orderpulse_schemas.values import Customer, DateWindow

# How far along a parcel is. A fact of a lower rank than the parcel's is late and changes nothing;
# rank 3 facts may follow each other (out for delivery, failed, out again); rank 4 is final.
RANK = {
    OrderStatus.ACCEPTED: 0,
    OrderStatus.DISPATCHED: 1,
    OrderStatus.IN_TRANSIT: 2,
    OrderStatus.OUT_FOR_DELIVERY: 3,
    OrderStatus.AT_PICKUP_POINT: 3,
    OrderStatus.DELIVERY_FAILED: 3,
    OrderStatus.DELIVERED: 4,
    OrderStatus.PICKED_UP: 4,
    OrderStatus.RETURNED_TO_SENDER: 4,
}
FINAL = 4


@dataclass(frozen=True)
class TrackedOrder:
    """One order's state. `customer` is personal data (None once erased)."""

    shop_id: str
    order_id: str
    order_number: str
    customer: Customer | None
    status: OrderStatus
    promised_dispatch: date | None
    expected_delivery: DateWindow
    parcel_count: int = 1
    parcels: dict[str, OrderStatus] = field(default_factory=dict)
    last_progress_at: datetime | None = None
    pickup: ShipmentAtPickupPointData | None = None
    """The parcel waiting at a pickup point, its tracking link filled in from `tracking_urls`."""
    tracking_urls: dict[str, str] = field(default_factory=dict)
    """Tracking number → the tracking page `shipment.dispatched` gave, for the pickup notices."""
    announced: dict[str, str] = field(default_factory=dict)
    """Notice kind → fingerprint of what was last said, so a repeated fact is not said again."""

    @property
    def closed(self) -> bool:
        """Cancelled, or every parcel in a final state: nothing more will happen."""
        if self.status is OrderStatus.CANCELLED:
            return True
        done = [status for status in self.parcels.values() if RANK[status] == FINAL]
        return len(done) >= self.parcel_count and bool(done)

    @property
    def dispatched(self) -> bool:
        """At least one parcel has left the warehouse."""
        return bool(self.parcels)
