"""A Kafka record read as a CloudEvent of its topic's contract, parsed and validated once.

Both content modes of the CloudEvents Kafka protocol binding are read:
- structured: the value is the whole event as JSON (what our README shows);
- binary: the attributes are `ce_*` headers and the value is `data` alone (what the official
  CloudEvents SDKs' Kafka serializers write by default).

A valid event is still unreadable where the contract's catalogue says so: a value over
`MAX_RECORD_BYTES`, a `time` beyond `CLOCK_SKEW` ahead of this consumer's clock or before
`EARLIEST_TIME`, a key that is not the `subject`. A record without a key (or an empty one) is
read: its event is whole, only its partition (its order among its order's events) was left to
chance.
"""

import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from pydantic import TypeAdapter, ValidationError

from orderpulse_schemas.envelope import CLOCK_SKEW, EARLIEST_TIME, MAX_RECORD_BYTES, CloudEvent

E = TypeVar("E")

_CE = "ce_"
_CONTENT_TYPE = "content-type"


class Unreadable(Exception):
    """The record can never become an event of its topic: dead-letter it with this reason."""


def read(record: ConsumerRecord[Any, Any], contract: TypeAdapter[E]) -> E:
    """The event in `record`, or `Unreadable` saying why it is none (never anything else)."""
    size = len(record.value or b"")
    if size > MAX_RECORD_BYTES:
        raise Unreadable(f"too large: {size} bytes, the contract allows {MAX_RECORD_BYTES}")
    event = _parsed(record, contract)
    if isinstance(event, CloudEvent):
        _placed(event, record.key)
    return event


def _placed(event: CloudEvent, key: bytes | None) -> None:
    """`Unreadable` unless the event is dated plausibly and keyed by its subject."""
    ahead = event.time - datetime.now(UTC)
    if ahead > CLOCK_SKEW:
        raise Unreadable(
            f"dated in the future: time {event.time.isoformat()} is {ahead} ahead of this "
            f"consumer's clock, more than the {CLOCK_SKEW} the contract tolerates"
        )
    if event.time < EARLIEST_TIME:
        raise Unreadable(
            f"dated too long ago: time {event.time.isoformat()} is before "
            f"{EARLIEST_TIME.date().isoformat()}, the earliest the contract accepts"
        )
    if event.keyed_by_subject and key and key != event.subject.encode():
        shown = key.decode(errors="replace")[:100]
        raise Unreadable(f"keyed {shown!r}, not by its subject {event.subject!r}")


def _parsed(record: ConsumerRecord[Any, Any], contract: TypeAdapter[E]) -> E:
    try:
        attributes = _binary_attributes(record.headers)
        if attributes is None:
            return contract.validate_json(record.value or b"")
        return contract.validate_python({**attributes, "data": json.loads(record.value or b"")})
    except ValidationError as error:
        raise Unreadable(_reason(error)) from None
    except UnicodeDecodeError as error:
        raise Unreadable(f"a ce_ header or content-type is not UTF-8: {error}") from None
    except (ValueError, RecursionError) as error:  # json: not JSON, too deep; headers: not UTF-8
        raise Unreadable(f"not valid JSON: {error}"[:1000]) from None


def _binary_attributes(headers: Any) -> dict[str, str] | None:
    """The event's attributes from `ce_*` headers, or None for a structured-mode record."""
    found = {name: value for name, value in headers or () if name.startswith(_CE)}
    if f"{_CE}specversion" not in found:
        return None
    attributes = {name[len(_CE) :]: value.decode() for name, value in found.items()}
    for name, value in headers:
        if name == _CONTENT_TYPE:
            attributes["datacontenttype"] = value.decode()
    return attributes


def _reason(error: ValidationError) -> str:
    problems = error.errors(include_url=False, include_context=False, include_input=False)
    if problems and problems[0]["type"] == "json_invalid":
        return f"not valid JSON: {problems[0]['msg']}"[:1000]
    listed = "; ".join(f"{'.'.join(map(str, p['loc'])) or '(root)'}: {p['msg']}" for p in problems)
    return f"does not match the contract: {listed}"[:1000]
