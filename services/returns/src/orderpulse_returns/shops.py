"""Each shop's returns policy, from the shops file every service reads (its `returns` part)."""

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from orderpulse_schemas.returns import ReturnMethod

# The EU floor: 14 days to withdraw, and 14 days for the shop to refund after a withdrawal.
WITHDRAWAL_DAYS = 14
REFUND_DAYS = 14


class _Returns(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the notifier reads how to word the steps

    period_days: int = Field(default=WITHDRAWAL_DAYS, ge=WITHDRAWAL_DAYS, le=365)
    methods: list[ReturnMethod] = Field(min_length=1)
    dropoff_carriers: list[str] = Field(default_factory=list)
    merge_with_delivered: bool = False
    reminder_days_before: int | None = Field(default=None, ge=1)

    @model_validator(mode="after")
    def _reminder_inside_period(self) -> "_Returns":
        if self.reminder_days_before is not None and self.reminder_days_before >= self.period_days:
            raise ValueError("reminder_days_before must be shorter than period_days")
        return self


class _Shop(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the other services' settings live here too

    country: str
    time_zone: str
    returns: _Returns | None = None


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

    def takes_dropoff_at(self, carrier: str) -> bool:
        """Whether a point of `carrier` accepts this shop's returns."""
        if self.dropoff_carriers is None:
            return False
        return not self.dropoff_carriers or carrier in self.dropoff_carriers


def load_policies(path: Path) -> dict[str, ReturnsPolicy]:
    """The shops that take returns through orderpulse; a mistake stops the service with why."""
    shops = yaml.safe_load(path.read_text(encoding="utf-8"))["shops"]
    supported = holidays.list_supported_countries()
    policies = {}
    for shop_id, raw in shops.items():
        shop = _Shop.model_validate(raw)
        if shop.returns is None:
            continue
        if shop.country not in supported:
            raise ValueError(f"shop {shop_id}: no public holidays known for {shop.country!r}")
        returns = shop.returns
        dropoff = ReturnMethod.PICKUP_POINT_DROPOFF in returns.methods
        policies[shop_id] = ReturnsPolicy(
            country=shop.country,
            time_zone=ZoneInfo(shop.time_zone),
            period_days=returns.period_days,
            dropoff_carriers=frozenset(returns.dropoff_carriers) if dropoff else None,
            merge_with_delivered=returns.merge_with_delivered,
            reminder_days_before=returns.reminder_days_before,
        )
    return policies
