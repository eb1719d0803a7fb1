"""Reading a record as an event of its topic: both CloudEvents content modes, and every way of
being unreadable (the contract's time, key and size rules too) told as a reason, never raised as
anything else."""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import ConsumerRecord

from orderpulse_kit.cloudevents import Unreadable, read
from orderpulse_schemas import examples
from orderpulse_schemas.envelope import CLOCK_SKEW, EARLIEST_TIME, MAX_RECORD_BYTES
from orderpulse_schemas.topics import ERASURE_REQUESTS, ORDERS, Topic


def record(
    value: bytes | None,
    headers: list[tuple[str, bytes]] | None = None,
    *,
    key: bytes | None = b"ord-10045",
    topic: str = "orders.v1",
) -> Any:
    return ConsumerRecord(topic, 0, 0, 0, 0, key, value, None, 0, 0, headers or [])


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


def at(time: datetime) -> Any:
    return record(json.dumps({**ACCEPTED, "time": time.isoformat()}).encode())


def test_an_event_dated_within_the_clock_skew_is_read_beyond_it_refused() -> None:
    now = datetime.now(UTC)
    assert read(at(now + CLOCK_SKEW - timedelta(seconds=30)), ORDERS.events).id == ACCEPTED["id"]
    with pytest.raises(Unreadable, match=r"^dated in the future: time .* is 7 days, "):
        read(at(now + timedelta(days=7, seconds=1)), ORDERS.events)
    with pytest.raises(Unreadable, match="more than the 0:05:00 the contract tolerates"):
        read(at(now + CLOCK_SKEW + timedelta(seconds=30)), ORDERS.events)


def test_an_event_dated_before_the_fixed_earliest_time_is_refused() -> None:
    assert read(at(EARLIEST_TIME), ORDERS.events).time == EARLIEST_TIME
    with pytest.raises(Unreadable, match="before 2020-01-01, the earliest the contract accepts"):
        read(at(datetime(1970, 1, 1, tzinfo=UTC)), ORDERS.events)


@pytest.mark.parametrize("key", [b"ord-10046", b"kvetinac-cz", b"\xff"])
def test_a_record_keyed_other_than_by_its_subject_is_refused(key: bytes) -> None:
    keyed = record(json.dumps(ACCEPTED).encode(), key=key)
    with pytest.raises(Unreadable, match=r"^keyed '.*', not by its subject 'ord-10045'$"):
        read(keyed, ORDERS.events)


@pytest.mark.parametrize("key", [None, b""])
def test_a_record_without_a_key_is_read(key: bytes | None) -> None:
    keyless = record(json.dumps(ACCEPTED).encode(), key=key)
    assert read(keyless, ORDERS.events).id == ACCEPTED["id"]


@pytest.mark.parametrize("key", [b"kvetinac-cz", b"erasure-0117", b"ord-10045"])
def test_an_erasure_request_is_read_whatever_its_key(key: bytes) -> None:
    erasure = examples.load_bytes("erasure-requests.v1", "customer.erasure_requested")
    keyed = record(erasure, key=key, topic="erasure-requests.v1")
    assert read(keyed, ERASURE_REQUESTS.events).subject == "erasure-0117"


def test_a_value_over_the_size_limit_is_refused_before_it_is_parsed() -> None:
    padded = {**ACCEPTED, "padding": "x" * MAX_RECORD_BYTES}
    with pytest.raises(
        Unreadable, match=rf"^too large: \d+ bytes, the contract allows {MAX_RECORD_BYTES}$"
    ):
        read(record(json.dumps(padded).encode()), ORDERS.events)


@pytest.mark.parametrize(("topic", "name", "message"), list(examples.iter_examples()))
def test_every_example_is_read_from_a_record_keyed_as_the_catalogue_says(
    topic: Topic, name: str, message: dict[str, Any]
) -> None:
    key = message["shopid"] if topic is ERASURE_REQUESTS else message["subject"]
    keyed = record(examples.load_bytes(topic, name), key=key.encode(), topic=topic.name)
    assert read(keyed, topic.events).id == message["id"]
