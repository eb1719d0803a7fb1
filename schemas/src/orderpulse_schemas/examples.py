"""Example messages, one per event type, that tell one coherent story per order.

`examples/<topic>/<type>.json` holds a whole CloudEvent; on `notifications.v1` there is one per
notice kind, `notification.requested.<kind>.json`. Every test tier replays them, so they must
stay valid: the schema tests check each against its topic's contract.
"""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from orderpulse_schemas.catalogue import get_topic
from orderpulse_schemas.topics import ALL_TOPICS, Topic

PACKAGED = Path(__file__).parent / "_examples"
"""Where the wheel puts them."""
REPOSITORY = Path(__file__).parents[2] / "examples"
"""Where they live in the repository (an editable install)."""


def directory() -> Path:
    """The examples directory: the packaged copy first, then the repository's."""
    for candidate in (PACKAGED, REPOSITORY):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no examples in {PACKAGED} nor in {REPOSITORY}")


def path(topic: Topic | str, event_type: str) -> Path:
    """The file of one example, e.g. `path("orders.v1", "order.accepted")`."""
    name = topic.name if isinstance(topic, Topic) else get_topic(topic).name
    file = directory() / name / f"{event_type}.json"
    if not file.is_file():
        raise FileNotFoundError(f"no example {name}/{event_type}.json in {directory()}")
    return file


def load(topic: Topic | str, event_type: str) -> dict[str, Any]:
    """One example message as a dict, e.g. `load("shipments.v1", "shipment.delayed")`."""
    message: dict[str, Any] = json.loads(path(topic, event_type).read_text(encoding="utf-8"))
    return message


def load_bytes(topic: Topic | str, event_type: str) -> bytes:
    """One example message as a producer sends it: compact JSON in UTF-8, the Kafka value."""
    compact = json.dumps(load(topic, event_type), ensure_ascii=False, separators=(",", ":"))
    return compact.encode()


def iter_examples() -> Iterator[tuple[Topic, str, dict[str, Any]]]:
    """Every example as (topic, file name without `.json`, message), by topic then name.

    To replay the stories in the order they happened, sort by the message's `time`.
    """
    root = directory()
    for topic in ALL_TOPICS:
        for file in sorted((root / topic.name).glob("*.json")):
            yield topic, file.stem, json.loads(file.read_text(encoding="utf-8"))
