"""The dates a customer is told: until when they may withdraw, and by when they get their money.

Periods count from the day after the event, in the shop's time zone. A withdrawal period that
ends on a Saturday, a Sunday or a public holiday of the shop's country runs to the end of the next
working day (Regulation (EEC, Euratom) No 1182/71, art. 3(4), which the Consumer Rights Directive
follows).
"""

from datetime import date, datetime, timedelta
from functools import cache, lru_cache

import holidays

from orderpulse_returns.shops import REFUND_DAYS, ReturnsPolicy


def withdrawal_deadline(received_at: datetime, policy: ReturnsPolicy) -> date:
    """The last day the customer may withdraw, having received the last parcel at `received_at`."""
    last_day = received_at.astimezone(policy.time_zone).date() + timedelta(days=policy.period_days)
    return working_day_from(last_day, policy.country)


def refund_by(requested_at: datetime, policy: ReturnsPolicy) -> date:
    """The last day of the shop's 14 days to refund a withdrawal made at `requested_at`.

    Not moved past holidays: this is the shop's promise, and an earlier date is the safe one.
    """
    return requested_at.astimezone(policy.time_zone).date() + timedelta(days=REFUND_DAYS)


def refund_on_receipt(requested_at: datetime, received_at: datetime, policy: ReturnsPolicy) -> date:
    """The refund date once the goods are back at `received_at`: the 14 days' last day, or the
    day of receipt if that is later, since the shop may hold the refund only until it has the
    goods (or proof they were sent)."""
    received_on = received_at.astimezone(policy.time_zone).date()
    return max(refund_by(requested_at, policy), received_on)


@lru_cache(maxsize=4096)
def working_day_from(day: date, country: str) -> date:
    """`day`, or the first day after it that is neither a weekend nor a public holiday.

    Remembered: a poll's arrivals share a handful of days, and asking the calendar about one
    cost more than the rest of the deadline."""
    while day.weekday() >= 5 or day in _public_holidays(country):
        day += timedelta(days=1)
    return day


@cache
def _public_holidays(country: str) -> holidays.HolidayBase:
    """The country's calendar; it fills in each year on first use."""
    return holidays.country_holidays(country)
