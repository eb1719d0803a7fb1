"""Each shop's identity, contacts and message preferences, from one YAML file validated at start."""

from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, field_validator

from orderpulse_schemas.outcomes import Channel
from orderpulse_schemas.returns import ReturnMethod
from orderpulse_schemas.values import Address, Locale, OpeningHours

_E164 = r"^\+[1-9][0-9]{6,14}$"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Sender(_Strict):
    """Who the email comes from."""

    email: EmailStr
    name: str


class Contact(_Strict):
    """How a customer reaches a human: shown in every message."""

    email: EmailStr
    phone: str = Field(pattern=_E164)
    hours: list[OpeningHours] = Field(min_length=1)


class SmsDiacritics(StrEnum):
    """Keep č, ř, ą, ... (UCS-2: 70 characters a segment) or drop them (GSM-7: 160)."""

    KEEP = "keep"
    TRANSLITERATE = "transliterate"


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

    def channels_for(self, kind: str) -> list[Channel]:
        """The channels the shop uses for this kind of message."""
        return self.channels.get(kind, self.default)


class ReturnPolicy(BaseModel):
    """How the shop takes goods back (the returns service reads the same section)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    methods: list[ReturnMethod] = Field(min_length=1, description="How goods may come back.")
    dropoff_carriers: list[str] = Field(
        default_factory=list, description="Carriers whose points accept a drop-off."
    )
    portal: AnyHttpUrl | None = Field(default=None, description="The shop's returns portal.")
    address: Address = Field(description="Where goods sent by post go.")
    exchange: bool = Field(default=False, description="Whether another size or variant is offered.")
    shipping_paid_by: Literal["customer", "shop"] = "customer"


class Shop(BaseModel):
    """One e-shop's configuration (the other services' sections, e.g. `tracking`, are theirs)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    brand: str
    website: AnyHttpUrl
    country: str = Field(pattern=r"^[A-Z]{2}$")
    time_zone: str
    default_locale: Locale
    sender: Sender
    sms_sender: str = Field(max_length=11, description="Alphanumeric SMS sender id.")
    sms_diacritics: SmsDiacritics = SmsDiacritics.TRANSLITERATE
    contact: Contact
    messaging: Messaging = Field(default_factory=Messaging)
    returns: ReturnPolicy | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises for an unknown zone
        return value


class ShopsFile(_Strict):
    """The whole file: shops by id."""

    shops: dict[str, Shop]


def load_shops(path: Path) -> dict[str, Shop]:
    """Read and validate the shops file; any mistake stops the service with the reason."""
    return ShopsFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8"))).shops
