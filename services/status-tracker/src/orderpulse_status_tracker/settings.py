"""Configuration from `TRACKER_*` environment variables."""

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the tracker reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str = "status-tracker"
    database_url: str = "sqlite+aiosqlite:///var/status-tracker.db"
    orders_topic: str = "orders.v1"
    order_status_topic: str = "order-status.v1"
    notifications_topic: str = "notifications.v1"
