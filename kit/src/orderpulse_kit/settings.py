"""What every service is configured with; each service's `Settings` subclasses `ServiceSettings`
with its own environment prefix, group id, database and fields."""

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings

from orderpulse_kit.batch import Poll
from orderpulse_schemas.topics import ERASURE_REQUESTS, NOTIFICATIONS


class ServiceSettings(BaseSettings):
    """The broker, database, shops file, shared topics, HTTP and logging of one service."""

    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    group_id: str
    database_url: SecretStr
    """A secret: a PostgreSQL URL holds the password, which reprs and logs must not show."""
    migrate_on_start: bool = True
    """Off where a migrations step runs first (Kubernetes); then start-up only checks."""
    accept_new_database: bool = False
    """Start on a database that holds nothing even if the consumer group has consumed before:
    for one start after a deliberate reset (`orderpulse_kit.lost_database`), then unset again."""
    shops_file: Path = Path("deploy/shops.yaml")
    erasure_topic: str = ERASURE_REQUESTS.name
    notifications_topic: str = NOTIFICATIONS.name
    http_host: str = "0.0.0.0"
    http_port: int = 8080
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    poll_max_records: int = Field(default=2000, ge=1, le=10_000)
    """Records handled together: one read, one write transaction, one commit for them all."""
    poll_gather_ms: int = Field(default=50, ge=0, le=500)
    """How long the broker gathers records for a poll: fewer, fuller polls for up to this much
    latency per hop; 0 takes each record at once (`batch.Poll`)."""
    poll_timeout_ms: int = Field(default=20, ge=1, le=10_000)
    """How long an idle consumer waits for records; the longest a record arriving then waits
    (`batch.Poll`)."""

    @property
    def poll(self) -> Poll:
        """How much the consumer takes per poll."""
        return Poll(self.poll_max_records, self.poll_gather_ms, self.poll_timeout_ms)
