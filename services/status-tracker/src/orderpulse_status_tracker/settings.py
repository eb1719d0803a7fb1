"""Configuration from `TRACKER_*` environment variables."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.topics import NOTIFICATION_OUTCOMES, ORDER_STATUS, ORDERS, SHIPMENTS


class Settings(ServiceSettings):
    """Where the tracker reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_")

    group_id: str = "status-tracker"
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/status-tracker.db")
    support_token: SecretStr | None = None
    """The bearer token of `GET /timeline`; without one the timeline is closed to everyone."""
    orders_topic: str = ORDERS.name
    shipments_topic: str = SHIPMENTS.name
    outcomes_topic: str = NOTIFICATION_OUTCOMES.name
    order_status_topic: str = ORDER_STATUS.name
    timer_interval_seconds: float = 30.0
