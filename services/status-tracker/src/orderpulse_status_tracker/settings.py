"""Configuration from `TRACKER_*` environment variables."""

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.topics import NOTIFICATION_OUTCOMES, ORDER_STATUS, ORDERS, SHIPMENTS


class Settings(ServiceSettings):
    """Where the tracker reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_")

    group_id: str = "status-tracker"
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/status-tracker.db")
    support_token: SecretStr | None = None
    """The operator's bearer token of `GET /timeline`: it opens every shop's orders."""
    support_tokens: dict[str, SecretStr] = Field(default_factory=dict)
    """Each shop's bearer token of `GET /timeline` (shop id -> token, as a JSON object in
    `TRACKER_SUPPORT_TOKENS`): it opens only that shop's orders. Secret: from the environment or a
    Kubernetes Secret, never the shops file. With neither this nor `support_token` the timeline is
    closed to everyone."""
    orders_topic: str = ORDERS.name
    shipments_topic: str = SHIPMENTS.name
    outcomes_topic: str = NOTIFICATION_OUTCOMES.name
    order_status_topic: str = ORDER_STATUS.name
    timer_interval_seconds: float = 30.0
