"""Each shop's tracking policy, from the shops file every service reads (its `tracking` part).

Of the `returns` part only `merge_with_delivered` matters here: then the returns service tells
the customer of the arrival together with how to return, so the tracker must not announce it.
The whole file is validated (by the kit's model), so a typo anywhere in it stops the tracker too.
"""

from pathlib import Path
from zoneinfo import ZoneInfo

from orderpulse_kit.shops import Shop, load_shops
from orderpulse_status_tracker.policy import ShopPolicy

_RECEIVED_KINDS = frozenset({"delivered", "picked_up"})


def load_policies(path: Path) -> dict[str, ShopPolicy]:
    """Every shop's policy; a mistake in the file stops the service with the file, shop and key."""
    return {shop_id: _policy(shop) for shop_id, shop in load_shops(path).items()}


def _policy(shop: Shop) -> ShopPolicy:
    notify = frozenset(shop.tracking.notify)
    if shop.returns is not None and shop.returns.merge_with_delivered:
        notify -= _RECEIVED_KINDS  # returns announces the arrival, with the instructions
    return ShopPolicy(
        time_zone=ZoneInfo(shop.time_zone),
        notify=notify,
        pickup_reminder_hours=shop.tracking.pickup_reminder_hours,
    )
