import re
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from babel.dates import get_day_names, get_month_names

from orderpulse_notifier import formatting
from orderpulse_notifier.formatting import LocaleFormat, locale_format
from orderpulse_notifier.sms import transliterate
from orderpulse_schemas.values import (
    Address,
    DateWindow,
    Locale,
    Money,
    OpeningHours,
    PickupPoint,
    Weekday,
)

PRAGUE = "Europe/Prague"


@pytest.mark.parametrize(
    ("locale", "expected"),
    [("cs", "1 297,00 Kč"), ("sk", "1 297,00 CZK"), ("pl", "1 297,00 CZK"), ("en", "CZK 1,297.00")],
)
def test_money_is_formatted_per_locale(locale: str, expected: str) -> None:
    formatted = LocaleFormat(locale, PRAGUE).money(Money(amount=Decimal("1297.00"), currency="CZK"))
    assert " ".join(formatted.split()) == expected  # babel separates groups with no-break spaces


def test_a_one_day_window_names_the_weekday() -> None:
    day = DateWindow(earliest=date(2026, 11, 26), latest=date(2026, 11, 26))
    assert LocaleFormat("cs", PRAGUE).window(day) == "čtvrtek 26. listopadu 2026"
    assert LocaleFormat("en", PRAGUE).window(day) == "Thursday, 26 November 2026"


def test_a_range_of_days_is_an_interval() -> None:
    days = DateWindow(earliest=date(2026, 11, 24), latest=date(2026, 11, 26))
    assert LocaleFormat("cs", PRAGUE).window(days) == "24.–26. 11. 2026"
    assert LocaleFormat("cs", PRAGUE).short_window(days) == "24.–26. 11."


@pytest.mark.parametrize(
    ("currency", "expected"), [("EUR", "€1,297.00"), ("PLN", "PLN 1,297.00"), ("GBP", "£1,297.00")]
)
def test_english_keeps_a_currency_code_apart_from_the_digits(currency: str, expected: str) -> None:
    money = Money(amount=Decimal("1297.00"), currency=currency)
    assert LocaleFormat("en", PRAGUE).money(money).replace("\u00a0", " ") == expected


def test_english_is_written_the_european_way() -> None:
    fmt = LocaleFormat("en", PRAGUE)
    evening = datetime(2026, 12, 3, 18, 30, tzinfo=UTC)
    assert fmt.moment(evening) == "3 December 2026, 19:30"
    assert fmt.short_date(date(2026, 12, 3)) == "Thu 3 Dec"
    days = DateWindow(earliest=date(2026, 11, 24), latest=date(2026, 11, 25))
    assert fmt.window(days) == "24–25 Nov 2026"
    assert fmt.time_range(evening, evening + timedelta(hours=2)) == "19:30–21:30"


def test_polish_dates_are_written_as_people_write_them() -> None:
    fmt = LocaleFormat("pl", PRAGUE)
    days = DateWindow(earliest=date(2026, 11, 24), latest=date(2026, 11, 25))
    assert fmt.window(days) == "24–25 listopada 2026"
    assert fmt.short_window(days) == fmt.sms_window(days) == "24–25 listopada"
    sunday = date(2026, 5, 31)
    assert fmt.short_date(sunday) == "niedz., 31 maja"
    assert fmt.sms_date(sunday) == "niedz., 31.05"


def point(*hours: OpeningHours) -> PickupPoint:
    """A pickup point open at `hours`, or non-stop without them."""
    address = Address(street="Vinohradská 48", city="Praha 2", postal_code="120 00", country="CZ")
    return PickupPoint(id="Z-1", name="Papírnictví", address=address, opening_hours=list(hours))


WORKDAYS = OpeningHours(days=list(Weekday)[:5], opens=time(8), closes=time(19))
SATURDAY = OpeningHours(days=[Weekday.SA], opens=time(9), closes=time(12))
PRAGUE_ZONE = ZoneInfo(PRAGUE)


