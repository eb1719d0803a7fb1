from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest

from orderpulse_notifier.formatting import LocaleFormat
from orderpulse_schemas.values import DateWindow, Money, OpeningHours, Weekday

PRAGUE = "Europe/Prague"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("cs", "1 297,00 Kč"), ("sk", "1 297,00 CZK"), ("pl", "1 297,00 CZK"), ("en", "CZK1,297.00")],
)
def test_money_is_formatted_per_locale(locale: str, expected: str) -> None:
    formatted = LocaleFormat(locale, PRAGUE).money(Money(amount=Decimal("1297.00"), currency="CZK"))
    assert " ".join(formatted.split()) == expected  # babel separates groups with no-break spaces


def test_a_one_day_window_names_the_weekday() -> None:
    day = DateWindow(earliest=date(2026, 11, 26), latest=date(2026, 11, 26))
    assert LocaleFormat("cs", PRAGUE).window(day) == "čtvrtek 26. listopadu 2026"
    assert LocaleFormat("en", PRAGUE).window(day) == "Thursday, November 26, 2026"


def test_a_range_of_days_is_an_interval() -> None:
    days = DateWindow(earliest=date(2026, 11, 24), latest=date(2026, 11, 26))
    assert LocaleFormat("cs", PRAGUE).window(days) == "24.–26. 11. 2026"
    assert LocaleFormat("cs", PRAGUE).short_window(days) == "24.–26. 11."


def test_opening_hours_collapse_consecutive_days() -> None:
    hours = [
        OpeningHours(days=list(Weekday)[:5], opens=time(8), closes=time(18)),
        OpeningHours(days=[Weekday.SA], opens=time(9), closes=time(12)),
        OpeningHours(days=[Weekday.MO, Weekday.WE], opens=time(19), closes=time(20)),
    ]
    assert LocaleFormat("cs", PRAGUE).hours(hours) == (
        "po–pá 8:00–18:00, so 9:00–12:00, po, st 19:00–20:00"
    )


def test_moments_are_shown_in_the_shops_time_zone() -> None:
    noon_utc = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert "13:00" in LocaleFormat("cs", PRAGUE).moment(noon_utc)


@pytest.mark.parametrize(
    ("name", "called"),
    [("Petr", "Petře"), ("Jana", "Jano"), ("Tomáš", "Tomáši"), ("Lucie", "Lucie")],
)
def test_czech_greets_in_the_vocative(name: str, called: str) -> None:
    assert LocaleFormat("cs", PRAGUE).greeting_name(name) == called


def test_other_locales_greet_by_the_name_as_given() -> None:
    assert LocaleFormat("en", PRAGUE).greeting_name("Petr") == "Petr"


def test_phone_numbers_are_grouped_for_reading() -> None:
    assert LocaleFormat("cs", PRAGUE).phone("+420222333444") == "+420 222 333 444"
