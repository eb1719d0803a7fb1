"""Value types that several events share: money, addresses, people, dates and places."""

import hashlib
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BeforeValidator,
    EmailStr,
    Field,
    ValidationInfo,
    ValidatorFunctionWrapHandler,
    WithJsonSchema,
    WrapValidator,
    model_validator,
)

from orderpulse_schemas.envelope import Payload

EARLIEST_DAY, LATEST_DAY = date(2000, 1, 1), date(2099, 12, 31)
Day = Annotated[date, Field(ge=EARLIEST_DAY, le=LATEST_DAY)]
"""A day of an order's life: this century. A default like 0001-01-01 or 9999-12-31 is a bug in
the producer, and would make the services' timers and messages compute with dates no calendar
can show; it is rejected where it comes in, with the field named."""
Moment = Annotated[
    AwareDatetime,
    Field(
        ge=datetime.combine(EARLIEST_DAY, time(), UTC),
        le=datetime.combine(LATEST_DAY, time(23, 59, 59), UTC),
    ),
]
"""A moment of an order's life, with its UTC offset: this century, as `Day`."""

_SEPARATORS = re.compile(r"[\s().\-/]")


def _compact(value: object) -> object:
    """A number as shops store it, without what only formats it: `+420 601 123 456` and
    `00420 601-123-456` are `+420601123456`; `601 123 456` is `601123456`. Anything that is
    then not digits (after an optional `+`) is kept as written: no text can go to it, which the
    notifier says, but the rest of the event still counts."""
    if not isinstance(value, str):
        return value
    compact = _SEPARATORS.sub("", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    return compact if re.fullmatch(r"\+?[0-9]+", compact) else value.strip()


Phone = Annotated[str, Field(min_length=1, max_length=32), BeforeValidator(_compact)]
"""A phone number as written: E.164 (`+420601123456`) is best; formatting is removed, and a
national number is read by the notifier as one of the country of the customer's language."""
PHONE_DESCRIPTION = (
    "Phone number, best in E.164 (`+420601123456`); spaces, dashes, dots, brackets and a `00` "
    "prefix are removed; a number without its country code is read as one of the country of "
    "the customer's language (cs: CZ, sk: SK, pl: PL). One that cannot be read gets no texts "
    "(the outcome says why); the event and its emails still count."
)


STORED = "stored"
"""Validation context (`{STORED: True}`) of data a service validated when it came in and reads
back from its own database: an email address is not checked again, which was most of the CPU of
reading a poll's orders back."""


_CHECKED_EMAILS: set[bytes] = set()
"""Digests (not the addresses: personal data) of addresses found valid as written lately: an
order's every event carries its customer, and the check (email-validator) was a sixth of the
returns service's CPU."""
_CHECKED_EMAILS_KEPT = 10_000


def _checked_once(value: Any, handler: ValidatorFunctionWrapHandler, info: ValidationInfo) -> Any:
    if not isinstance(value, str):
        return handler(value)
    if info.context and info.context.get(STORED):
        return value
    digest = hashlib.blake2b(value.encode(), digest_size=16).digest()
    if digest in _CHECKED_EMAILS:
        return value
    checked = handler(value)
    if checked == value:
        if len(_CHECKED_EMAILS) >= _CHECKED_EMAILS_KEPT:
            _CHECKED_EMAILS.clear()
        _CHECKED_EMAILS.add(digest)
    return checked


LocalTime = Annotated[
    time,
    WithJsonSchema(
        {"type": "string", "pattern": r"^([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]+)?)?$"}
    ),
]
"""A time of day on a place's clock, `HH:MM[:SS]`, without an offset. In JSON Schema a pattern, not
`format: time`: that is RFC 3339's full-time, which needs an offset, so validators checking
formats would refuse `08:00:00`."""


class Locale(StrEnum):
    """Languages customers are written to in."""

    CS = "cs"
    SK = "sk"
    PL = "pl"
    EN = "en"


class Money(Payload):
    """An amount in a currency; the amount is a JSON string so no float rounding ever happens."""

    amount: Decimal = Field(
        ge=0,
        le=Decimal("999999999999.99"),
        decimal_places=2,
        description='Decimal string, e.g. "1299.00".',
    )
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code: CZK, EUR, PLN, ...")


class Address(Payload):
    """A postal address."""

    street: str = Field(min_length=1, description="Street and number.")
    city: str = Field(
        min_length=1, description="Town or city, with the district if any, e.g. `Praha 2`."
    )
    postal_code: str = Field(
        min_length=1, description="Postal code as written in the country, e.g. `120 00`."
    )
    country: str = Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2 code: CZ, SK, PL.")


class Weekday(StrEnum):
    """Days of the week, ISO order."""

    MO = "mo"
    TU = "tu"
    WE = "we"
    TH = "th"
    FR = "fr"
    SA = "sa"
    SU = "su"


class OpeningHours(Payload):
    """One opening rule: these days, from `opens` to `closes` (local time of the place)."""

    days: list[Weekday] = Field(min_length=1, description="Days of the week this rule applies to.")
    opens: LocalTime = Field(description="Opening time, local time of the place.")
    closes: LocalTime = Field(description="Closing time, local time of the place.")


class PointKind(StrEnum):
    """What a pickup point is, which changes how a customer collects there."""

    LOCKER = "locker"
    COUNTER = "counter"


class PickupPoint(Payload):
    """A parcel shop or locker where the customer collects or drops off parcels."""

    id: str = Field(min_length=1, description="The carrier's id of the point.")
    name: str = Field(min_length=1, description="Name of the point; shown to the customer.")
    address: Address = Field(description="Where the point is; shown to the customer.")
    opening_hours: list[OpeningHours] = Field(
        default_factory=list, description="Empty for a locker open non-stop."
    )
    kind: PointKind | None = Field(
        default=None,
        description="`locker` (a parcel locker such as Packeta's Z-BOX or an InPost Paczkomat: "
        "opened from the carrier's app or with the pickup code) or `counter` (a staffed parcel "
        "shop or post office, where the customer says the code and may be asked for an ID). "
        "Absent: not known, and the customer is told what holds for both.",
    )
    latitude: float | None = Field(
        default=None,
        ge=-90,
        le=90,
        description="Where the point is on a map, WGS 84 degrees north (as Packeta's and "
        "InPost's point feeds give it); with `longitude` or neither. The messages link to a map "
        "of the point, found by its address when these are absent.",
    )
    longitude: float | None = Field(
        default=None,
        ge=-180,
        le=180,
        description="WGS 84 degrees east; with `latitude` or neither.",
    )

    @model_validator(mode="after")
    def _located(self) -> "PickupPoint":
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("latitude and longitude come together, or neither")
        return self


class DateWindow(Payload):
    """A day, or a range of days, when something is expected (`latest` = `earliest`: one day)."""

    earliest: Day = Field(description="First day of the window, inclusive.")
    latest: Day = Field(description="Last day of the window, inclusive; not before `earliest`.")

    @model_validator(mode="after")
    def _ordered(self) -> "DateWindow":
        if self.latest < self.earliest:
            raise ValueError("latest must not be before earliest")
        return self


class Consent(Payload):
    """What the customer agreed to be contacted by about this order."""

    email: bool = Field(
        default=True, description="Whether the customer may be emailed about the order."
    )
    sms: bool = Field(
        default=False, description="Whether the customer agreed to text messages about the order."
    )
    reviews: bool = Field(
        default=False,
        description="Whether the customer agreed to be asked, once, some days after the order "
        "arrived, to review the shop (a `review_request`). Optional: absent means no. Each "
        "request carries a one-click link to stop them.",
    )


class Customer(Payload):
    """The person the order's messages are addressed to. Personal data: stored only where needed."""

    first_name: str = Field(
        min_length=1,
        max_length=100,
        description="Given name, used to greet the customer. Personal data.",
    )
    last_name: str = Field(min_length=1, max_length=100, description="Family name. Personal data.")
    email: Annotated[EmailStr | None, WrapValidator(_checked_once)] = Field(
        default=None, description="Where emails go; without it no email is sent. Personal data."
    )
    phone: Phone | None = Field(default=None, description=f"{PHONE_DESCRIPTION} Personal data.")
    locale: Locale = Field(description="Language the customer is written to in.")
    consent: Consent = Field(
        default_factory=Consent,
        description="Channels the customer agreed to be contacted by about the order.",
    )


class DelayReason(StrEnum):
    """Why something is late. The documented list; `other` needs the free text."""

    OUT_OF_STOCK = "out_of_stock"
    SUPPLIER_DELAY = "supplier_delay"
    PAYMENT_PENDING = "payment_pending"
    HIGH_VOLUME = "high_volume"
    WEATHER = "weather"
    VEHICLE_BREAKDOWN = "vehicle_breakdown"
    MISSED_CONNECTION = "missed_connection"
    ADDRESS_ISSUE = "address_issue"
    CUSTOMS = "customs"
    OTHER = "other"


class HomeDelivery(Payload):
    """Delivery to the customer's door."""

    method: Literal["home"] = Field(default="home", description="Always `home`.")
    address: Address = Field(description="Delivery address; shown to the customer. Personal data.")


class PickupPointDelivery(Payload):
    """Delivery to a pickup point the customer chose."""

    method: Literal["pickup_point"] = Field(
        default="pickup_point", description="Always `pickup_point`."
    )
    point: PickupPoint = Field(
        description="The pickup point the customer chose; shown to the customer."
    )


Delivery = Annotated[HomeDelivery | PickupPointDelivery, Field(discriminator="method")]