@pytest.mark.parametrize(
    ("stored_until", "last"),
    [
        # Wednesday 23:59: the point closes at 19:00 that day.
        (datetime(2026, 12, 2, 23, 59), datetime(2026, 12, 2, 19, 0)),
        # Wednesday noon: the parcel goes back while the point is still open.
        (datetime(2026, 12, 2, 12, 0), datetime(2026, 12, 2, 12, 0)),
        # Sunday: the point last opens on Saturday, until 12:00.
        (datetime(2026, 12, 6, 23, 59), datetime(2026, 12, 5, 12, 0)),
        # Monday 7:00, before it opens: Saturday again.
        (datetime(2026, 12, 7, 7, 0), datetime(2026, 12, 5, 12, 0)),
    ],
)
def test_the_last_moment_to_pick_up_is_when_the_point_last_closes(
    stored_until: datetime, last: datetime
) -> None:
    fmt = LocaleFormat("cs", PRAGUE)
    until = stored_until.replace(tzinfo=PRAGUE_ZONE)
    assert fmt.last_pickup(point(WORKDAYS, SATURDAY), until) == last.replace(tzinfo=PRAGUE_ZONE)


def test_a_locker_open_non_stop_keeps_its_storage_time() -> None:
    until = datetime(2026, 12, 6, 22, 59, tzinfo=UTC)
    assert LocaleFormat("cs", PRAGUE).last_pickup(point(), until) == until


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


def test_phone_numbers_are_grouped_for_reading() -> None:
    assert LocaleFormat("cs", PRAGUE).phone("+420222333444") == "+420 222 333 444"


def test_one_locale_format_serves_a_locale_and_time_zone() -> None:
    assert locale_format("cs", PRAGUE) is locale_format("cs", PRAGUE)
    assert locale_format("cs", PRAGUE) is not locale_format("cs", "Europe/Warsaw")


def test_a_result_is_remembered_until_too_many_are(monkeypatch: pytest.MonkeyPatch) -> None:
    written: list[Decimal] = []

    def format_currency(amount: Decimal, currency: str, **options: object) -> str:
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


# What an SMS date says, after a shop's transliteration. A "form" is a word of it (letters, or a
# number, with an abbreviation's dot), lower-cased and without that dot.
SMS_LOCALES = tuple(locale.value for locale in Locale)
NOVEMBER_WEEK = [date(2026, 11, 23) + timedelta(days=n) for n in range(7)]  # Monday to Sunday
WIDTHS = {"day": ("wide", "abbreviated", "short"), "month": ("wide", "abbreviated")}


def sms_forms(text: str) -> list[str]:
    """The words of `text` as the SMS shows them when the shop transliterates."""
    return [form.lower().rstrip(".") for form in re.findall(r"[^\W_]+\.?", transliterate(text))]


def sms_month(locale: str, month: int) -> str:
    """How an SMS date names `month`: what the dates of its first seven days have in common."""
    fmt = LocaleFormat(locale, PRAGUE)
    week = [sms_forms(fmt.sms_date(date(2026, month, day))) for day in range(1, 8)]
    return " ".join(form for form in week[0] if all(form in other for other in week))


def sms_weekday(locale: str, day: date) -> str:
    """How an SMS date names the weekday of `day`: its words that are neither number nor month."""
    month = sms_month(locale, day.month).split()
    forms = sms_forms(LocaleFormat(locale, PRAGUE).sms_date(day))
    return " ".join(form for form in forms if form not in month and not form[0].isdigit())


