"""Each shop's tracking policy, from the shops file every service reads (its `tracking` part).

Of the `returns` part only `merge_with_delivered` matters here: then the returns service tells
the customer of the arrival together with how to return, so the tracker must not announce it.
"""

from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ConfigDict, Field

from orderpulse_status_tracker.policy import ALL_KINDS, ShopPolicy


class _Tracking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notify: list[str] = Field(default_factory=lambda: sorted(ALL_KINDS))
    pickup_reminder_hours: int = Field(default=24, ge=1, le=240)


class _Returns(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the returns service's settings; it checks them

    merge_with_delivered: bool = False


_RECEIVED_KINDS = frozenset({"delivered", "picked_up"})


class _Shop(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the other services' settings live here too

    time_zone: str
    tracking: _Tracking = Field(default_factory=_Tracking)
    returns: _Returns = Field(default_factory=_Returns)


def load_policies(path: Path) -> dict[str, ShopPolicy]:
    """Read and validate the shops file; a mistake stops the service with the reason."""
    shops = yaml.safe_load(path.read_text(encoding="utf-8"))["shops"]
    policies = {}
    for shop_id, raw in shops.items():
        shop = _Shop.model_validate(raw)
        unknown = set(shop.tracking.notify) - ALL_KINDS
        if unknown:
            raise ValueError(f"shop {shop_id}: unknown notification kinds {sorted(unknown)}")
        notify = frozenset(shop.tracking.notify)
        if shop.returns.merge_with_delivered:
            notify -= _RECEIVED_KINDS  # returns announces the arrival, with the instructions
        policies[shop_id] = ShopPolicy(
            time_zone=ZoneInfo(shop.time_zone),
            notify=notify,
            pickup_reminder_hours=shop.tracking.pickup_reminder_hours,
        )
    return policies
