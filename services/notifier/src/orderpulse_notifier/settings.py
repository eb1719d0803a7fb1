"""Configuration from `NOTIFIER_*` environment variables."""

from pathlib import Path
from typing import Literal

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Where the notifier reads and writes, and which providers it uses."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_")

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str = "notifier"
    database_url: str = "sqlite+aiosqlite:///var/notifier.db"
    notifications_topic: str = "notifications.v1"
    outcomes_topic: str = "notification-outcomes.v1"
    shops_file: Path = Path("deploy/shops.yaml")
    template_overrides: Path | None = None
    email_backend: Literal["outbox"] = "outbox"
    sms_backend: Literal["outbox"] = "outbox"
    outbox_dir: Path = Path("var/outbox")
