"""Per-shop choices the tracker follows: its time zone, what to announce, when to remind."""

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from orderpulse_schemas import notice_models

ALL_KINDS = frozenset(notice_models())


@dataclass(frozen=True)
class ShopPolicy:
    """What one shop wants its customers to hear, and when."""

    time_zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Prague"))
    notify: frozenset[str] = ALL_KINDS
    pickup_reminder_hours: int = 24
