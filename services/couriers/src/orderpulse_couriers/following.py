"""Which parcels a poll of `orders.v1` and `shipments.v1` makes the service follow. Pure: no I/O.

- `shipment.dispatched` of a carrier the service has a module for follows the parcel, with the
  pickup point its order chose if that is known; dispatched again (a redelivery, or the shop's
  correction), it changes the tracking page only, and nothing when that is the same.
- `order.accepted` with delivery to a pickup point keeps the point (nothing else of the order),
  for the order's parcels followed already and those dispatched later.
- Every other event, and what this service itself published, passes.
"""

from collections.abc import Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType

from orderpulse_couriers.parcels import SOURCE, Followed
from orderpulse_couriers.store import Effects, Loaded, OrderKey, ParcelKey
from orderpulse_schemas.envelope import CloudEvent
from orderpulse_schemas.orders import OrderAccepted
from orderpulse_schemas.shipments import ShipmentDispatched
from orderpulse_schemas.values import PickupPoint, PickupPointDelivery

CARRIERS: Mapping[str, str] = MappingProxyType(
    {
        "zasilkovna": "packeta",
        "packeta": "packeta",
        "inpost": "inpost",
        "ppl": "ppl",
        "dpd": "dpd",
        "gls": "gls",
        "ceska_posta": "ceska_posta",
    }
)
"""The contract's carrier codes the service follows, and the carrier module each one means."""


def ours(event: CloudEvent) -> bool:
    """Whether this service published `event` itself."""
    return event.source.startswith(SOURCE)


def parcel_of(event: ShipmentDispatched) -> ParcelKey | None:
    """The (carrier, tracking number) a dispatch names, or None for a carrier not followed."""
    carrier = CARRIERS.get(event.data.carrier.strip().lower())
    return None if carrier is None else (carrier, event.data.tracking_number)


def point_of(event: OrderAccepted) -> PickupPoint | None:
    """The pickup point an order chose, or None for delivery to the door."""
    delivery = event.data.delivery
    return delivery.point if isinstance(delivery, PickupPointDelivery) else None


def follow(loaded: Loaded, events: Sequence[CloudEvent]) -> Effects:
    """What `events`, in order, change in `loaded` (which holds their parcels and the points of
    the dispatched orders)."""
    effects = Effects()
    working: dict[ParcelKey, Followed] = {k: s.parcel for k, s in loaded.parcels.items()}
    chosen: dict[OrderKey, PickupPoint] = dict(loaded.points)
    new: set[ParcelKey] = set()
    for event in events:
        if ours(event):
            continue
        if isinstance(event, OrderAccepted) and (point := point_of(event)) is not None:
            order = (event.shopid, event.subject)
            chosen[order] = point
            effects.points.append((order, point))
        elif isinstance(event, ShipmentDispatched) and (key := parcel_of(event)) is not None:
            url = str(event.data.tracking_url) if event.data.tracking_url else None
            parcel = working.get(key)
            if parcel is None:
                order = (event.shopid, event.subject)
                working[key] = Followed(
                    shop_id=event.shopid,
                    order_id=event.subject,
                    carrier=key[0],
                    tracking_number=key[1],
                    tracking_url=url,
                    point=chosen.get(order),
                )
                new.add(key)
            elif url is not None and url != parcel.tracking_url:
                working[key] = replace(parcel, tracking_url=url)
                if key not in new:
                    effects.retracked.append((key, url))
    effects.followed = [working[key] for key in working if key in new]
    return effects
