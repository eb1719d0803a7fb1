"""Who hears what, on which channel, and when. Pure: no I/O, the clock is an argument."""

from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import timezone as phone_zones

from orderpulse_notifier.shops import Messaging, QuietHours
from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.values import Customer

ARRIVAL_KINDS = frozenset({"delivered", "picked_up"})
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
    """The shop's channels for this kind of message that may reach this customer."""
    return [channel for channel in messaging.channels_for(kind) if reachable(customer, channel)]


def sms_number_problem(phone: str) -> str | None:
    """Why a number cannot take an SMS (no personal data in the reason), or None."""
    number = _parsed(phone)
    if number is None:
        return "the phone number is not in E.164 form"
    if not phonenumbers.is_valid_number(number):
        return "the phone number is not a valid number (E.164 check)"
    return None


def customer_zone(phone: str | None, shop_zone: str) -> ZoneInfo:
    """The customer's time zone: from their number when it has exactly one, else the shop's."""
    number = _parsed(phone) if phone else None
    if number is not None:
        zones = phone_zones.time_zones_for_number(number)
        if len(zones) == 1 and zones[0] != phone_zones.UNKNOWN_TIMEZONE:
            return ZoneInfo(zones[0])
    return ZoneInfo(shop_zone)


@lru_cache(maxsize=256)
def _parsed(phone: str) -> phonenumbers.PhoneNumber | None:
    """The number (None: it is not one); read twice for each text, a moment apart, so only the
    last few are kept. Not to be changed: callers share it."""
    try:
        return phonenumbers.parse(phone)
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
