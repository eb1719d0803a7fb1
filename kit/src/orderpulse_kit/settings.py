"""What every service is configured with; each service's `Settings` subclasses `ServiceSettings`
with its own environment prefix, group id, database and fields."""

from pathlib import Path
from typing import Literal

from pydantic import SecretStr
from pydantic_settings import BaseSettings

from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATIONS


class ServiceSettings(BaseSettings):
    """The broker, database, shops file, shared topics, HTTP and logging of one service."""

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str
    database_url: SecretStr
    """A secret: a PostgreSQL URL holds the password, which reprs and logs must not show."""
    migrate_on_start: bool = True
    """Off where a migrations step runs first (Kubernetes); then start-up only checks."""
    shops_file: Path = Path("deploy/shops.yaml")
    erasure_topic: str = ERASURE_REQUESTS.name
    notifications_topic: str = NOTIFICATIONS.name
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
