"""Dates, money, hours, phone numbers and names as a customer in each locale expects them."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers
from babel.dates import (
    format_date,
    format_datetime,
    format_interval,
    format_skeleton,
    format_time,
    get_day_names,
)
from babel.numbers import format_currency
from vokativ import vokativ

from orderpulse_schemas.values import DateWindow, Money, OpeningHours, Weekday

_WEEK = list(Weekday)


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
            return format_skeleton("MMMEd", window.earliest, locale=self.locale)
        return format_interval(window.earliest, window.latest, "MMMd", locale=self.locale)

    def moment(self, when: datetime) -> str:
        """A date and time in the shop's time zone."""
        return format_datetime(when.astimezone(self._zone), "medium", locale=self.locale)

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
