"""The withdrawal deadline on the edges: weekends, public holidays of the shop's country, the
time zone, longer policies; and the refund date."""

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from orderpulse_returns.deadlines import refund_by, withdrawal_deadline

from ..conftest import PRAGUE, policy

WARSAW, BRATISLAVA = ZoneInfo("Europe/Warsaw"), ZoneInfo("Europe/Bratislava")
ZONES = {"CZ": PRAGUE, "SK": BRATISLAVA, "PL": WARSAW}


def deadline(received: date, country: str = "CZ", period_days: int = 14) -> date:
    """The deadline for goods received at 14:00 local time on `received`."""
    zone = ZONES[country]
    at = datetime.combine(received, time(14, 0), tzinfo=zone)
    return withdrawal_deadline(at, policy(country=country, time_zone=zone, period_days=period_days))


def test_the_fourteenth_day_after_receipt_is_the_last_one() -> None:
    # Received Monday 2 November 2026: the period runs from the 3rd to Monday the 16th.
    assert deadline(date(2026, 11, 2)) == date(2026, 11, 16)


def test_a_deadline_on_a_saturday_moves_to_monday() -> None:
    assert date(2026, 11, 21).strftime("%A") == "Saturday"
    assert deadline(date(2026, 11, 7)) == date(2026, 11, 23)


def test_a_deadline_on_a_sunday_moves_to_monday() -> None:
    assert deadline(date(2026, 11, 8)) == date(2026, 11, 23)


@pytest.mark.parametrize("country", ["CZ", "SK", "PL"])
def test_christmas_moves_the_deadline_past_the_holidays_and_the_weekend(country: str) -> None:
    # 24, 25 and 26 December 2026 are Thursday to Saturday, all public holidays in CZ, SK and PL
    # (Christmas Eve in Poland since 2025); then comes Sunday.
    assert deadline(date(2026, 12, 10), country) == date(2026, 12, 28)


@pytest.mark.parametrize("country", ["CZ", "SK", "PL"])
def test_new_year_moves_the_deadline(country: str) -> None:
    # Friday 1 January 2027, then a weekend.
    assert deadline(date(2026, 12, 18), country) == date(2027, 1, 4)


@pytest.mark.parametrize(("country", "last_day"), [("CZ", 6), ("SK", 7), ("PL", 7)])
def test_epiphany_is_a_holiday_in_slovakia_and_poland_only(country: str, last_day: int) -> None:
    assert deadline(date(2026, 12, 23), country) == date(2027, 1, last_day)


@pytest.mark.parametrize("country", ["CZ", "SK", "PL"])
def test_easter_monday_moves_the_deadline_to_tuesday(country: str) -> None:
    # Easter Monday 2027 is 29 March.
    assert deadline(date(2027, 3, 15), country) == date(2027, 3, 30)


@pytest.mark.parametrize(("country", "last_day"), [("CZ", 30), ("SK", 30), ("PL", 26)])
def test_good_friday_is_a_holiday_in_czechia_and_slovakia(country: str, last_day: int) -> None:
    # Good Friday 26 March 2027, a weekend, Easter Monday: the Czech and Slovak deadline runs to
    # Tuesday; in Poland Good Friday is a working day.
    assert deadline(date(2027, 3, 12), country) == date(2027, 3, last_day)


def test_a_thirty_day_policy() -> None:
    assert deadline(date(2026, 11, 2), period_days=30) == date(2026, 12, 2)
    # 30 days after 27 November is Sunday 27 December, after the Christmas holidays: Monday.
    assert deadline(date(2026, 11, 27), period_days=30) == date(2026, 12, 28)


def test_the_day_of_receipt_is_the_shops_day_not_utc() -> None:
    # 23:30 UTC on 30 November is already 1 December in Prague.
    received = datetime(2026, 11, 30, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert withdrawal_deadline(received, policy()) == date(2026, 12, 15)


def test_the_refund_date_is_fourteen_days_after_the_withdrawal_even_on_a_weekend() -> None:
    # A promise to keep, not a deadline to stretch: 19 December 2026 is a Saturday.
    requested = datetime(2026, 12, 5, 22, 15, tzinfo=PRAGUE)
    assert refund_by(requested, policy()) == date(2026, 12, 19)
