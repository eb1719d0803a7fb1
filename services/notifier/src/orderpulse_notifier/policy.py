"""Who hears what, on which channel, and when. Pure: no I/O, the clock is an argument."""

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_zones

from orderpulse_notifier.shops import Messaging, QuietHours
from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.values import Customer, Locale

ARRIVAL_KINDS = frozenset({"delivered", "picked_up"})
REVIEW_REQUEST = "review_request"
# Once the order has arrived, a deferred SMS about it being on its way only confuses.
MOOT_ON_ARRIVAL = frozenset(
    {
        "order_dispatched",
        "order_delayed",
        "out_for_delivery",
        "at_pickup_point",
        "pickup_reminder",
        "delivery_failed",
    }
)


def reachable(customer: Customer, channel: Channel) -> bool:
    """Email when there is an address the customer lets us use; SMS only with consent."""
    if channel is Channel.EMAIL:
        return bool(customer.email and customer.consent.email)
    return bool(customer.phone and customer.consent.sms)


def channels_for(customer: Customer, kind: str, messaging: Messaging) -> list[Channel]:
    """The shop's channels for this kind of message that may reach this customer.

    A review request goes only to a customer who consented to them, and only by email: the
    email carries the one-click stop link (a text has no room for one)."""
    channels = messaging.channels_for(kind)
    if kind == REVIEW_REQUEST:
        channels = [Channel.EMAIL] if customer.consent.reviews and Channel.EMAIL in channels else []
    return [channel for channel in channels if reachable(customer, channel)]


class UnusableNumber(ValueError):
    """No text can go to this phone number; the message says why, without the number."""


_COUNTRY_OF_LOCALE = {Locale.CS: "CZ", Locale.SK: "SK", Locale.PL: "PL"}
"""Whose national numbers a customer writing in this language is taken to have."""


def sms_number(phone: str, locale: Locale) -> str:
    """The number in E.164, as providers take it, from the number as the shop stored it: with
    spaces or dashes, `00` for `+`, or national (`601 123 456`, `0901 123 456`), read as a
    number of the country of the customer's language (none for English)."""
    number = _parsed(phone, _COUNTRY_OF_LOCALE.get(locale))
    if number is None:
        raise UnusableNumber("the phone number cannot be read (not a number, or no country code)")
    if not phonenumbers.is_valid_number(number):
        raise UnusableNumber("the phone number is not a valid number (E.164 check)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def customer_zone(customer: Customer, shop_zone: str) -> ZoneInfo:
    """The customer's time zone: from their number when it has exactly one, else the shop's."""
    phone = customer.phone
    number = _parsed(phone, _COUNTRY_OF_LOCALE.get(customer.locale)) if phone else None
    if number is not None:
        zones = phone_zones.time_zones_for_number(number)
        if len(zones) == 1 and zones[0] != phone_zones.UNKNOWN_TIMEZONE:
            return ZoneInfo(zones[0])
    return ZoneInfo(shop_zone)


@lru_cache(maxsize=256)
def _parsed(phone: str, country: str | None) -> phonenumbers.PhoneNumber | None:
    """The number (None: it is not one); read twice for each text, a moment apart, so only the
    last few are kept. Not to be changed: callers share it."""
    try:
        return phonenumbers.parse(phone, country)
    except phonenumbers.NumberParseException:
        return None


def quiet_until(now: datetime, quiet: QuietHours | None, zone: ZoneInfo) -> datetime | None:
    """When the quiet hours that `now` falls in end, in `zone`; None when a text may go now."""
    if quiet is None:
        return None
    local = now.astimezone(zone)
    if not quiet.contains(local.time()):
        return None
    day = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    return datetime.combine(day, quiet.end, tzinfo=zone)
