"""Configuration from `RETURNS_*` environment variables."""

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.topics import ORDER_STATUS, RETURNS


class Settings(ServiceSettings):
    """Where the returns service reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="RETURNS_")

    group_id: str = "returns"
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/returns.db")
    reminder_interval_seconds: float = 60.0
    """How often reminders that have come due are sent."""
    order_status_topic: str = ORDER_STATUS.name
    returns_topic: str = RETURNS.name
