"""Each shop's returns policy, from the shops file every service reads (its `returns` part).

The whole file is validated by the kit's model, so a typo anywhere in it stops this service too;
whether a shop's country has known public holidays is checked here, where deadlines need them.
"""

from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

from orderpulse_kit.review_requests import ReviewRequests
from orderpulse_kit.shops import WITHDRAWAL_DAYS, load_shops
from orderpulse_kit.shops_file import ShopsFileError
from orderpulse_schemas.returns import ReturnMethod

REFUND_DAYS = 14
"""The EU floor for the shop to refund after a withdrawal."""


@dataclass(frozen=True)
class ReturnsPolicy:
    """How long one shop's customers may withdraw, where they may drop goods off, what they hear."""

    country: str
    """Whose public holidays move a deadline (ISO 3166 code, e.g. `CZ`)."""
    time_zone: ZoneInfo
    period_days: int = WITHDRAWAL_DAYS
    dropoff_carriers: frozenset[str] | None = frozenset()
    """Carriers whose points take returns; empty: any carrier's; None: no drop-off at all."""
    merge_with_delivered: bool = False
    reminder_days_before: int | None = None
    reviews: ReviewRequests = field(default_factory=ReviewRequests)
    """Whether and when the shop asks for a review (the timer is ours: a return cancels it)."""

    def takes_dropoff_at(self, carrier: str) -> bool:
        """Whether a point of `carrier` accepts this shop's returns."""
        if self.dropoff_carriers is None:
            return False
        return not self.dropoff_carriers or carrier in self.dropoff_carriers


def load_policies(path: Path) -> dict[str, ReturnsPolicy]:
    """The shops that take returns through orderpulse; a mistake stops the service with why."""
    supported = holidays.list_supported_countries()
    policies = {}
    for shop_id, shop in load_shops(path).items():
        returns = shop.returns
        if returns is None:
            if shop.reviews.enabled:
                problem = "review requests are timed by the returns service: add `returns`"
                raise ShopsFileError.at(path, shop_id, "reviews", problem)
            continue
        if shop.country not in supported:
            problem = f"no public holidays known for {shop.country!r}, so no return deadlines"
            raise ShopsFileError.at(path, shop_id, "country", problem)
        dropoff = ReturnMethod.PICKUP_POINT_DROPOFF in returns.methods
        policies[shop_id] = ReturnsPolicy(
            country=shop.country,
            time_zone=ZoneInfo(shop.time_zone),
            period_days=returns.period_days,
            dropoff_carriers=frozenset(returns.dropoff_carriers) if dropoff else None,
            merge_with_delivered=returns.merge_with_delivered,
            reminder_days_before=returns.reminder_days_before,
            reviews=shop.reviews,
        )
    return policies
