"""A Kafka record read as a CloudEvent of its topic's contract, parsed and validated once.

Both content modes of the CloudEvents Kafka protocol binding are read:
- structured: the value is the whole event as JSON (what our README shows);
- binary: the attributes are `ce_*` headers and the value is `data` alone (what the official
  CloudEvents SDKs' Kafka serializers write by default).
"""

import json
from typing import Any, TypeVar

from aiokafka import ConsumerRecord
from pydantic import TypeAdapter, ValidationError

E = TypeVar("E")

_CE = "ce_"
_CONTENT_TYPE = "content-type"


class Unreadable(Exception):
    """The record can never become an event of its topic: dead-letter it with this reason."""


def read(record: ConsumerRecord[Any, Any], contract: TypeAdapter[E]) -> E:
    """The event in `record`, or `Unreadable` saying why it is none (never anything else)."""
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
