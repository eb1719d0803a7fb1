"""Make an example order current: its promises lie ahead of today, as in a live shop.

The contract's examples are dated November 2026; replayed later, the tracker's timers would
rightly find every promise broken and announce delays. The demo and the process-level tests
shift the promises to tomorrow and after instead.
"""

from datetime import date, timedelta
from typing import Any


def upcoming(order_accepted: dict[str, Any], today: date | None = None) -> dict[str, Any]:
    """`order_accepted` promising dispatch tomorrow and delivery in two to three days."""
    day = today or date.today()
    data = order_accepted["data"]
    data["promised_dispatch"] = str(day + timedelta(days=1))
    data["promised_delivery"] = {
        "earliest": str(day + timedelta(days=2)),
        "latest": str(day + timedelta(days=3)),
    }
    return order_accepted
