"""Configuration from `COURIERS_*` environment variables."""

from datetime import timedelta

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from orderpulse_couriers.carriers.packeta_api import DEFAULT_URL as PACKETA_URL
from orderpulse_couriers.polling import Schedule
from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.topics import ORDERS, SHIPMENTS


class Settings(ServiceSettings):
    """Where the couriers service reads, writes and keeps the parcels it follows."""

    model_config = SettingsConfigDict(env_prefix="COURIERS_")

    group_id: str = "couriers"
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/couriers.db")
    orders_topic: str = ORDERS.name
    shipments_topic: str = SHIPMENTS.name
    """Read for `shipment.dispatched`, and where the carriers' statuses are published."""
    inpost_trust_any_sender: bool = False
    """Take InPost webhooks from any address, not only ShipX's documented range: for local runs
    and tests only (ShipX signs nothing, so its address is the only proof of the sender)."""
    packeta_api_passwords: dict[str, SecretStr] = Field(default_factory=dict)
    """Packeta API passwords by shop id, a JSON object (`{"kvetinac-cz": "…"}`) from a
    Kubernetes Secret, never the shops file. A shop without one: its Packeta parcels are
    followed but not polled (until it has one); none at all: Packeta is not polled."""
    packeta_api_url: str = PACKETA_URL
    packeta_requests_per_second: float = Field(default=5.0, gt=0)
    """The most requests Packeta gets from one replica, every shop together."""
    packeta_poll_seconds: float = Field(default=1800.0, gt=0)
    """Between polls of a parcel after news (and how soon a round looks for parcels due, at
    most every 5 s); the wait doubles while nothing changes, up to `packeta_poll_max_seconds`."""
    packeta_poll_max_seconds: float = Field(default=6 * 3600.0, gt=0)
    forget_after_days: float = Field(default=90.0, gt=0)
    """Parcels are forgotten this long after they were followed, and orders' pickup points after
    they were kept: longer than any parcel travels (and than `poll_give_up_days`)."""
    poll_give_up_days: float = Field(default=60.0, gt=0)
    """A parcel followed this long is not polled any more (a wrong tracking number, a parcel
    its carrier lost track of)."""

    @property
    def packeta_schedule(self) -> Schedule:
        """How often Packeta is asked about each parcel."""
        return Schedule(
            every=timedelta(seconds=self.packeta_poll_seconds),
            at_most=timedelta(
                seconds=max(self.packeta_poll_max_seconds, self.packeta_poll_seconds)
            ),
            give_up_after=timedelta(days=self.poll_give_up_days),
        )
