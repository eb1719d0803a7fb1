"""Dates, money, hours, phone numbers and names as a customer in each locale expects them.

Babel takes µs for each date or amount, and the same ones come back: in an email's HTML, its text
and its SMS, and across orders (delivery days, the shop's phone and hours, first names). So each
`LocaleFormat` remembers what it wrote (bounded), and `locale_format` shares one per locale and
time zone.
"""

import re
from collections.abc import Callable, Hashable
from datetime import date, datetime, time, timedelta
from functools import lru_cache, wraps
from typing import Concatenate, ParamSpec
from zoneinfo import ZoneInfo

import phonenumbers
from babel import Locale
from babel.dates import (
    format_date,
    format_interval,
    format_skeleton,
    format_time,
    get_day_names,
    tokenize_pattern,
    untokenize_pattern,
)
from babel.numbers import format_currency, get_currency_symbol

from orderpulse_notifier.carriers import carrier_name, locker_name
from orderpulse_notifier.maps import map_url
from orderpulse_notifier.names import czech_vocative, polish_vocative
from orderpulse_schemas.values import DateWindow, Money, OpeningHours, PickupPoint, Weekday

_WEEK = list(Weekday)
Day = date  # `date` is also a method name below
_REMEMBERED = 4096  # results a LocaleFormat keeps; it forgets them all when it has this many
_Rule = tuple[tuple[Weekday, ...], time, time]
# Weekdays in an SMS, Monday first, where the locale's own abbreviations stop being distinct once
# a shop's SMS lose their diacritics: Slovak "št" (Thursday) becomes "st", Wednesday's. The
# three-letter forms are the other ones Slovak calendars use, and even as "stv" and "str" Thursday
# and Wednesday stay apart. Czech (po, út, st, čt, pá, so, ne → po, ut, st, ct, pa, so, ne),
# Polish (…, śr., … → sr.) and English stay distinct as they are, so they keep them.
_SMS_WEEKDAYS = {"sk": ("pon", "uto", "str", "štv", "pia", "sob", "ned")}
# The conventions each language is written in: English for European shops in British style
# (3 December 2026, 13:05), not babel's American default (December 3, 2026, 1:05 PM).
_CONVENTIONS = {"en": "en_GB"}
# Date skeletons where a locale's own are not how people write: Polish abbreviates months
# ("24–25 lis 2026", "31 maj", even in the nominative), while people write them in full and in the
# genitive ("24–25 listopada 2026", "31 maja"), and in an SMS as numbers ("niedz., 31.05").
_DEFAULT_SKELETONS = {
    "window": "yMMMd",
    "short_window": "MMMd",
    "short_date": "MMMEd",
    "sms_date": "MMMEd",
    "sms_window": "MMMd",
}
_SKELETONS = {
    "pl": _DEFAULT_SKELETONS
    | {
        "window": "yMMMMd",
        "short_window": "MMMMd",
        "short_date": "MMMMEd",
        "sms_date": "MEd",
        "sms_window": "MMMMd",
    }
}
_VOCATIVES = {"cs": czech_vocative, "pl": polish_vocative}
P = ParamSpec("P")


def _remembered(
    method: Callable[Concatenate["LocaleFormat", P], str],
) -> Callable[Concatenate["LocaleFormat", P], str]:
    """`method`, giving what it gave before for the same arguments."""

    @wraps(method)
    def remembered(self: "LocaleFormat", /, *args: P.args, **kwargs: P.kwargs) -> str:
        key: Hashable = (method.__name__, args, *kwargs.items())
        try:
            return self._results[key]
        except KeyError:
            if len(self._results) >= _REMEMBERED:
                self._results.clear()
            result = self._results[key] = method(self, *args, **kwargs)
            return result

    return remembered


@lru_cache(maxsize=256)
def locale_format(locale: str, time_zone: str) -> "LocaleFormat":
    """The one `LocaleFormat` of `locale` in `time_zone`."""
    return LocaleFormat(locale, time_zone)


