"""What a service produces: plain data, so its pure core can build it without importing Kafka."""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Message:
    """An event to produce: its topic, its key (the order id) and its JSON-ready value."""

    topic: str
    key: str
    value: dict[str, Any]
