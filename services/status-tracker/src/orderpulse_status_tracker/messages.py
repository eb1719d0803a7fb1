"""Outgoing messages: an event bound for a topic, keyed by its order, with a derived id."""

import uuid
from dataclasses import dataclass
from typing import Any

from orderpulse_schemas.envelope import CloudEvent

SOURCE = "/orderpulse/status-tracker"
_NAMESPACE = uuid.UUID("8a0b1c52-7f7e-4a57-9d6c-2f6f0d2a3b10")


def derived_id(*parts: str) -> str:
    """A deterministic id from the cause, so a replayed cause yields the very same message."""
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


@dataclass(frozen=True)
class Outgoing:
    """A message to publish once its cause is safely recorded; JSON-ready so it can be stored."""

    topic: str
    key: str
    value: dict[str, Any]

    @classmethod
    def of(cls, topic: str, event: CloudEvent) -> "Outgoing":
        """The event on `topic`, keyed by its order id."""
        return cls(topic, event.subject, event.model_dump(mode="json", exclude_none=True))
