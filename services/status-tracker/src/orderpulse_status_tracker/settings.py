"""Configuration from `TRACKER_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the tracker reads, writes and keeps its state."""

    model_config = SettingsConfigDict(env_prefix="TRACKER_")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str = "status-tracker"
    database_url: str = "sqlite+aiosqlite:///var/status-tracker.db"
    migrate_on_start: bool = True
    """Off where a migrations step runs first (Kubernetes); then start-up only checks."""
    shops_file: Path = Path("deploy/shops.yaml")
    orders_topic: str = "orders.v1"
    shipments_topic: str = "shipments.v1"
    erasure_topic: str = "erasure-requests.v1"
    outcomes_topic: str = "notification-outcomes.v1"
    order_status_topic: str = "order-status.v1"
    notifications_topic: str = "notifications.v1"
    timer_interval_seconds: float = 30.0
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    support_token: SecretStr | None = None
