"""The shops file: every shop's settings in one strict model, which each service reads its part of.

All three services read the same file (the tracker `tracking`, the returns service `returns`, the
notifier nearly everything), so each validates all of it with this one model: a key no service
knows is a typo, and a typo must stop every service at start-up, not quietly switch a setting off
(a misspelt `messaging:` would otherwise mean default channels and no quiet hours: texts at night).

Errors: `shops_file.ShopsFileError` (a `ValueError`) for a file that is missing, not YAML or not
valid; its message has one line per mistake, naming the file, the shop and the key.
"""

import difflib
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from orderpulse_kit.review_requests import ReviewRequests
from orderpulse_kit.shops_file import ShopsFileError, mistakes, read_yaml
from orderpulse_kit.status_page import StatusPage, fill
from orderpulse_schemas import notice_models
from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.returns import ReturnMethod
from orderpulse_schemas.values import Address, Locale, OpeningHours

WITHDRAWAL_DAYS = 14
"""The EU floor: a customer has at least 14 days to withdraw from a purchase."""

_E164 = r"^\+[1-9][0-9]{6,14}$"
_KINDS = frozenset(notice_models())


def _check_kinds(kinds: list[str]) -> None:
    for kind in kinds:
        if kind not in _KINDS:
            close = difflib.get_close_matches(kind, _KINDS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"unknown message kind {kind!r}{hint}")


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ShopAddress(Address):
    """A postal address; here an unknown key is a typo, not a field added in a newer event."""

    model_config = ConfigDict(extra="forbid")


class ShopHours(OpeningHours):
    """An opening rule; here an unknown key is a typo, not a field added in a newer event."""

    model_config = ConfigDict(extra="forbid")


class Sender(_Strict):
    """Who the email comes from."""

    email: EmailStr
    name: str


class Contact(_Strict):
    """How a customer reaches a human: shown in every message."""

    email: EmailStr
    phone: str = Field(pattern=_E164)
    hours: list[ShopHours] = Field(min_length=1)


class SmsDiacritics(StrEnum):
    """Keep č, ř, ą, ... (UCS-2: 70 characters a segment) or drop them (GSM-7: 160)."""

    KEEP = "keep"
    TRANSLITERATE = "transliterate"


class Tracking(_Strict):
    """What the status-tracker announces, and when it reminds of a parcel waiting at a point."""

    notify: list[str] = Field(
        default_factory=lambda: sorted(_KINDS),
        description="Message kinds announced (all by default); transit scans never are.",
    )
    pickup_reminder_hours: int = Field(default=24, ge=1, le=240)

    @field_validator("notify")
    @classmethod
    def _kinds_known(cls, notify: list[str]) -> list[str]:
        _check_kinds(notify)
        return notify


class QuietHours(_Strict):
    """No SMS between `start` and `end` in the customer's time zone; they wait, never drop."""

    start: time
    end: time

    def contains(self, moment: time) -> bool:
        """Whether a local time of day falls in the quiet period (which may span midnight)."""
        if self.start <= self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class Messaging(_Strict):
    """Which channels carry which message kinds, and what happens when one fails."""

    channels: dict[str, list[Channel]] = Field(
        default_factory=dict,
        description="Channels per message kind; kinds not listed use `default`.",
    )
    default: list[Channel] = Field(default_factory=lambda: [Channel.EMAIL, Channel.SMS])
    quiet_hours: QuietHours | None = None
    sms_max_segments: int = Field(default=3, ge=1, le=10)
    sms_fallback_to_email: bool = Field(
        default=True,
        description="Email the message when its SMS fails or comes back undelivered.",
    )

    @field_validator("channels")
    @classmethod
    def _kinds_known(cls, channels: dict[str, list[Channel]]) -> dict[str, list[Channel]]:
        _check_kinds(list(channels))
        return channels

    def channels_for(self, kind: str) -> list[Channel]:
        """The channels the shop uses for this kind of message."""
        return self.channels.get(kind, self.default)


