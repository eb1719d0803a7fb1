from datetime import UTC, date, datetime, time
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from orderpulse_notifier import formatting
from orderpulse_notifier.formatting import LocaleFormat, locale_format
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


def test_one_locale_format_serves_a_locale_and_time_zone() -> None:
    assert locale_format("cs", PRAGUE) is locale_format("cs", PRAGUE)
    assert locale_format("cs", PRAGUE) is not locale_format("cs", "Europe/Warsaw")


def test_a_result_is_remembered_until_too_many_are(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[Decimal] = []

    def format_currency(amount: Decimal, currency: str, locale: object) -> str:
        written.append(amount)
        return f"{amount} {currency}"

    monkeypatch.setattr(formatting, "format_currency", format_currency)
    monkeypatch.setattr(formatting, "_REMEMBERED", 2)
    fmt = LocaleFormat("cs", PRAGUE)
    one, two, three = (Money(amount=Decimal(n), currency="CZK") for n in ("1.00", "2.00", "3.00"))
    assert fmt.money(one) == fmt.money(one) == "1.00 CZK"
    assert written == [Decimal("1.00")], "written once"
    assert fmt.money(two) == "2.00 CZK" and fmt.money(three) == "3.00 CZK"  # the third: forgets
    assert fmt.money(one) == "1.00 CZK" and len(written) == 4


def test_a_remembered_moment_is_the_one_of_its_own_time_zone() -> None:
    noon_utc = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert "13:00" in locale_format("cs", PRAGUE).moment(noon_utc)
    assert "12:00" in locale_format("cs", "Europe/London").moment(noon_utc)
    assert "13:00" in locale_format("cs", PRAGUE).moment(noon_utc.astimezone(ZoneInfo(PRAGUE)))
