"""Configuration from `RETURNS_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the returns service reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="RETURNS_")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str = "returns"
    database_url: str = "sqlite+aiosqlite:///var/returns.db"
    migrate_on_start: bool = True
    """Off where a migrations step runs first (Kubernetes); then start-up only checks."""
    shops_file: Path = Path("deploy/shops.yaml")
    order_status_topic: str = "order-status.v1"
    returns_topic: str = "returns.v1"
    erasure_topic: str = "erasure-requests.v1"
    notifications_topic: str = "notifications.v1"
    reminder_interval_seconds: float = 60.0
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
