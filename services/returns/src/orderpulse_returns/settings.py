"""Configuration from `RETURNS_*` environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the returns service reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="RETURNS_")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str = "returns"
    database_url: str = "sqlite+aiosqlite:///var/returns.db"
    order_status_topic: str = "order-status.v1"
    returns_topic: str = "returns.v1"
