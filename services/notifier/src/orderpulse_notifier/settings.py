"""Configuration from `NOTIFIER_*` environment variables; secrets only from the environment."""

from pathlib import Path
from typing import Literal

from pydantic import AnyHttpUrl, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from orderpulse_kit.settings import ServiceSettings
from orderpulse_schemas.topics import NOTIFICATION_OUTCOMES


class Settings(ServiceSettings):
    """Where the notifier reads and writes, which providers it uses, and how hard it tries."""

    model_config = SettingsConfigDict(env_prefix="NOTIFIER_")

    group_id: str = "notifier"
    erasure_group_id: str = "notifier-erasure"
    """The erasure consumer's own group: see `app.py` for why not `group_id`."""
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///var/notifier.db")
    outcomes_topic: str = NOTIFICATION_OUTCOMES.name
    template_overrides: Path | None = None
    public_url: AnyHttpUrl | None = None  # how providers reach this service, for receipts
    """How providers (receipts) and customers (stop links of review requests) reach us."""
    stop_link_secret: SecretStr | None = Field(default=None, min_length=32)
    """Signs review requests' stop links (HMAC-SHA256); a new one voids the links sent before."""
    stop_list_salt: SecretStr | None = Field(default=None, min_length=16)
    """Keys the hashes of who stopped review requests: set it once and keep it."""

    poll_max_records: int = Field(default=150, ge=1, le=10_000)
    """Requests per poll: a poll is sent before it is committed, so at a provider's rate limit
    (Twilio's 10/s by default) a smaller poll keeps each well inside Kafka's
    `max.poll.interval.ms` (5 min) and the lease. Each request in a poll under way holds 5 to
    10 KiB until it is committed, so this times `poll_overlap` is what a backlog holds at once:
    150 × 4 as 300 × 2 before (bench/notifier.py, 124 MiB at peak to the outbox and 136 MiB with
    the peers either way; 400 × 2 had been 4 MiB more, 500 × 2 another 4). On a backlog the
    smaller polls cost a little (to the outbox 1,299 against 1,423 notifications/s, 0.76 against
    0.69 ms of CPU each, one run each); see `poll_overlap` for what they bring."""
    poll_overlap: int = Field(default=4, ge=1, le=8)
    """Polls sent at once: the next poll is claimed and sent while the ones before wait for
    their last answers, so a poll's slowest send holds up no other (committed in the order
    read). With providers answering after 100 ms, a poll waits for its slowest chain of an
    order's messages: bench/pipeline.py's `latency-100ms` at 500 events/s, runs alternating on
    2026-12-04: four with four polls (of 150 or 300), 389–401 notifications/s and p99 1.9–2.3 s,
    against three with two of 300, 320–360 and 2.7–4.1 s; to the outbox no change (p99 349 and
    364 against 375 ms)."""
    max_in_flight: int = 400
    """Sends under way at once, over the polls under way (and so the SMTP and Twilio connections
    kept open). A provider answering after 100 ms holds each send that long: 200 capped the
    notifier at about 800 notifications/s, so `bench/notifier.py` on SQLite (2026-12-04, runs
    alternating) gave 762–808 with 100 ms peers against 946–983 with peers answering at once
    (0.81); 400: 926–970 against 943–950 (1.00; 0.91 in a second run); 500 and 600 no better
    for 3–8 MiB more of peak RSS (143–148 MiB)."""
    retry_attempts: int = 5
    retry_initial_seconds: float = 0.5
    retry_max_seconds: float = 10.0
    send_timeout_seconds: float = 20.0
    lease_seconds: float = 300.0
    """How long a claim stands without a live owner to vouch for it."""
    owner_timeout_seconds: float = Field(default=30.0, gt=0)
    """How long a notifier may be silent before its claims are taken for a dead one's: after a
    crash, the requests it was sending wait this long (it says it is alive every third of it)."""
    deferred_interval_seconds: float = 15.0

    email_backend: Literal["outbox", "ses", "smtp"] = "outbox"
    sms_backend: Literal["outbox", "twilio"] = "outbox"
    outbox_dir: Path = Path("var/outbox")

    ses_region: str | None = None
    ses_endpoint_url: AnyHttpUrl | None = None  # a local SES peer in tests
    ses_configuration_set: str | None = None  # publishes SES events to SNS, for receipts
    ses_max_send_rate: float = 14.0  # messages per second, the SES account's sending quota
    ses_sns_topic_arns: list[str] = Field(default_factory=list)
    """SNS topics whose SES events this service accepts."""

    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    smtp_max_send_rate: float | None = None

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: AnyHttpUrl | None = None  # a local Twilio peer in tests
    twilio_max_send_rate: float = 10.0  # messages per second

    @model_validator(mode="after")
    def _providers_configured(self) -> "Settings":
        """Choosing a provider without its settings fails at start, saying what is missing."""
        missing = []
        if self.email_backend == "ses" and not self.ses_region:
            missing.append("NOTIFIER_SES_REGION")
        if self.email_backend == "smtp" and not self.smtp_host:
            missing.append("NOTIFIER_SMTP_HOST")
        if self.sms_backend == "twilio":
            if not self.twilio_account_sid:
                missing.append("NOTIFIER_TWILIO_ACCOUNT_SID")
            if not self.twilio_auth_token:
                missing.append("NOTIFIER_TWILIO_AUTH_TOKEN")
        if missing:
            raise ValueError(f"the chosen providers need {', '.join(missing)}")
        return self
