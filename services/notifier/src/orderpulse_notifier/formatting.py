"""Dates, money, hours, phone numbers and names as a customer in each locale expects them."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    get_day_names,
)
from babel.numbers import format_currency
from vokativ import vokativ

from orderpulse_schemas.values import DateWindow, Money, OpeningHours, Weekday

_WEEK = list(Weekday)
Day = date  # `date` is also a method name below
_CARRIERS = {
    "ppl": "PPL",
    "dpd": "DPD",
    "gls": "GLS",
    "dhl": "DHL",
    "zasilkovna": "Zásilkovna",
    "ceska_posta": "Česká pošta",
    "slovenska_posta": "Slovenská pošta",
    "poczta_polska": "Poczta Polska",
    "inpost": "InPost",
    "sps": "SPS",
}


class LocaleFormat:
    """Formatting for one locale and one shop's time zone, handed to templates as `fmt`."""

    def __init__(self, locale: str, time_zone: str) -> None:
        self.locale = locale
        self._zone = ZoneInfo(time_zone)

    def date(self, day: date) -> str:
        """`čtvrtek 26. listopadu 2026`, `Thursday, November 26, 2026`."""
        return format_date(day, "full", locale=self.locale)

    def window(self, window: DateWindow) -> str:
        """One day in full, or a range: `24.–26. 11. 2026`."""
        if window.earliest == window.latest:
            return self.date(window.earliest)
        return format_interval(window.earliest, window.latest, "yMMMd", locale=self.locale)

    def short_window(self, window: DateWindow) -> str:
        """The same, short enough for an SMS: `čt 26. 11.`, `24.–26. 11.`."""
        if window.earliest == window.latest:
            return self.short_date(window.earliest)
        return format_interval(window.earliest, window.latest, "MMMd", locale=self.locale)

    def moment(self, when: datetime) -> str:
        """A day and time in the shop's time zone: `2. prosince 2026 23:59`."""
        local = when.astimezone(self._zone)
        day = format_date(local.date(), "long", locale=self.locale)
        clock = format_time(local, "short", locale=self.locale)
        return str(Locale.parse(self.locale).datetime_formats["long"]).format(clock, day)

    def short_date(self, day: Day) -> str:
        """A day short enough for an SMS: `čt 26. 11.`, `Thu, Nov 26`."""
        return format_skeleton("MMMEd", day, locale=self.locale)

    def short_moment(self, when: datetime) -> str:
        """A day and time short enough for an SMS: `st 2. 12. 23:59`."""
        local = when.astimezone(self._zone)
        return f"{self.short_date(local.date())} {format_time(local, 'short', locale=self.locale)}"

    def time_range(self, start: datetime, end: datetime) -> str:
        """`9:00–12:00` in the shop's time zone (the day is said separately)."""
        first = format_time(start.astimezone(self._zone), "short", locale=self.locale)
        last = format_time(end.astimezone(self._zone), "short", locale=self.locale)
        return f"{first}–{last}"

    def day_of(self, when: datetime) -> str:
        """The day of a moment, in the shop's time zone, in full."""
        return self.date(when.astimezone(self._zone).date())

    def carrier(self, code: str) -> str:
        """A carrier's name as customers know it: `zasilkovna` → `Zásilkovna` (Packeta in SK)."""
        if code == "zasilkovna" and self.locale != "cs":
            return "Packeta"
        return _CARRIERS.get(code, code.upper())

    def money(self, money: Money) -> str:
        """`1 297,00 Kč`."""
        return format_currency(money.amount, money.currency, locale=self.locale)

    def hours(self, rules: list[OpeningHours]) -> str:
        """`po–pá 8:00–18:00, so 9:00–12:00`."""
        names = get_day_names("abbreviated", locale=self.locale)
        parts = []
        for rule in rules:
            indices = sorted(_WEEK.index(day) for day in rule.days)
            if len(indices) > 2 and indices == list(range(indices[0], indices[-1] + 1)):
                days = f"{names[indices[0]]}–{names[indices[-1]]}"
            else:
                days = ", ".join(names[i] for i in indices)
            opens = format_time(rule.opens, "short", locale=self.locale)
            closes = format_time(rule.closes, "short", locale=self.locale)
            parts.append(f"{days} {opens}–{closes}")
        return ", ".join(parts)

    def phone(self, e164: str) -> str:
        """`+420 222 333 444`."""
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )

    def greeting_name(self, first_name: str) -> str:
        """How the greeting addresses the customer: Czech uses the vocative (Petr → Petře)."""
        if self.locale != "cs":
            return first_name
        called = str(vokativ(first_name))
        return called[:1].upper() + called[1:]