class LocaleFormat:
    """Formatting for one locale and one shop's time zone, handed to templates as `fmt`."""

    def __init__(self, locale: str, time_zone: str) -> None:
        self.locale = locale
        # babel parses a name on every call it is given
        self._babel = Locale.parse(_CONVENTIONS.get(locale, locale))
        self._zone = ZoneInfo(time_zone)
        self._results: dict[Hashable, str] = {}
        self._skeletons = _SKELETONS.get(locale, _DEFAULT_SKELETONS)
        self._sms_days = _sms_day_patterns(self._babel, self._skeletons["sms_date"])

    @_remembered
    def date(self, day: date) -> str:
        """`čtvrtek 26. listopadu 2026`, `Thursday, November 26, 2026`."""
        return format_date(day, "full", locale=self._babel)

    @_remembered
    def window(self, window: DateWindow) -> str:
        """One day in full, or a range: `24.–26. 11. 2026`."""
        if window.earliest == window.latest:
            return self.date(window.earliest)
        return format_interval(
            window.earliest, window.latest, self._skeletons["window"], locale=self._babel
        )

    @_remembered
    def short_window(self, window: DateWindow) -> str:
        """The same, short enough for an SMS: `čt 26. 11.`, `24.–26. 11.`."""
        if window.earliest == window.latest:
            return self.short_date(window.earliest)
        return format_interval(
            window.earliest, window.latest, self._skeletons["short_window"], locale=self._babel
        )

    @_remembered
    def moment(self, when: datetime) -> str:
        """A day and time in the shop's time zone: `2. prosince 2026 23:59`."""
        local = when.astimezone(self._zone)
        day = format_date(local.date(), "long", locale=self._babel)
        clock = format_time(local, "short", locale=self._babel)
        return str(self._babel.datetime_formats["long"]).format(clock, day)

    @_remembered
    def short_date(self, day: Day) -> str:
        """A day short enough for a subject line: `čt 26. 11.`, `Thu, Nov 26`."""
        return format_skeleton(self._skeletons["short_date"], day, locale=self._babel)

    @_remembered
    def short_moment(self, when: datetime) -> str:
        """A day and time short enough for a subject line: `st 2. 12. 23:59`."""
        local = when.astimezone(self._zone)
        return f"{self.short_date(local.date())} {format_time(local, 'short', locale=self._babel)}"

    @_remembered
    def sms_date(self, day: Day) -> str:
        """A day in an SMS: as `short_date`, with weekdays that no transliteration turns into one
        another (`štv 26. 11.` in Slovak, not `št`, which reads `st`, Wednesday, without its háček).
        """
        if self._sms_days is None:
            return format_skeleton(self._skeletons["sms_date"], day, locale=self._babel)
        return format_date(day, self._sms_days[day.weekday()], locale=self._babel)

    @_remembered
    def sms_window(self, window: DateWindow) -> str:
        """`short_window` for an SMS: one day as `sms_date` gives it, or a range: `24.–26. 11.`."""
        if window.earliest == window.latest:
            return self.sms_date(window.earliest)
        return format_interval(
            window.earliest, window.latest, self._skeletons["sms_window"], locale=self._babel
        )

    @_remembered
    def sms_moment(self, when: datetime) -> str:
        """`short_moment` for an SMS: the day as `sms_date` gives it, `str 2. 12. 23:59`."""
        local = when.astimezone(self._zone)
        return f"{self.sms_date(local.date())} {format_time(local, 'short', locale=self._babel)}"

    @_remembered
    def time_range(self, start: datetime, end: datetime) -> str:
        """`9:00–12:00` in the shop's time zone (the day is said separately)."""
        first = format_time(start.astimezone(self._zone), "short", locale=self._babel)
        last = format_time(end.astimezone(self._zone), "short", locale=self._babel)
        return f"{first}–{last}"

    def day_of(self, when: datetime) -> str:
        """The day of a moment, in the shop's time zone, in full."""
        return self.date(when.astimezone(self._zone).date())

    def carrier(self, code: str) -> str:
        """A carrier's name as customers know it: `zasilkovna` → `Zásilkovna` (Packeta in SK)."""
        return carrier_name(code, self.locale)

    def locker(self, code: str) -> str:
        """The brand of a carrier's parcel lockers: `Z-BOX`, `Paczkomat`; `` if none."""
        return locker_name(code)

    def map_url(self, point: PickupPoint) -> str:
        """A link that shows `point` on a map (see `maps`)."""
        return map_url(point)

    @_remembered
    def money(self, money: Money) -> str:
        """`1 297,00 Kč`, `CZK 1,297.00`, `€1,297.00`."""
        return self._currency(money, None)

    @_remembered
    def sms_money(self, money: Money) -> str:
        """`money` short enough for an SMS: a whole amount without its zero decimals, `689 Kč`."""
        if money.amount != money.amount.to_integral_value():
            return self.money(money)
        pattern = str(self._babel.currency_formats["standard"].pattern)
        return self._currency(money, re.sub(r"\.0+", "", pattern))

    def _currency(self, money: Money, pattern: str | None) -> str:
        """The amount in `pattern` (the locale's own if `None`), its currency's letters apart
        from the digits as CLDR's currency spacing asks and babel does not (`CZK1,297.00`)."""
        written = format_currency(
            money.amount,
            money.currency,
            format=pattern,
            locale=self._babel,
            currency_digits=pattern is None,
        )
        symbol = re.escape(get_currency_symbol(money.currency, locale=self._babel))
        if not symbol.isalpha():  # €1,297.00, £5.00
            return written
        return re.sub(f"(?<={symbol})(?=\\d)|(?<=\\d)(?={symbol})", "\u00a0", written)

    def last_pickup(self, point: PickupPoint, stored_until: datetime) -> datetime:
        """The last moment a parcel can be collected: when it is stored until, or when the point
        last closes before that (19:00, not 23:59); templates format it as any moment."""
        rules = tuple((tuple(rule.days), rule.opens, rule.closes) for rule in point.opening_hours)
        return _last_open(rules, stored_until, self._zone)

    def hours(self, rules: list[OpeningHours]) -> str:
        """`po–pá 8:00–18:00, so 9:00–12:00`."""
        return self._hours(tuple((tuple(rule.days), rule.opens, rule.closes) for rule in rules))

    @_remembered
    def _hours(self, rules: tuple[_Rule, ...]) -> str:
        names = get_day_names("abbreviated", locale=self._babel)
        parts = []
        for days_open, opens, closes in rules:
            indices = sorted(_WEEK.index(day) for day in days_open)
            if len(indices) > 2 and indices == list(range(indices[0], indices[-1] + 1)):
                days = f"{names[indices[0]]}–{names[indices[-1]]}"
            else:
                days = ", ".join(names[i] for i in indices)
            opening = format_time(opens, "short", locale=self._babel)
            closing = format_time(closes, "short", locale=self._babel)
            parts.append(f"{days} {opening}–{closing}")
        return ", ".join(parts)

    @_remembered
    def phone(self, e164: str) -> str:
        """`+420 222 333 444`."""
        return phonenumbers.format_number(
            phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )

    @_remembered
    def greeting_name(self, first_name: str) -> str:
        """How the greeting addresses the customer: Czech and Polish in the vocative (Petr →
        Petře, Katarzyna → Katarzyno), the others by the name as given; empty where the
        vocative is not certain, and the greeting then goes without the name."""
        vocative = _VOCATIVES.get(self.locale)
        if vocative is None:
            return first_name.strip()
        return vocative(first_name.strip()) or ""


