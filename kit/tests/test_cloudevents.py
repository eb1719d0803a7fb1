"""Reading a record as an event of its topic: both CloudEvents content modes, and every way of
being unreadable told as a reason, never raised as anything else."""

import json
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from orderpulse_kit.cloudevents import Unreadable, read
from orderpulse_schemas import examples
from orderpulse_schemas.topics import ORDERS


def record(value: bytes | None, headers: list[tuple[str, bytes]] | None = None) -> Any:
    return ConsumerRecord("orders.v1", 0, 0, 0, 0, b"ord-10045", value, None, 0, 0, headers or [])


def binary(event: dict[str, Any]) -> Any:
    headers = [(f"ce_{k}", str(v).encode()) for k, v in event.items() if k != "data"]
    return record(json.dumps(event["data"]).encode(), headers)


ACCEPTED = examples.load("orders.v1", "order.accepted")


def test_structured_and_binary_modes_read_the_same_event() -> None:
    structured = read(record(json.dumps(ACCEPTED).encode()), ORDERS.events)
    assert read(binary(ACCEPTED), ORDERS.events) == structured


@pytest.mark.parametrize(
    ("value", "headers", "reason"),
    [
        (b"\xff not json", [], "not valid JSON"),
        (None, [], "not valid JSON"),
        (b"[" * 100_000, [], "not valid JSON"),
        (json.dumps({**ACCEPTED, "type": "order.lost"}).encode(), [], "does not match"),
        (b"{}", [("ce_specversion", b"1.0"), ("ce_id", b"\xff")], "not UTF-8"),
        (b"not json", [("ce_specversion", b"1.0")], "not valid JSON"),
    ],
)
def test_what_cannot_be_read_says_why(
    value: bytes | None, headers: list[tuple[str, bytes]], reason: str
) -> None:
    with pytest.raises(Unreadable, match=reason):
        read(record(value, headers), ORDERS.events)


def test_a_header_that_is_not_utf8_does_not_matter_in_structured_mode() -> None:
    traced = record(json.dumps(ACCEPTED).encode(), [("traceparent", b"\xff\xfe")])
    assert read(traced, ORDERS.events).id == ACCEPTED["id"]