class ReturnPolicy(_Strict):
    """How the shop takes goods back: the returns service keeps its dates, the notifier words it."""

    period_days: int = Field(default=WITHDRAWAL_DAYS, ge=WITHDRAWAL_DAYS, le=365)
    methods: list[ReturnMethod] = Field(min_length=1, description="How goods may come back.")
    dropoff_carriers: list[str] = Field(
        default_factory=list, description="Carriers whose points accept a drop-off; empty: any."
    )
    portal: AnyHttpUrl | None = Field(default=None, description="The shop's returns portal.")
    address: ShopAddress = Field(description="Where goods sent by post go.")
    exchange: bool = Field(default=False, description="Whether another size or variant is offered.")
    shipping_paid_by: Literal["customer", "shop"] = "customer"
    merge_with_delivered: bool = Field(
        default=False, description="One arrival message with the return steps, not two."
    )
    reminder_days_before: int | None = Field(default=None, ge=1)
    withdrawal_form: AnyHttpUrl | None = Field(
        default=None,
        description="The model withdrawal form (a page or a PDF), linked from return messages.",
    )

    @model_validator(mode="after")
    def _reminder_inside_period(self) -> "ReturnPolicy":
        if self.reminder_days_before is not None and self.reminder_days_before >= self.period_days:
            raise ValueError("reminder_days_before must be shorter than period_days")
        return self


class LegalIdentity(_Strict):
    """Who the shop is in law, shown in every email's footer; each id is labelled as the shop's
    country calls it, in the customer's language."""

    company: str = Field(min_length=1, description="Registered name with its legal form.")
    address: ShopAddress = Field(description="The registered office.")
    company_id: str = Field(
        min_length=1, description="Registration number: IČO (CZ, SK), KRS (PL), company number."
    )
    tax_id: str | None = Field(
        default=None, description="A tax number apart from the VAT one: DIČ (SK), NIP (PL)."
    )
    vat_id: str | None = Field(
        default=None, description="EU VAT number, e.g. `CZ12345678` (in CZ this is the DIČ)."
    )
    registry_entry: str | None = Field(
        default=None,
        description="The registry entry as a reference, e.g. `C 267891, Městský soud v Praze`; "
        "shown after a label in the customer's language.",
    )


class Shop(_Strict):
    """One e-shop's settings."""

    brand: str
    website: AnyHttpUrl
    country: str = Field(pattern=r"^[A-Z]{2}$")
    time_zone: str
    default_locale: Locale
    sender: Sender
    sms_sender: str = Field(max_length=11, description="Alphanumeric SMS sender id.")
    sms_diacritics: SmsDiacritics = SmsDiacritics.TRANSLITERATE
    contact: Contact
    tracking: Tracking = Field(default_factory=Tracking)
    messaging: Messaging = Field(default_factory=Messaging)
    returns: ReturnPolicy | None = None
    reviews: ReviewRequests = Field(
        default_factory=ReviewRequests,
        description="Asking customers who consented for a review, N days after arrival.",
    )
    status_page: StatusPage | None = Field(
        default=None,
        description="URL template of an order's status page, with `{order_number}` or "
        "`{order_id}`; every email links to it.",
    )
    legal: LegalIdentity | None = Field(
        default=None, description="The company behind the shop, shown in every email's footer."
    )

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (e.g. 'Europe/Prague')") from None
        return value

    def status_page_of(self, order_number: str, order_id: str) -> str | None:
        """The order's status page, if the shop has them."""
        if self.status_page is None:
            return None
        return fill(self.status_page, order_number=order_number, order_id=order_id)


class ShopsFile(_Strict):
    """The whole file: shops by id."""

    shops: dict[str, Shop]


def load_shops(path: Path) -> dict[str, Shop]:
    """Every shop in the file by id; any mistake raises `ShopsFileError` naming file, shop, key."""
    try:
        return ShopsFile.model_validate(read_yaml(path)).shops
    except ValidationError as error:
        raise ShopsFileError(path, mistakes(error, ShopsFile)) from None