@lru_cache(maxsize=1024)
def _last_open(rules: tuple[_Rule, ...], stored_until: datetime, zone: ZoneInfo) -> datetime:
    """`stored_until`, or the last closing time before it when the point is closed then. The
    point's hours are taken in the shop's time zone (the contract gives the point none); with
    no hours (a locker open non-stop) or none in the week before, `stored_until` stands."""
    until = stored_until.astimezone(zone)
    for back in range(8):
        day = until.date() - timedelta(days=back)
        weekday = _WEEK[day.weekday()]
        closings = []
        for days_open, opens, closes in rules:
            opening = datetime.combine(day, opens, zone)
            closing = datetime.combine(day + timedelta(days=closes <= opens), closes, zone)
            if weekday in days_open and opening < until:
                closings.append(min(closing, until))
        if closings:
            return max(closings)
    return stored_until


def _sms_day_patterns(locale: Locale, skeleton: str) -> tuple[str, ...] | None:
    """The pattern of `skeleton` for each weekday, Monday first, with its SMS name in place of
    the weekday field; `None` where SMS keep the locale's own names."""
    names = _SMS_WEEKDAYS.get(locale.language)
    if names is None:
        return None
    tokens = tokenize_pattern(str(locale.datetime_skeletons[skeleton].pattern))
    return tuple(
        untokenize_pattern(
            ("chars", name) if kind == "field" and str(value[0]) in "Eec" else (kind, value)
            for kind, value in tokens
        )
        for name in names
    )