def known_forms(locale: str) -> dict[str, set[str]]:
    """Each weekday and month of `locale`, by the forms a reader knows it by: the locale's names
    of every width, as written and transliterated, and what an SMS date calls it."""
    known: dict[str, set[str]] = {}
    for kind, names_of in (("day", get_day_names), ("month", get_month_names)):
        for width in WIDTHS[kind]:
            for context in ("format", "stand-alone"):
                for key, name in names_of(width, context, locale).items():
                    forms = {name.lower().rstrip("."), *sms_forms(name)}
                    known.setdefault(f"{kind} {key}", set()).update(forms)
    for day in NOVEMBER_WEEK:
        known[f"day {day.weekday()}"].add(sms_weekday(locale, day))
    for month in range(1, 13):
        known[f"month {month}"].add(sms_month(locale, month))
    return known


@pytest.mark.parametrize("locale", SMS_LOCALES)
def test_the_seven_weekdays_of_an_sms_stay_seven_when_transliterated(locale: str) -> None:
    weekdays = [sms_weekday(locale, day) for day in NOVEMBER_WEEK]
    assert len(set(weekdays)) == 7 and "" not in weekdays, weekdays


@pytest.mark.parametrize("locale", SMS_LOCALES)
def test_the_twelve_months_of_an_sms_stay_twelve_when_transliterated(locale: str) -> None:
    months = [sms_month(locale, month) for month in range(1, 13)]
    assert len(set(months)) == 12 and "" not in months, months


@pytest.mark.parametrize("locale", SMS_LOCALES)
def test_no_transliterated_sms_weekday_or_month_reads_as_another(locale: str) -> None:
    known = known_forms(locale)
    shown = {f"day {day.weekday()}": sms_weekday(locale, day) for day in NOVEMBER_WEEK}
    shown |= {f"month {month}": sms_month(locale, month) for month in range(1, 13)}
    misread = {
        (meaning, form, other)
        for meaning, form in shown.items()
        for other, forms in known.items()
        if other != meaning and form in forms
    }
    assert misread == set(), "(what it is, how the SMS shows it, what it reads as)"


def test_slovak_sms_name_thursday_and_wednesday_apart_and_emails_keep_their_names() -> None:
    fmt = LocaleFormat("sk", PRAGUE)
    wednesday, thursday = date(2026, 11, 25), date(2026, 11, 26)
    assert (fmt.sms_date(wednesday), fmt.sms_date(thursday)) == ("str 25. 11.", "štv 26. 11.")
    assert fmt.sms_window(DateWindow(earliest=thursday, latest=thursday)) == "štv 26. 11."
    noon = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert fmt.sms_moment(noon) == "štv 26. 11. 12:00"
    assert (fmt.short_date(wednesday), fmt.short_date(thursday)) == ("st 25. 11.", "št 26. 11.")


@pytest.mark.parametrize("locale", ["cs", "en"])
def test_other_locales_sms_dates_are_their_short_dates(locale: str) -> None:
    fmt = LocaleFormat(locale, PRAGUE)
    assert [fmt.sms_date(day) for day in NOVEMBER_WEEK] == [
        fmt.short_date(day) for day in NOVEMBER_WEEK
    ]


def test_a_range_of_days_in_an_sms_names_no_weekday() -> None:
    days = DateWindow(earliest=date(2026, 11, 24), latest=date(2026, 11, 26))
    fmt = LocaleFormat("sk", PRAGUE)
    assert fmt.sms_window(days) == fmt.short_window(days) == "24.\u2009–\u200926. 11."


@pytest.mark.parametrize(
    ("locale", "whole", "with_cents"),
    [
        ("cs", "1 297 Kč", "1 297,50 Kč"),
        ("pl", "1 297 CZK", "1 297,50 CZK"),
        ("en", "CZK 1,297", "CZK 1,297.50"),
    ],
)
def test_an_sms_says_a_whole_amount_without_decimals(
    locale: str, whole: str, with_cents: str
) -> None:
    fmt = LocaleFormat(locale, PRAGUE)
    amounts = (Decimal("1297.00"), Decimal("1297.50"))
    written = [fmt.sms_money(Money(amount=amount, currency="CZK")) for amount in amounts]
    assert [" ".join(text.split()) for text in written] == [whole, with_cents]
