"""Each shop's identity, contacts and message preferences, from one YAML file validated at start."""

from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, field_validator

from orderpulse_schemas.values import Locale, OpeningHours

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
