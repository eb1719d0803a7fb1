"""Configuration from `COURIERS_*` environment variables."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

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
